// Pods of unexpected shapes in the cluster: kube-sim with --no-simulation serves exactly what
// the test writes (POST the pod, PUT its status), and `aiops-local up --kubeconfig` runs the
// pipeline against it. Odd pods must be skipped or reported with a reason; the detector and
// collector must not crash or hang: a genuine OOM-killed pod created after them is still
// announced and its evidence collected.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include "aiops/kafka_reader.hpp"
#include "aiops/topics.hpp"
#include "aiops/v1/anomaly.pb.h"
#include "aiops/v1/evidence.pb.h"
#include "local_stack.hpp"
#include "metrics_probe.hpp"

using namespace aiops;
using namespace aiops::testing;
using namespace std::chrono_literals;

namespace {

std::string NowRfc3339() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// kube-sim serving the API only: no kubelet rewrites the statuses the test puts.
class ApiOnlyKubeSim {
 public:
  ApiOnlyKubeSim() {
    kubeconfig_ = dir_.File("kubeconfig");
    proc_ = std::make_unique<Subprocess>(
        std::vector<std::string>{Bin("kube-sim"), "--no-simulation", "--listen", "127.0.0.1:0",
                                 "--kubeconfig-out", kubeconfig_});
    const std::string marker = "kube-sim listening on ";
    if (!proc_->WaitForOutput(marker, 60s)) throw std::runtime_error(proc_->Output());
    std::string out = proc_->Output();
    auto at = out.find(marker) + marker.size();
    url_ = out.substr(at, out.find_first_of(" \r\n", at) - at);
  }
  const std::string& kubeconfig() const { return kubeconfig_; }

  // METHOD url_+path with a JSON body; returns the HTTP status (0: no answer).
  int Send(const std::string& method, const std::string& path, const Json& body) {
    std::string file = dir_.File("body.json");
    std::ofstream(file) << body.dump();
    std::string out;
    RunCommand("curl -s -o /dev/null -w '%{http_code}' --max-time 60 -X " + method +
                   " -H 'Content-Type: application/json' --data-binary @" + file + " " + url_ +
                   path,
               &out);
    return std::atoi(out.c_str());
  }
  // Creates a pod and, unless `status` is null, puts that status; returns the worse code.
  int Pod(const std::string& ns, Json pod, const Json& status) {
    std::string name = pod["metadata"]["name"];
    pod["metadata"]["namespace"] = ns;
    int code = Send("POST", "/api/v1/namespaces/" + ns + "/pods", pod);
    if (code / 100 != 2 || status.is_null()) return code;
    Json put = {{"metadata", {{"name", name}}}, {"status", status}};
    return Send("PUT", "/api/v1/namespaces/" + ns + "/pods/" + name + "/status", put);
  }

 private:
  TempDir dir_;
  std::string kubeconfig_, url_;
  std::unique_ptr<Subprocess> proc_;
};

Json PodNamed(const std::string& name, Json extra_meta = Json::object()) {
  Json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", name}}},
              {"spec", {{"containers", {{{"name", "c"}, {"image", "nginx:1.27"}}}}}}};
  for (auto& [k, v] : extra_meta.items())
    pod["metadata"][k] = v;
  return pod;
}

Json Waiting(const std::string& reason, const std::string& message = "") {
  return {{"phase", "Pending"},
          {"containerStatuses",
           {{{"name", "c"},
             {"ready", false},
             {"restartCount", 3},
             {"image", "nginx:1.27"},
             {"state", {{"waiting", {{"reason", reason}, {"message", message}}}}}}}}};
}

Json ControllerRef(const std::string& api, const std::string& kind, const std::string& name) {
  return Json::array({{{"apiVersion", api},
                       {"kind", kind},
                       {"name", name},
                       {"uid", "u-" + name},
                       {"controller", true}}});
}

struct OddPod {
  std::string name;
  Json pod;
  Json status;  // null: no status at all
};

