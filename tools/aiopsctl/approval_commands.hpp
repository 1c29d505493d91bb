// The approval subcommands of aiopsctl (list, get, approve, reject, watch): gRPC calls to
// the approver's Approval service.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

#include "client.hpp"

namespace aiopsctl {

class ApprovalCommands {
 public:
  // Adds the connection flags to `app` and the five subcommands.
  explicit ApprovalCommands(CLI::App& app);
  // Runs the chosen subcommand; nullopt when none of these was chosen.
  std::optional<int> Run();

 private:
  int List(const ClientOptions& o);
  int Get(const ClientOptions& o);
  int Approve(const ClientOptions& o);
  int Reject(const ClientOptions& o);
  int Watch(const ClientOptions& o);

  ClientFlags flags_;
  CLI::App* list_ = nullptr;
  CLI::App* get_ = nullptr;
  CLI::App* approve_ = nullptr;
  CLI::App* reject_ = nullptr;
  CLI::App* watch_ = nullptr;

  std::string output_ = "text";
  std::vector<std::string> states_;
  std::string cluster_;
  std::string namespace_;
  long limit_ = 0;
  std::string id_;
  std::string message_;
  bool include_existing_ = false;
  long max_events_ = 0;
};

}  // namespace aiopsctl
