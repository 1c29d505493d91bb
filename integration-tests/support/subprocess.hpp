// Starting and stopping the real processes (broker, kube-sim, services) from integration tests.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace aiops::testing {

// Directory holding the built executables (build/bin), baked in at compile time.
std::string BinDir();
// Full path of an executable in BinDir().
std::string Bin(const std::string& name);

// A child process whose stdout and stderr are captured into a log file; killed on destruction.
class Subprocess {
 public:
  Subprocess(std::vector<std::string> argv, std::map<std::string, std::string> extra_env = {});
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  bool Running();
  // Sends the signal and waits up to `timeout` for exit; returns the exit status (or -signal).
  int Stop(int signal, std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Everything the process printed so far (stdout and stderr interleaved).
  std::string Output() const;
  // Polls Output() until it contains `needle` or the deadline passes.
  bool WaitForOutput(const std::string& needle,
                     std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;
  const std::string& log_path() const { return log_path_; }

 private:
  pid_t pid_ = -1;
  int exit_status_ = 0;
  bool exited_ = false;
  std::string log_path_;
};

// Polls `condition` every `interval` until it is true or `timeout` passes. Never a fixed sleep:
// CI machines are small and loaded, so deadlines are generous and success returns at once.
bool PollUntil(const std::function<bool()>& condition,
               std::chrono::milliseconds timeout = std::chrono::seconds(30),
               std::chrono::milliseconds interval = std::chrono::milliseconds(50));

// A fresh temporary directory, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Runs a shell command, returns its exit code and fills `output` with stdout+stderr.
int RunCommand(const std::string& command, std::string* output);

// Reads a whole file; empty string when missing.
std::string ReadFile(const std::string& path);

// Returns a free TCP port on 127.0.0.1 (bound then released).
int FreePort();

}  // namespace aiops::testing
