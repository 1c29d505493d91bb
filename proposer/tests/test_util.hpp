// Helpers shared by the proposer unit tests: fixtures taken from the kube-sim scenarios.
#pragma once

#include <string>

#include "proposer/evidence_io.hpp"
#include "proposer/runbook.hpp"

namespace aiops::proposer::testing {

inline v1::Evidence Fixture(const std::string& name) {
  return LoadEvidenceJson(std::string(PROPOSER_FIXTURES_DIR) + "/" + name + ".json");
}

inline const RunbookSet& ShippedRunbooks() {
  static const RunbookSet set = RunbookSet::LoadDir(AIOPS_RUNBOOKS_DIR);
  return set;
}

}  // namespace aiops::proposer::testing
