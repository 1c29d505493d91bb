#include "bench_support.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "aiops/kafka_reader.hpp"
#include "subprocess.hpp"

namespace aiops::bench {

using testing::ReadFile;

void AddStackOptions(CLI::App& app, StackOptions& o) {
  app.add_option("--speed", o.speed, "kube-sim clock speed (back-offs, readiness)")
      ->capture_default_str();
  app.add_option("--set", o.sets, "KEY=VALUE passed to aiops-local (pipeline config), repeatable");
  app.add_option("--json-out", o.json_out, "write the figures here")->capture_default_str();
}

std::unique_ptr<testing::LocalStack> StartStack(std::vector<std::string> args,
                                                const StackOptions& options,
                                                const std::string& scenario) {
  for (const auto& s : options.sets) {
    args.push_back("--set");
    args.push_back(s);
  }
  std::ostringstream speed_text;
  speed_text << options.speed;
  auto stack = std::make_unique<testing::LocalStack>(args, scenario, speed_text.str());
  if (!stack->WaitUp()) {
    std::cerr << "the pipeline did not start\n" << stack->Logs();
    return nullptr;
  }
  return stack;
}

struct TopicTap::Impl {
  std::atomic<bool> stop{false};
  std::thread thread;
};

TopicTap::TopicTap(const std::string& bootstrap, std::vector<std::string> topics, Sink sink)
    : impl_(std::make_unique<Impl>()) {
  kafka::KafkaConfig config;
  config.bootstrap = bootstrap;
  // Created here so a bad configuration throws to the caller, not on the thread.
  auto reader = std::make_shared<kafka::TopicReader>(config, std::move(topics), true);
  impl_->thread = std::thread([this, reader, sink = std::move(sink)] {
    while (!impl_->stop) {
      if (auto m = reader->Next(std::chrono::milliseconds(200))) sink(*m);
    }
  });
}

TopicTap::~TopicTap() {
  impl_->stop = true;
  impl_->thread.join();
}

Summary Summarize(std::vector<double> ms) {
  Summary s;
  s.n = ms.size();
  if (ms.empty()) return s;
  std::sort(ms.begin(), ms.end());
  // Nearest rank: the smallest value with at least q of the sample at or below it.
  auto rank = [&](double q) {
    size_t i = static_cast<size_t>(std::ceil(q * static_cast<double>(ms.size())));
    return ms[std::min(ms.size() - 1, i == 0 ? 0 : i - 1)];
  };
  s.p50 = rank(0.50);
  s.p99 = rank(0.99);
  s.max = ms.back();
  return s;
}

double CpuSeconds(int pid) {
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  auto after_name = stat.rfind(')');  // the command name may hold spaces
  if (after_name == std::string::npos) return -1;
  std::istringstream fields(stat.substr(after_name + 2));
  std::vector<std::string> f{std::istream_iterator<std::string>(fields), {}};
  if (f.size() < 13) return -1;
  // Fields 14 and 15 of stat (utime, stime) are 11 and 12 after the name.
  return static_cast<double>(std::stol(f[11]) + std::stol(f[12])) /
         static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::string LoadAvg() {
  std::istringstream in(ReadFile("/proc/loadavg"));
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace aiops::bench
