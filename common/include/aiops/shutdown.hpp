// SIGTERM/SIGINT handling without async-signal-unsafe work: the signals are blocked in every
// thread and one watcher thread receives them with sigwait, then wakes whoever waits.
#pragma once

#include <chrono>
#include <functional>

namespace aiops::shutdown {

// Call first thing in main(), before any thread starts (threads inherit the signal mask).
void Install();
// Blocks until SIGTERM/SIGINT (or RequestStop) or the timeout; true when stopping.
bool WaitFor(std::chrono::milliseconds timeout);
void Wait();
bool Requested();
// Lets code (and tests) trigger the same path as a signal.
void RequestStop();
// Runs `callback` on the watcher thread when a stop is requested (e.g. consumer.Stop()).
void OnStop(std::function<void()> callback);

}  // namespace aiops::shutdown