std::vector<OddPod> OddPods() {
  const std::string big(100 * 1024, 'x');
  std::vector<OddPod> out;
  out.push_back({"statuses-object",
                 PodNamed("statuses-object"),
                 {{"phase", "Running"},
                  {"containerStatuses",
                   {{"name", "c"}, {"state", {{"waiting", {{"reason", "CrashLoopBackOff"}}}}}}}}});
  out.push_back({"no-status", PodNamed("no-status"), nullptr});
  out.push_back({"unknown-state-keys",
                 PodNamed("unknown-state-keys"),
                 {{"phase", "Running"},
                  {"containerStatuses",
                   {{{"name", "c"},
                     {"state", {{"exploded", {{"why", "x"}}}}},
                     {"lastState", {{"vanished", Json::object()}}},
                     {"restartCount", 3},
                     {"ready", false}}}}}});
  out.push_back({"nulls",
                 PodNamed("nulls", {{"ownerReferences", nullptr}, {"labels", nullptr}}),
                 {{"phase", nullptr},
                  {"conditions", nullptr},
                  {"initContainerStatuses", nullptr},
                  {"containerStatuses",
                   {{{"name", "c"},
                     {"state", nullptr},
                     {"lastState", nullptr},
                     {"restartCount", nullptr}}}}}});
  out.push_back(
      {"numbers-for-strings",
       PodNamed("numbers-for-strings"),
       {{"phase", 5},
        {"reason", 7},
        {"message", 8},
        {"conditions", {{{"type", 1}, {"status", true}, {"reason", 2}}}},
        {"containerStatuses",
         {{{"name", 12},
           {"image", 3},
           {"restartCount", "many"},
           {"ready", "no"},
           {"state", {{"waiting", {{"reason", 42}, {"message", 1.5}}}}},
           {"lastState",
            {{"terminated", {{"reason", 137}, {"exitCode", "137"}, {"finishedAt", 0}}}}}}}}}});
  Json huge = Waiting("CrashLoopBackOff", big);
  huge["containerStatuses"][0]["lastState"] = {{"terminated",
                                                {{"reason", "OOMKilled"},
                                                 {"exitCode", 137},
                                                 {"message", big},
                                                 {"finishedAt", NowRfc3339()}}}};
  out.push_back(
      {"huge-strings", PodNamed("huge-strings", {{"annotations", {{"note", big}}}}), huge});
  out.push_back(
      {"owner-missing-rs",
       PodNamed("owner-missing-rs",
                {{"ownerReferences", ControllerRef("apps/v1", "ReplicaSet", "missing-rs")},
                 {"labels", {{"pod-template-hash", "abc12"}}}}),
       Waiting("CrashLoopBackOff")});
  out.push_back({"owner-odd-kind",
                 PodNamed("owner-odd-kind",
                          {{"ownerReferences", ControllerRef("example.com/v1", "Widget", "w")}}),
                 Waiting("ImagePullBackOff")});
  out.push_back({"owner-refs-garbage",
                 PodNamed("owner-refs-garbage",
                          {{"ownerReferences",
                            {"oops", 5, {{"controller", "yes"}, {"kind", 7}, {"name", 1}}}}}),
                 Waiting("CrashLoopBackOff")});
  out.push_back({"labels-garbage",
                 PodNamed("labels-garbage", {{"labels", {{"pod-template-hash", 5}}}}),
                 Waiting("ErrImagePull")});
  // 10k container statuses on a pod whose spec names one container: kube-sim takes about a
  // minute to create a pod with 10k containers in its spec (its create path, not ours), while
  // a status is stored as sent, and the statuses are what the detector and collector walk.
  Json many = PodNamed("ten-thousand-containers");
  Json statuses = Json::array();
  for (int i = 0; i < 10000; ++i) {
    std::string n = "c" + std::to_string(i);
    Json s = Waiting("ImagePullBackOff")["containerStatuses"][0];
    s["name"] = n;
    statuses.push_back(s);
  }
  out.push_back(
      {"ten-thousand-containers", many, {{"phase", "Pending"}, {"containerStatuses", statuses}}});
  return out;
}

// Every anomaly and evidence message, and every dead letter.
struct Seen {
  explicit Seen(const std::string& bootstrap)
      : reader(
            [&] {
              kafka::KafkaConfig c;
              c.bootstrap = bootstrap;
              return c;
            }(),
            {topics::kAnomalies, topics::kEvidence, topics::kDeadLetter}, true) {}
  void Drain() {
    while (auto m = reader.Next(100ms)) {
      if (m->topic == topics::kAnomalies) {
        v1::Anomaly a;
        if (a.ParseFromString(m->payload)) anomalies[m->key] = a;
      } else if (m->topic == topics::kEvidence) {
        v1::Evidence e;
        if (e.ParseFromString(m->payload)) evidence[m->key] = e;
      } else {
        dead.insert(m->key);
      }
    }
  }
  std::optional<std::string> AnomalyIdFor(const std::string& workload_name) {
    for (const auto& [id, a] : anomalies) {
      if (a.workload().name() == workload_name) return id;
    }
    return std::nullopt;
  }
  kafka::TopicReader reader;
  std::map<std::string, v1::Anomaly> anomalies;
  std::map<std::string, v1::Evidence> evidence;
  std::set<std::string> dead;
};

}  // namespace

