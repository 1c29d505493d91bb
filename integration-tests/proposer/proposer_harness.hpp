// Starts the real processes of the proposer integration tests: aiops-devbroker,
// scripted-llm-server (the LLM test double) and aiops-proposer, and reads what the proposer
// publishes.
#pragma once

#include <httplib.h>

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "aiops/kafka_producer.hpp"
#include "aiops/kafka_reader.hpp"
#include "aiops/topics.hpp"
#include "aiops/v1/evidence.pb.h"
#include "aiops/v1/proposal.pb.h"
#include "devbroker.hpp"
#include "proposer/evidence_io.hpp"
#include "subprocess.hpp"

namespace aiops::testing {

inline kafka::KafkaConfig ItConfig(const std::string& bootstrap) {
  kafka::KafkaConfig c;
  c.bootstrap = bootstrap;
  c.group_id = "it-proposer-reader";
  return c;
}

// An evidence fixture (mirroring a kube-sim scenario) renamed to another workload and
// remediation id, so each test case has its own incident.
inline v1::Evidence EvidenceFixture(const std::string& fixture, const std::string& workload = "",
                                    const std::string& rid = "") {
  auto e = proposer::LoadEvidenceJson(std::string(PROPOSER_FIXTURES_DIR) + "/" + fixture + ".json");
  if (!workload.empty()) {
    e.mutable_anomaly()->mutable_workload()->set_name(workload);
    auto w = nlohmann::json::parse(e.workload_json());
    w["metadata"]["name"] = workload;
    e.set_workload_json(w.dump());
  }
  if (!rid.empty()) {
    e.mutable_envelope()->set_remediation_id(rid);
    e.mutable_anomaly()->mutable_envelope()->set_remediation_id(rid);
  }
  return e;
}

class ScriptedLlm {
 public:
  // `fixtures_dir`: the scripted answers (default: this suite's fixtures/llm).
  explicit ScriptedLlm(const std::string& fixtures_dir = std::string(PROPOSER_IT_DIR) +
                                                         "/fixtures/llm") {
    proc_ = std::make_unique<Subprocess>(std::vector<std::string>{
        Bin("scripted-llm-server"), "--listen", "127.0.0.1:0", "--fixtures", fixtures_dir});
    if (!proc_->WaitForOutput("listening on http://", std::chrono::seconds(30))) return;
    std::string out = proc_->Output();
    auto at = out.find("listening on http://") + std::string("listening on http://").size();
    std::string addr = out.substr(at, out.find_first_of(" \n", at) - at);
    url_ = "http://" + addr;
    port_ = std::stoi(addr.substr(addr.rfind(':') + 1));
  }
  const std::string& url() const { return url_; }
  bool ok() const { return port_ > 0; }
  Subprocess& process() { return *proc_; }
  // Every request the double received.
  nlohmann::json Requests() {
    httplib::Client c("127.0.0.1", port_);
    auto r = c.Get("/_test/requests");
    if (!r || r->status != 200) return nlohmann::json::array();
    return nlohmann::json::parse(r->body);
  }
  std::vector<nlohmann::json> RequestsFor(const std::string& fixture) {
    std::vector<nlohmann::json> out;
    for (const auto& r : Requests()) {
      if (r.value("fixture", "") == fixture) out.push_back(r);
    }
    return out;
  }

 private:
  std::unique_ptr<Subprocess> proc_;
  std::string url_;
  int port_ = 0;
};

class ProposerProcess {
 public:
  ProposerProcess(const std::string& bootstrap, std::vector<std::string> sets) {
    http_port_ = FreePort();
    std::vector<std::string> argv = {Bin("aiops-proposer"),
                                     "--kafka-bootstrap",
                                     bootstrap,
                                     "--http-listen",
                                     "127.0.0.1:" + std::to_string(http_port_),
                                     "--set",
                                     "proposer.runbooks_dir=" + std::string(AIOPS_RUNBOOKS_DIR)};
    for (auto& s : sets) {
      argv.push_back("--set");
      argv.push_back(s);
    }
    proc_ = std::make_unique<Subprocess>(argv);
    ready_ = proc_->WaitForOutput("aiops-proposer ready", std::chrono::seconds(30));
  }
  bool ready() const { return ready_; }
  Subprocess& process() { return *proc_; }
  int HttpStatus(const std::string& path, std::string* body = nullptr) {
    httplib::Client c("127.0.0.1", http_port_);
    c.set_read_timeout(10, 0);
    auto r = c.Get(path.c_str());
    if (!r) return 0;
    if (body != nullptr) *body = r->body;
    return r->status;
  }

 private:
  std::unique_ptr<Subprocess> proc_;
  int http_port_ = 0;
  bool ready_ = false;
};

// Reads aiops.proposals and aiops.deadletter from the beginning, indexed by key.
class TopicsSeen {
 public:
  explicit TopicsSeen(const std::string& bootstrap)
      : reader_(ItConfig(bootstrap), {topics::kProposals, topics::kDeadLetter}, true) {}

  // Waits until `count` proposals for `rid` arrived.
  std::vector<v1::Proposal> Proposals(const std::string& rid, size_t count = 1,
                                      std::chrono::seconds timeout = std::chrono::seconds(90)) {
    PollUntil([&] { return Drain() && proposals_[rid].size() >= count; }, timeout,
              std::chrono::milliseconds(1));
    return proposals_[rid];
  }
  std::vector<kafka::Message> DeadLetters(const std::string& key, size_t count = 1) {
    PollUntil([&] { return Drain() && dead_[key].size() >= count; }, std::chrono::seconds(90),
              std::chrono::milliseconds(1));
    return dead_[key];
  }

 private:
  bool Drain() {
    while (auto m = reader_.Next(std::chrono::milliseconds(100))) {
      if (m->topic == topics::kProposals) {
        v1::Proposal p;
        if (p.ParseFromString(m->payload)) proposals_[m->key].push_back(p);
      } else {
        dead_[m->key].push_back(*m);
      }
    }
    return true;
  }
  kafka::TopicReader reader_;
  std::map<std::string, std::vector<v1::Proposal>> proposals_;
  std::map<std::string, std::vector<kafka::Message>> dead_;
};

inline void Publish(kafka::Producer& producer, const v1::Evidence& e) {
  auto d = producer.PublishAndWait(topics::kEvidence, e.envelope().remediation_id(), e,
                                   std::chrono::seconds(30));
  if (!d.ok) throw std::runtime_error("publish failed: " + d.error);
}

}  // namespace aiops::testing
