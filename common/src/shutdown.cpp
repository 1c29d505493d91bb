#include "aiops/shutdown.hpp"

#include <condition_variable>
#include <csignal>
#include <mutex>
#include <thread>
#include <vector>

#include "aiops/log.hpp"

namespace aiops::shutdown {

namespace {
std::mutex mu;
std::condition_variable cv;
bool stopping = false;
std::vector<std::function<void()>> callbacks;

void Trigger(const char* why) {
  std::vector<std::function<void()>> to_run;
  {
    std::lock_guard lock(mu);
    if (stopping) return;
    stopping = true;
    to_run = callbacks;
  }
  log::Info({{"cause", why}}, "shutting down");
  for (auto& cb : to_run)
    cb();
  cv.notify_all();
}
}  // namespace

void Install() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a closed socket must be an error value, not a kill
  std::thread([set] {
    int sig = 0;
    sigwait(&set, &sig);
    Trigger(sig == SIGTERM ? "SIGTERM" : "SIGINT");
  }).detach();
}

bool WaitFor(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu);
  return cv.wait_for(lock, timeout, [] { return stopping; });
}

void Wait() {
  std::unique_lock lock(mu);
  cv.wait(lock, [] { return stopping; });
}

bool Requested() {
  std::lock_guard lock(mu);
  return stopping;
}

void RequestStop() {
  Trigger("requested");
}

void OnStop(std::function<void()> callback) {
  bool run_now = false;
  {
    std::lock_guard lock(mu);
    if (stopping) {
      run_now = true;
    } else {
      callbacks.push_back(callback);
    }
  }
  if (run_now) callback();
}

}  // namespace aiops::shutdown
