// What the pipeline benchmarks (pipeline-bench, storm-bench) share besides the LocalStack of
// integration-tests/support: the topics read as a log, latency statistics, and the machine
// load recorded next to every figure.
#pragma once

#include <CLI/CLI.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "aiops/kafka_message.hpp"
#include "local_stack.hpp"

namespace aiops::bench {

// The command-line options both benchmarks have.
struct StackOptions {
  double speed = 10;              // kube-sim clock speed
  std::vector<std::string> sets;  // --set KEY=VALUE for aiops-local
  std::string json_out;           // where the figures go
};
// Adds --speed, --set (repeatable) and --json-out to `app`.
void AddStackOptions(CLI::App& app, StackOptions& o);

// `aiops-local up` on `scenario` with `args` plus the options (speed, every --set); waits
// until every service serves. nullptr (the logs printed) if it did not start.
std::unique_ptr<testing::LocalStack> StartStack(std::vector<std::string> args,
                                                const StackOptions& options,
                                                const std::string& scenario);

// Reads the given topics from the beginning on a thread of its own, handing every message
// to `sink` (called on that thread). Stops on destruction.
class TopicTap {
 public:
  using Sink = std::function<void(const kafka::Message&)>;
  TopicTap(const std::string& bootstrap, std::vector<std::string> topics, Sink sink);
  ~TopicTap();
  TopicTap(const TopicTap&) = delete;
  TopicTap& operator=(const TopicTap&) = delete;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// p50/p99/max of a sample, in milliseconds.
struct Summary {
  size_t n = 0;
  double p50 = 0, p99 = 0, max = 0;
};
Summary Summarize(std::vector<double> ms);

// CPU seconds (user + system) a running process used so far; -1 if it is gone.
double CpuSeconds(int pid);

// /proc/loadavg's first three fields, e.g. "1.52 1.02 1.24".
std::string LoadAvg();

// Writes `text` to `path`; throws std::runtime_error when it cannot.
void WriteText(const std::string& path, const std::string& text);

}  // namespace aiops::bench