TEST(BadInputKubeShapesTest, OddPodsAreSkippedOrReportedAndAGenuineOneStillFlows) {
  ApiOnlyKubeSim kube;
  LocalStack stack({"--kubeconfig", kube.kubeconfig(), "--set", "detector.grace_seconds=1"});
  ASSERT_TRUE(stack.WaitUp()) << stack.Logs();
  const auto before = stack.Processes();
  ASSERT_EQ(
      kube.Send("POST", "/api/v1/namespaces",
                {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "odd"}}}}) /
          100,
      2);

  // The odd pods first; what the API itself refuses is printed (and then cannot reach us).
  for (const auto& p : OddPods()) {
    int code = kube.Pod("odd", p.pod, p.status);
    std::cout << "odd pod " << p.name << ": kube API answered " << code << "\n";
    EXPECT_NE(code, 0) << p.name << ": kube-sim did not answer";
  }

  // Then a genuine OOM-killed pod of Deployment odd/genuine (no controllers run: the test
  // writes the Deployment, its ReplicaSet and the pod itself).
  Json labels = {{"app", "genuine"}, {"pod-template-hash", "5d8f9"}};
  Json container = {{"name", "worker"},
                    {"image", "nginx:1.27"},
                    {"resources", {{"limits", {{"memory", "256Mi"}}}}}};
  Json deployment = {{"apiVersion", "apps/v1"},
                     {"kind", "Deployment"},
                     {"metadata", {{"name", "genuine"}, {"namespace", "odd"}}},
                     {"spec",
                      {{"replicas", 1},
                       {"selector", {{"matchLabels", {{"app", "genuine"}}}}},
                       {"template",
                        {{"metadata", {{"labels", {{"app", "genuine"}}}}},
                         {"spec", {{"containers", {container}}}}}}}}};
  ASSERT_EQ(kube.Send("POST", "/apis/apps/v1/namespaces/odd/deployments", deployment) / 100, 2);
  Json rs = {{"apiVersion", "apps/v1"},
             {"kind", "ReplicaSet"},
             {"metadata",
              {{"name", "genuine-5d8f9"},
               {"namespace", "odd"},
               {"labels", labels},
               {"ownerReferences", ControllerRef("apps/v1", "Deployment", "genuine")}}},
             {"spec",
              {{"replicas", 1},
               {"selector", {{"matchLabels", labels}}},
               {"template",
                {{"metadata", {{"labels", labels}}}, {"spec", {{"containers", {container}}}}}}}}};
  ASSERT_EQ(kube.Send("POST", "/apis/apps/v1/namespaces/odd/replicasets", rs) / 100, 2);
  Json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata",
               {{"name", "genuine-5d8f9-abcde"},
                {"labels", labels},
                {"ownerReferences", ControllerRef("apps/v1", "ReplicaSet", "genuine-5d8f9")}}},
              {"spec", {{"containers", {container}}}}};
  Json status = Waiting("CrashLoopBackOff", "back-off 40s restarting failed container");
  status["phase"] = "Running";
  status["containerStatuses"][0]["name"] = "worker";
  status["containerStatuses"][0]["lastState"] = {
      {"terminated", {{"reason", "OOMKilled"}, {"exitCode", 137}, {"finishedAt", NowRfc3339()}}}};
  ASSERT_EQ(kube.Pod("odd", pod, status) / 100, 2);

  Seen seen(stack.Bootstrap());
  std::string genuine;
  ASSERT_TRUE(PollUntil(
      [&] {
        seen.Drain();
        auto id = seen.AnomalyIdFor("genuine");
        if (id) genuine = *id;
        return id && seen.evidence.count(*id) == 1;
      },
      180s, 200ms))
      << stack.Logs();
  EXPECT_EQ(seen.anomalies[genuine].workload().kind(), "Deployment");
  EXPECT_EQ(seen.anomalies[genuine].failure_class(), v1::FAILURE_CLASS_OOM_KILLED);

  // Every odd pod the detector did announce was answered by the collector: evidence (with its
  // collection errors) or a dead letter with the reason; none is left hanging.
  EXPECT_TRUE(PollUntil(
      [&] {
        seen.Drain();
        for (const auto& [id, a] : seen.anomalies) {
          if (!seen.evidence.count(id) && !seen.dead.count(id)) return false;
        }
        return true;
      },
      120s, 200ms))
      << stack.Logs();
  for (const auto& [id, a] : seen.anomalies) {
    std::cout << "announced " << a.workload().kind() << " " << a.workload().namespace_() << "/"
              << a.workload().name() << " " << v1::FailureClass_Name(a.failure_class()) << " -> "
              << (seen.evidence.count(id) ? "evidence" : "dead letter") << "\n";
  }

  // Nothing crashed (aiops-local would restart it under a new pid) and all are healthy.
  for (const auto& [name, p] : stack.Processes()) {
    EXPECT_EQ(p.pid, before.at(name).pid) << name << " restarted\n" << stack.Logs();
    if (!p.http.empty()) {
      EXPECT_TRUE(Healthy(p.http)) << name;
    }
  }
  std::string detector = stack.Processes()["detector"].http;
  EXPECT_GT(ScrapeMetric(detector, "aiops_detector_watch_events_total"), 0);
}
