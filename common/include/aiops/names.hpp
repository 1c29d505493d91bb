// One spelling for enum values wherever people see them (logs, metrics labels, aiopsctl,
// policy and runbook files): failure classes as "image-pull", risks as "low". Parsers accept
// every spelling in use ("image-pull", "image_pull", "IMAGE_PULL", "FAILURE_CLASS_IMAGE_PULL").
#pragma once

#include <optional>
#include <string>

#include "aiops/v1/envelope.pb.h"

namespace aiops {

std::string FailureClassName(v1::FailureClass c);  // "unspecified" for 0
std::optional<v1::FailureClass> ParseFailureClass(const std::string& text);
std::string RiskName(v1::RiskLevel r);  // "unspecified" for 0
std::optional<v1::RiskLevel> ParseRisk(const std::string& text);

}  // namespace aiops
