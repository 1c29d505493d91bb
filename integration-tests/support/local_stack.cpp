#include "local_stack.hpp"

#include <csignal>
#include <filesystem>
#include <sstream>

#include "aiops/kube/credentials.hpp"

namespace aiops::testing {

using namespace std::chrono_literals;

std::string Field(const Json& j, std::initializer_list<const char*> path) {
  const Json* cur = &j;
  for (const char* p : path) {
    if (!cur->is_object() || !cur->contains(p)) return "";
    cur = &(*cur)[p];
  }
  return cur->is_string() ? cur->get<std::string>() : cur->dump();
}

std::string Namespace(const Json& r) {
  std::string ns = Field(r, {"workload", "namespace"});
  return ns.empty() ? Field(r, {"workload", "namespace_"}) : ns;
}

std::string WorkloadKey(const Json& r) {
  return Namespace(r) + "/" + Field(r, {"workload", "name"});
}

bool TerminalState(const std::string& s) {
  return s == "REMEDIATION_STATE_VERIFIED" || s == "REMEDIATION_STATE_FAILED" ||
         s == "REMEDIATION_STATE_ROLLED_BACK" || s == "REMEDIATION_STATE_REJECTED" ||
         s == "REMEDIATION_STATE_EXPIRED";
}

LocalStack::LocalStack(std::vector<std::string> extra, const std::string& scenario,
                       const std::string& speed) {
  std::vector<std::string> argv = {Bin("aiops-local"), "up",          "--dir",      dir_.path(),
                                   "--scenario",       scenario,      "--speed",    speed,
                                   "--grpc-listen",    "127.0.0.1:0", "--identity", "tester"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  launcher_ = std::make_unique<Subprocess>(argv);
}

LocalStack::~LocalStack() {
  if (launcher_->Running()) launcher_->Stop(SIGTERM, 60s);
}

bool LocalStack::WaitUp() {
  return PollUntil([&] { return !ReadFile(File("approver.addr")).empty() || !Running(); }, 180s,
                   100ms) &&
         Running();
}

bool LocalStack::Running() {
  return launcher_->Running();
}

std::string LocalStack::Bootstrap() const {
  std::string b = ReadFile(File("bootstrap"));
  while (!b.empty() && (b.back() == '\n' || b.back() == '\r'))
    b.pop_back();
  return b;
}

int LocalStack::Ctl(const std::string& args, std::string* out) const {
  return RunCommand(Bin("aiopsctl") + " --local-dir " + dir_.path() + " " + args + " 2>&1", out);
}

Json LocalStack::List() const {
  std::string out;
  if (Ctl("list -o json", &out) != 0) return Json::array();
  auto j = Json::parse(out, nullptr, false);
  return j.is_array() ? j : Json::array();
}

Json LocalStack::Find(const std::string& ns, const std::string& name) const {
  Json found;
  for (const auto& r : List()) {
    if (Namespace(r) == ns && Field(r, {"workload", "name"}) == name) found = r;
  }
  return found;
}

std::string LocalStack::StateOf(const std::string& ns, const std::string& name) const {
  return Field(Find(ns, name), {"state"});
}

bool LocalStack::WaitState(const std::string& ns, const std::string& name, const std::string& state,
                           std::chrono::milliseconds timeout) const {
  return PollUntil([&] { return StateOf(ns, name) == state; }, timeout, 250ms);
}

std::vector<Json> LocalStack::Audit(const std::string& id, const std::string& topic) const {
  std::string out;
  std::string args = "audit --from-beginning -o json --timeout 60" +
                     (id.empty() ? "" : " --id " + id) + (topic.empty() ? "" : " --topic " + topic);
  std::vector<Json> records;
  if (Ctl(args, &out) != 0) return records;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    auto j = Json::parse(line, nullptr, false);
    if (j.is_object()) records.push_back(j);
  }
  return records;
}

std::map<std::string, ProcessInfo> LocalStack::Processes() const {
  std::map<std::string, ProcessInfo> out;
  std::istringstream in(ReadFile(File("processes")));
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    std::string name, http;
    ProcessInfo p;
    ls >> name >> p.pid >> http;
    if (http.rfind("http=", 0) == 0) p.http = http.substr(5);
    if (!name.empty()) out[name] = p;
  }
  return out;
}

aiops::kube::Client LocalStack::Kube() const {
  return aiops::kube::Client(aiops::kube::LoadKubeconfig(File("kubeconfig")));
}

Json LocalStack::Deployment(const std::string& ns, const std::string& name) const {
  auto r = Kube().Get("/apis/apps/v1/namespaces/" + ns + "/deployments/" + name);
  return r.ok() ? r.value() : Json();
}

bool LocalStack::Healthy(const std::string& ns, const std::string& name) const {
  Json d = Deployment(ns, name);
  if (!d.is_object()) return false;
  auto num = [&](const char* k) { return d["status"].value(k, 0); };
  int want = d["spec"].value("replicas", 1);
  return d["status"].value("observedGeneration", 0) == d["metadata"].value("generation", -1) &&
         num("updatedReplicas") == want && num("availableReplicas") == want &&
         num("replicas") == want;
}

std::string LocalStack::Logs() const {
  std::string all = "--- aiops-local\n" + launcher_->Output();
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir_.path() + "/logs", ec)) {
    std::string text = ReadFile(e.path().string());
    if (text.size() > 6000) text = "..." + text.substr(text.size() - 6000);
    all += "\n--- " + e.path().filename().string() + "\n" + text;
  }
  return all;
}

}  // namespace aiops::testing
