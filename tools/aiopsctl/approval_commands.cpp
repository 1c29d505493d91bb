#include "approval_commands.hpp"

#include <iostream>

#include "remediation_format.hpp"

namespace aiopsctl {

namespace {

namespace v1 = aiops::v1;

int Fail(const grpc::Status& s, const std::string& action, const ClientOptions& o) {
  auto f = DescribeFailure(s, action, o);
  std::cerr << "aiopsctl: " << f.message << "\n";
  return f.exit_code;
}

int Usage(const std::string& message) {
  std::cerr << "aiopsctl: " << message << "\n";
  return kExitInvalidArgument;
}

}  // namespace

ApprovalCommands::ApprovalCommands(CLI::App& app) {
  app.fallthrough();
  auto* g = app.add_option_group("connection",
                                 "how to reach the approver (list, get, approve, "
                                 "reject, watch)");
  g->add_option("--server,-s", flags_.server,
                "approver gRPC address host:port (default: $AIOPS_SERVER, config file, " +
                    std::string(kDefaultServer) + ")");
  g->add_option("--token", flags_.token,
                "bearer token (default: $AIOPS_TOKEN or the config file; prefer those, a flag "
                "shows in the process list)");
  g->add_option("--token-file", flags_.token_file, "read the bearer token from this file");
  g->add_flag("--tls", flags_.tls, "use TLS (implied by --ca-file)");
  g->add_option("--ca-file", flags_.ca_file,
                "PEM CA bundle that signed the approver's certificate");
  g->add_option("--aiops-config", flags_.config_file,
                "client config file (default: $AIOPS_CONFIG or ~/.config/aiops/config.yaml)");
  g->add_option("--request-timeout", flags_.timeout_s,
                "seconds to wait for an answer (not for watch)")
      ->check(CLI::PositiveNumber);

  auto output = [this](CLI::App* cmd, std::vector<std::string> formats) {
    std::string help = "output format: ";
    for (size_t i = 0; i < formats.size(); ++i)
      help += (i ? "|" : "") + formats[i];
    cmd->add_option("-o,--output", output_, help)->check(CLI::IsMember(formats));
  };

  list_ = app.add_subcommand("list",
                             "list remediations: ID, AGE, CLUSTER, NAMESPACE, WORKLOAD, "
                             "PROBLEM, STATE, RISK, SOURCE");
  list_->add_option("--state", states_, "only these states (repeatable), e.g. ReadyForReview");
  list_->add_option("--cluster", cluster_, "only this cluster");
  list_->add_option("--namespace,-n", namespace_, "only this namespace");
  list_->add_option("--limit", limit_, "show at most this many")->check(CLI::PositiveNumber);
  output(list_, {"text", "json"});

  get_ = app.add_subcommand("get",
                            "show one remediation: evidence, proposal with its patches "
                            "as YAML, approvals, decisions, executions, history");
  get_->add_option("id", id_, "remediation id")->required();
  output(get_, {"text", "json", "yaml"});

  approve_ = app.add_subcommand(
      "approve",
      "approve a remediation as the token's identity; returns once the decision is "
      "on aiops.decisions (or the approval recorded when policy needs another)");
  approve_->add_option("id", id_, "remediation id")->required();
  approve_->add_option("-m,--message", message_, "comment recorded with the approval");
  output(approve_, {"text", "json"});

  reject_ = app.add_subcommand("reject", "reject a remediation, with the reason");
  reject_->add_option("id", id_, "remediation id")->required();
  reject_->add_option("-m,--message", message_, "why (required)")->required();
  output(reject_, {"text", "json"});

  watch_ = app.add_subcommand("watch",
                              "print every change of a remediation as it happens "
                              "(Ctrl-C to stop)");
  watch_->add_option("--state", states_, "only changes into these states (repeatable)");
  watch_->add_option("--cluster", cluster_, "only this cluster");
  watch_->add_option("--namespace,-n", namespace_, "only this namespace");
  watch_->add_flag("--existing,-A", include_existing_, "first print every existing remediation");
  watch_->add_option("--max", max_events_, "stop after this many events")
      ->check(CLI::PositiveNumber);
  output(watch_, {"text", "json"});
}

std::optional<int> ApprovalCommands::Run() {
  CLI::App* chosen = nullptr;
  for (auto* c : {list_, get_, approve_, reject_, watch_}) {
    if (c->parsed()) chosen = c;
  }
  if (chosen == nullptr) return std::nullopt;
  ClientOptions o;
  try {
    o = ResolveClientOptions(flags_);
  } catch (const std::exception& e) {
    return Usage(e.what());
  }
  try {
    if (chosen == list_) return List(o);
    if (chosen == get_) return Get(o);
    if (chosen == approve_) return Approve(o);
    if (chosen == reject_) return Reject(o);
    return Watch(o);
  } catch (const std::exception& e) {
    std::cerr << "aiopsctl: " << e.what() << "\n";
    return kExitError;
  }
}

static bool BuildFilter(const std::vector<std::string>& states, const std::string& cluster,
                        const std::string& ns, v1::RemediationFilter* f, std::string* error) {
  for (const auto& s : states) {
    auto st = ParseStateText(s);
    if (!st) {
      *error = "unknown state '" + s +
               "' (Detected, Diagnosing, Proposed, ReadyForReview, Approved, Applying, Applied, "
               "Verified, Rejected, Expired, Failed, RolledBack)";
      return false;
    }
    f->add_states(*st);
  }
  f->set_cluster(cluster);
  f->set_namespace_(ns);
  return true;
}

int ApprovalCommands::List(const ClientOptions& o) {
  v1::ListRemediationsRequest req;
  std::string error;
  if (!BuildFilter(states_, cluster_, namespace_, req.mutable_filter(), &error))
    return Usage(error);
  auto stub = MakeStub(o);
  std::vector<v1::Remediation> all;
  req.set_page_size(500);
  while (true) {
    v1::ListRemediationsResponse resp;
    auto s = stub->ListRemediations(MakeContext(o).get(), req, &resp);
    if (!s.ok()) return Fail(s, "list", o);
    for (auto& r : *resp.mutable_remediations())
      all.push_back(std::move(r));
    if (resp.next_page_token().empty() || (limit_ > 0 && static_cast<long>(all.size()) >= limit_))
      break;
    req.set_page_token(resp.next_page_token());
  }
  if (limit_ > 0 && static_cast<long>(all.size()) > limit_) all.resize(limit_);
  if (output_ == "json") {
    std::cout << ToJsonArray(all) << std::endl;
  } else if (all.empty()) {
    std::cout << "No remediations." << std::endl;
  } else {
    std::cout << FormatTable(all, std::chrono::system_clock::now()) << std::flush;
  }
  return kExitOk;
}

int ApprovalCommands::Get(const ClientOptions& o) {
  v1::GetRemediationRequest req;
  req.set_id(id_);
  v1::Remediation r;
  auto s = MakeStub(o)->GetRemediation(MakeContext(o).get(), req, &r);
  if (!s.ok()) return Fail(s, "get " + id_, o);
  if (output_ == "json") {
    std::cout << ToJson(r) << std::endl;
  } else if (output_ == "yaml") {
    std::cout << ToYaml(r) << std::flush;
  } else {
    std::cout << FormatSummary(r, std::chrono::system_clock::now()) << std::flush;
  }
  return kExitOk;
}

int ApprovalCommands::Approve(const ClientOptions& o) {
  v1::ApproveRequest req;
  req.set_id(id_);
  req.set_comment(message_);
  v1::ApproveResponse resp;
  auto s = MakeStub(o)->Approve(MakeContext(o).get(), req, &resp);
  if (!s.ok()) return Fail(s, "approve " + id_, o);
  if (output_ == "json") {
    std::cout << ToJson(resp) << std::endl;
  } else if (resp.decided()) {
    std::cout << id_ << " approved (" << StateText(resp.remediation().state())
              << "); the decision is on aiops.decisions" << std::endl;
  } else {
    std::cout << id_ << " approval recorded; still needs " << resp.pending() << std::endl;
  }
  return kExitOk;
}

int ApprovalCommands::Reject(const ClientOptions& o) {
  v1::RejectRequest req;
  req.set_id(id_);
  req.set_reason(message_);
  v1::RejectResponse resp;
  auto s = MakeStub(o)->Reject(MakeContext(o).get(), req, &resp);
  if (!s.ok()) return Fail(s, "reject " + id_, o);
  if (output_ == "json") {
    std::cout << ToJson(resp) << std::endl;
  } else {
    std::cout << id_ << " rejected" << std::endl;
  }
  return kExitOk;
}

int ApprovalCommands::Watch(const ClientOptions& o) {
  v1::WatchRemediationsRequest req;
  std::string error;
  if (!BuildFilter(states_, cluster_, namespace_, req.mutable_filter(), &error))
    return Usage(error);
  req.set_include_existing(include_existing_);
  ClientOptions no_deadline = o;
  no_deadline.timeout_s = 0;
  auto stub = MakeStub(o);
  auto ctx = MakeContext(no_deadline);
  auto reader = stub->WatchRemediations(ctx.get(), req);
  v1::RemediationEvent ev;
  long n = 0;
  while (reader->Read(&ev)) {
    if (output_ == "json") {
      std::cout << ToJson(ev, false) << std::endl;
    } else {
      std::cout << FormatEvent(ev) << std::endl;
    }
    if (max_events_ > 0 && ++n >= max_events_) {
      ctx->TryCancel();
      while (reader->Read(&ev)) {
      }
      reader->Finish();
      return kExitOk;
    }
  }
  auto s = reader->Finish();
  if (!s.ok()) return Fail(s, "watch", o);
  return kExitOk;
}

}  // namespace aiopsctl
