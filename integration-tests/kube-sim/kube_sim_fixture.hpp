// Starts a real kube-sim process for one test and runs the real kubectl against it.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "subprocess.hpp"

namespace kubesim_it {

using json = nlohmann::json;
using aiops::testing::PollUntil;
using namespace std::chrono_literals;

// Absolute path of kubectl, "" when it is not installed.
inline std::string KubectlPath() {
  std::string out;
  if (aiops::testing::RunCommand("command -v kubectl", &out) != 0) return "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' '))
    out.pop_back();
  return out;
}

inline std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

class KubeSim {
 public:
  // `scenario` may be empty (bare cluster). `speed` compresses back-offs and deadlines.
  explicit KubeSim(const std::string& scenario, double speed = 20,
                   std::vector<std::string> extra_args = {}) {
    kubeconfig_ = dir_.File("kubeconfig");
    std::vector<std::string> argv = {aiops::testing::Bin("kube-sim"),
                                     "--listen",
                                     "127.0.0.1:0",
                                     "--kubeconfig-out",
                                     kubeconfig_,
                                     "--speed",
                                     std::to_string(speed)};
    if (!scenario.empty()) {
      argv.push_back("--scenario");
      argv.push_back(scenario);
    }
    for (auto& a : extra_args)
      argv.push_back(a);
    proc_ = std::make_unique<aiops::testing::Subprocess>(argv);
    ready_ = proc_->WaitForOutput("kube-sim listening on http", 30s);
    std::string out = proc_->Output();
    auto pos = out.find("kube-sim listening on ");
    if (pos != std::string::npos) {
      url_ = out.substr(pos + 22, out.find('\n', pos) - pos - 22);
      port_ = std::stoi(url_.substr(url_.rfind(':') + 1));
    }
  }
  bool ready() const { return ready_; }
  const std::string& url() const { return url_; }
  int port() const { return port_; }
  const std::string& kubeconfig() const { return kubeconfig_; }
  aiops::testing::Subprocess& process() { return *proc_; }
  const aiops::testing::TempDir& dir() const { return dir_; }

  // Environment kubectl runs with: our kubeconfig, and a private HOME so its discovery cache
  // never leaks between tests.
  std::map<std::string, std::string> KubectlEnv() const {
    return {{"KUBECONFIG", kubeconfig_}, {"HOME", dir_.path()}};
  }
  int Kubectl(const std::string& args, std::string* out) const {
    return aiops::testing::RunCommand("HOME=" + ShellQuote(dir_.path()) + " KUBECONFIG=" +
                                          ShellQuote(kubeconfig_) + " kubectl " + args,
                                      out);
  }
  std::string KubectlOut(const std::string& args) const {
    std::string out;
    Kubectl(args, &out);
    return out;
  }
  json KubectlJson(const std::string& args) const {
    std::string out;
    if (Kubectl(args + " -o json", &out) != 0) return json();
    json j = json::parse(out, nullptr, false);
    return j.is_discarded() ? json() : j;
  }
  // Polls `kubectl <args>` until its output contains every needle.
  bool WaitForKubectl(const std::string& args, const std::vector<std::string>& needles,
                      std::chrono::milliseconds timeout = 60s, std::string* last = nullptr) const {
    std::string out;
    bool ok = PollUntil(
        [&] {
          out = KubectlOut(args);
          for (const auto& n : needles) {
            if (out.find(n) == std::string::npos) return false;
          }
          return true;
        },
        timeout, 200ms);
    if (last) *last = out;
    return ok;
  }

 private:
  aiops::testing::TempDir dir_;
  std::string kubeconfig_;
  std::unique_ptr<aiops::testing::Subprocess> proc_;
  bool ready_ = false;
  std::string url_;
  int port_ = 0;
};

#define REQUIRE_KUBECTL()                                                                     \
  do {                                                                                        \
    if (kubesim_it::KubectlPath().empty())                                                    \
      GTEST_SKIP() << "kubectl is not installed: the kubectl fidelity tests need it on PATH"; \
  } while (0)

}  // namespace kubesim_it
