// aiopsctl: the operator's command line. `audit` reads the audit trail from Kafka; the
// approval subcommands (list, get, approve, reject, watch) talk to the approver over gRPC.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "aiops/kafka_reader.hpp"
#include "aiops/topics.hpp"
#include "approval_commands.hpp"
#include "audit.hpp"

namespace {

struct AuditOptions {
  std::string bootstrap;
  std::string bootstrap_file;
  bool from_beginning = false;
  bool follow = false;
  std::string id;
  long max = 0;
  std::string output = "text";
  int timeout_s = 60;
  std::vector<std::string> topics;
};

std::string ResolveBootstrap(const AuditOptions& o) {
  if (!o.bootstrap.empty()) return o.bootstrap;
  if (!o.bootstrap_file.empty()) {
    std::ifstream in(o.bootstrap_file);
    std::string line;
    if (!in || !std::getline(in, line) || line.empty()) {
      throw std::runtime_error("cannot read a bootstrap address from " + o.bootstrap_file);
    }
    return line;
  }
  if (const char* env = std::getenv("AIOPS_KAFKA_BOOTSTRAP"); env != nullptr && *env != '\0') {
    return env;
  }
  throw std::runtime_error(
      "no Kafka address: pass --bootstrap, --bootstrap-file or set "
      "AIOPS_KAFKA_BOOTSTRAP");
}

int RunAudit(const AuditOptions& o) {
  aiops::kafka::KafkaConfig config;
  config.bootstrap = ResolveBootstrap(o);
  config.client_id = "aiopsctl";
  config.properties["log_level"] = "3";  // keep librdkafka's own chatter off the terminal
  auto topics = o.topics.empty() ? aiops::topics::All() : o.topics;
  aiops::kafka::TopicReader reader(config, topics, o.from_beginning);
  auto format = o.output == "json" ? aiopsctl::OutputFormat::kJson : aiopsctl::OutputFormat::kText;

  long printed = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o.timeout_s);
  while (true) {
    if (auto m = reader.Next(std::chrono::milliseconds(200))) {
      if (!o.id.empty() && m->key != o.id) continue;
      std::cout << aiopsctl::FormatAuditRecord(*m, format) << std::endl;
      if (o.max > 0 && ++printed >= o.max) return 0;
      continue;
    }
    if (o.follow) continue;
    if (reader.CaughtUp()) return 0;
    // Not caught up yet: joining the group takes a few seconds; give up only at the deadline.
    if (std::chrono::steady_clock::now() > deadline) {
      std::cerr << "aiopsctl audit: did not reach the end of the topics within " << o.timeout_s
                << " s";
      if (!reader.last_error().empty()) std::cerr << " (last error: " << reader.last_error() << ")";
      std::cerr << "; is Kafka at " << config.bootstrap << " reachable?\n";
      return 1;
    }
  }
}

std::string FirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (in) std::getline(in, line);
  return line;
}

// --local-dir DIR: what aiops-local wrote. Explicit --server/--token/--bootstrap flags still
// win; the directory takes the place of the environment variables.
int UseLocalDir(const std::string& dir, bool approval, AuditOptions* audit) {
  if (!approval) {
    if (audit->bootstrap.empty() && audit->bootstrap_file.empty()) {
      audit->bootstrap_file = dir + "/bootstrap";
    }
    return 0;
  }
  std::string addr = FirstLine(dir + "/approver.addr");
  if (addr.empty()) {
    std::cerr << "aiopsctl: no " << dir << "/approver.addr: is `aiops-local up --dir " << dir
              << "` running? (it writes the file once the approver serves)\n";
    return aiopsctl::kExitUnavailable;
  }
  std::string token = FirstLine(dir + "/token");
  if (token.empty()) {
    std::cerr << "aiopsctl: cannot read a token from " << dir << "/token\n";
    return aiopsctl::kExitAuth;
  }
  ::setenv("AIOPS_SERVER", addr.c_str(), 1);
  ::setenv("AIOPS_TOKEN", token.c_str(), 1);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("aiopsctl: inspect and decide AIOps remediations", "aiopsctl");
  app.require_subcommand(1);

  AuditOptions audit;
  auto* cmd = app.add_subcommand(
      "audit",
      "print every message on the aiops.* topics, one line each (the audit trail); reads "
      "with its own consumer group and never disturbs the services");
  cmd->add_option("--bootstrap,-b", audit.bootstrap,
                  "Kafka bootstrap servers (default: $AIOPS_KAFKA_BOOTSTRAP)");
  cmd->add_option("--bootstrap-file", audit.bootstrap_file,
                  "read the bootstrap address from this file (aiops-devbroker --bootstrap-file)");
  cmd->add_flag("--from-beginning", audit.from_beginning,
                "start at the oldest retained message instead of new messages only");
  cmd->add_flag("--follow,-f", audit.follow, "keep printing new messages until interrupted");
  cmd->add_option("--id", audit.id, "only messages of this remediation id");
  cmd->add_option("--max", audit.max, "stop after printing this many messages")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("-o,--output", audit.output, "text or json (one JSON object per line)")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->add_option("--topic", audit.topics, "read only this topic (repeatable; default: all)");
  cmd->add_option("--timeout", audit.timeout_s,
                  "without --follow: give up if the end is not reached in this many seconds")
      ->check(CLI::PositiveNumber);

  std::string local_dir;
  app.add_option("--local-dir", local_dir,
                 "use the stack `aiops-local up --dir DIR` runs: the approver address "
                 "(DIR/approver.addr), the token (DIR/token) and, for audit, DIR/bootstrap");

  aiopsctl::ApprovalCommands approval(app);

  CLI11_PARSE(app, argc, argv);
  if (!local_dir.empty()) {
    if (int rc = UseLocalDir(local_dir, !cmd->parsed(), &audit); rc != 0) return rc;
  }
  if (auto rc = approval.Run()) return *rc;
  try {
    if (cmd->parsed()) return RunAudit(audit);
  } catch (const std::exception& e) {
    std::cerr << "aiopsctl: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
