// aiops-local: runs the whole pipeline on one machine. `up` starts the development broker,
// kube-sim (or uses a real cluster), and the five services, writes the files other tools need
// into DIR, supervises the processes (a crashed service is restarted) and stops every one of
// them on Ctrl-C/SIGTERM. `down` stops a running `up` of the same DIR.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "local_config.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

void Say(const std::string& line) {
  std::cout << "aiops-local: " << line << std::endl;
}

std::string ReadFirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (in) std::getline(in, line);
  return line;
}

bool WriteFileAtomic(const std::string& path, const std::string& content, mode_t mode = 0644) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return false;
  bool ok = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
  ::fchmod(fd, mode);
  ::close(fd);
  return ok && ::rename(tmp.c_str(), path.c_str()) == 0;
}

// A free TCP port on 127.0.0.1 (bound, then released).
int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof(a);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

bool PortBindable(const std::string& host, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::inet_pton(AF_INET, host.c_str(), &a.sin_addr) == 1 &&
            ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(fd);
  return ok;
}

bool TcpAccepts(const std::string& host, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::inet_pton(AF_INET, host.c_str(), &a.sin_addr) == 1 &&
            ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(fd);
  return ok;
}

std::string RandomToken() {
  unsigned char buf[24];
  std::ifstream in("/dev/urandom", std::ios::binary);
  if (!in.read(reinterpret_cast<char*>(buf), sizeof(buf))) {
    throw std::runtime_error("cannot read /dev/urandom");
  }
  static const char* hex = "0123456789abcdef";
  std::string t = "aiops-local-";
  for (unsigned char c : buf) {
    t += hex[c >> 4];
    t += hex[c & 15];
  }
  return t;
}

std::string ExeDir() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : p.parent_path().string();
}

std::string JoinArgs(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv)
    s += (s.empty() ? "" : " ") + a;
  return s;
}

struct Child {
  std::string name;
  std::vector<std::string> argv;
  bool critical = false;  // its death ends the run (broker, kube-sim: their state is in memory)
  std::string http;       // health/metrics address, if a service
  pid_t pid = -1;
  int restarts = 0;
  Clock::time_point started;
  Clock::time_point restart_at{};
};

class Launcher {
 public:
  explicit Launcher(aiops_local::LocalOptions o) : o_(std::move(o)) {}

  int Up();

 private:
  enum class Wait { kOk, kSignal, kChildDied, kTimeout };

  pid_t Spawn(Child& c);
  // Reaps exited children; returns false if a critical child died (sets failure_).
  bool Reap(bool restart);
  // Polls `cond` while watching signals and children.
  Wait WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout);
  void StopAll();
  void WriteProcesses();
  Child& Add(std::string name, std::vector<std::string> argv, bool critical, std::string http);
  std::string Path(const std::string& f) const { return dir_ + "/" + f; }
  std::string Bin(const std::string& name) const { return bin_dir_ + "/" + name; }

  aiops_local::LocalOptions o_;
  std::string dir_, bin_dir_;
  std::vector<Child> children_;
  sigset_t sigs_{};
  bool stopping_ = false;
  std::string failure_;
};

Child& Launcher::Add(std::string name, std::vector<std::string> argv, bool critical,
                     std::string http) {
  Child c;
  c.name = std::move(name);
  c.argv = std::move(argv);
  c.critical = critical;
  c.http = std::move(http);
  children_.push_back(std::move(c));
  Child& added = children_.back();
  Spawn(added);
  return added;
}

pid_t Launcher::Spawn(Child& c) {
  std::string log = Path("logs/" + c.name + ".log");
  int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open " + log + ": " + std::strerror(errno));
  std::string banner = "---- aiops-local: starting " + JoinArgs(c.argv) + "\n";
  (void)!::write(fd, banner.data(), banner.size());
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    // Own process group: a terminal's Ctrl-C reaches only the launcher, which then stops the
    // services before the broker. If the launcher itself dies, the kernel kills the child.
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    std::signal(SIGPIPE, SIG_DFL);
    std::vector<char*> args;
    for (auto& a : c.argv)
      args.push_back(a.data());
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    std::fprintf(stderr, "aiops-local: cannot exec %s: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
  }
  ::close(fd);
  c.pid = pid;
  c.started = Clock::now();
  WriteProcesses();
  return pid;
}

void Launcher::WriteProcesses() {
  std::ostringstream out;
  for (const auto& c : children_) {
    if (c.pid <= 0) continue;
    out << c.name << " " << c.pid;
    if (!c.http.empty()) out << " http=" << c.http;
    out << "\n";
  }
  WriteFileAtomic(Path("processes"), out.str());
}

bool Launcher::Reap(bool restart) {
  while (true) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) break;
    for (auto& c : children_) {
      if (c.pid != pid) continue;
      c.pid = -1;
      std::string how = WIFSIGNALED(status)
                            ? "killed by signal " + std::to_string(WTERMSIG(status))
                            : "exited with status " + std::to_string(WEXITSTATUS(status));
      if (stopping_) break;
      if (c.critical) {
        failure_ = c.name + " " + how + " (see " + Path("logs/" + c.name + ".log") + ")";
      } else if (restart) {
        // Restart with a growing pause; a service that keeps dying is left down.
        if (c.restarts >= 5 && Clock::now() - c.started < 60s) {
          Say(c.name + " " + how + " again; not restarting it (see " +
              Path("logs/" + c.name + ".log") + ")");
        } else {
          if (Clock::now() - c.started > 60s) c.restarts = 0;
          auto pause = std::chrono::milliseconds(500 * (1 << std::min(c.restarts, 4)));
          c.restart_at = Clock::now() + pause;
          ++c.restarts;
          Say(c.name + " " + how + "; restarting it");
        }
      }
      break;
    }
  }
  if (!stopping_ && restart) {
    for (auto& c : children_) {
      if (c.pid < 0 && c.restart_at != Clock::time_point{} && Clock::now() >= c.restart_at) {
        c.restart_at = {};
        Spawn(c);
      }
    }
  }
  return failure_.empty();
}

Launcher::Wait Launcher::WaitFor(const std::function<bool()>& cond,
                                 std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    if (cond()) return Wait::kOk;
    timespec ts{0, 100 * 1000 * 1000};
    int sig = ::sigtimedwait(&sigs_, nullptr, &ts);
    if (sig == SIGINT || sig == SIGTERM) return Wait::kSignal;
    if (!Reap(true)) return Wait::kChildDied;
    if (Clock::now() > deadline) return Wait::kTimeout;
  }
}

void Launcher::StopAll() {
  stopping_ = true;
  // Services first (they flush and commit through the broker), then kube-sim and the broker.
  auto stop_group = [&](bool critical) {
    for (auto& c : children_) {
      if (c.pid > 0 && c.critical == critical) ::kill(c.pid, SIGTERM);
    }
    auto deadline = Clock::now() + 15s;
    while (Clock::now() < deadline) {
      bool any = false;
      for (auto& c : children_) {
        if (c.pid <= 0 || c.critical != critical) continue;
        int status = 0;
        if (::waitpid(c.pid, &status, WNOHANG) == c.pid) {
          c.pid = -1;
        } else {
          any = true;
        }
      }
      if (!any) return;
      ::usleep(50 * 1000);
    }
    for (auto& c : children_) {
      if (c.pid > 0 && c.critical == critical) {
        Say(c.name + " did not stop within 15 s; killing it");
        ::kill(c.pid, SIGKILL);
        ::waitpid(c.pid, nullptr, 0);
        c.pid = -1;
      }
    }
  };
  stop_group(false);
  stop_group(true);
  std::error_code ec;
  fs::remove(Path("approver.addr"), ec);
  fs::remove(Path("processes"), ec);
  fs::remove(Path("aiops-local.pid"), ec);
}

int Launcher::Up() {
  dir_ = fs::absolute(o_.dir).lexically_normal().string();
  if (!dir_.empty() && dir_.back() == '/') dir_.pop_back();
  bin_dir_ = o_.bin_dir.empty() ? ExeDir() : fs::absolute(o_.bin_dir).string();
  fs::create_directories(Path("logs"));
  if (std::string pid = ReadFirstLine(Path("aiops-local.pid")); !pid.empty()) {
    if (::kill(std::stoi(pid), 0) == 0) {
      std::cerr << "aiops-local: another aiops-local (pid " << pid << ") runs in " << dir_
                << "; stop it with `aiops-local down --dir " << o_.dir << "`\n";
      return 1;
    }
  }
  for (const char* stale : {"approver.addr", "bootstrap", "broker.control", "processes"}) {
    std::error_code ec;
    fs::remove(Path(stale), ec);
  }
  if (o_.kubeconfig.empty()) {
    std::error_code ec;
    fs::remove(Path("kubeconfig"), ec);
  }
  WriteFileAtomic(Path("aiops-local.pid"), std::to_string(::getpid()) + "\n");

  sigemptyset(&sigs_);
  sigaddset(&sigs_, SIGINT);
  sigaddset(&sigs_, SIGTERM);
  sigaddset(&sigs_, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &sigs_, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto fail = [&](const std::string& why) {
    std::cerr << "aiops-local: " << why << "\n";
    StopAll();
    return 1;
  };
  auto check = [&](Wait w, const std::string& what) -> std::optional<int> {
    if (w == Wait::kOk) return std::nullopt;
    if (w == Wait::kSignal) {
      Say("interrupted; stopping");
      StopAll();
      return 130;
    }
    if (w == Wait::kChildDied) return fail(failure_);
    return fail(what + " (logs in " + Path("logs") + ")");
  };

  for (const char* b : {"aiops-devbroker", "aiops-detector", "aiops-collector", "aiops-proposer",
                        "aiops-approver"}) {
    if (::access(Bin(b).c_str(), X_OK) != 0) {
      return fail(std::string("missing ") + Bin(b) + "; build first (scripts/build.sh)");
    }
  }
  bool sim = o_.kubeconfig.empty();
  if (sim && ::access(Bin("kube-sim").c_str(), X_OK) != 0) {
    return fail("missing " + Bin("kube-sim") + "; build first (scripts/build.sh)");
  }

  // 1. Broker.
  std::vector<std::string> broker_argv = {Bin("aiops-devbroker"), "--bootstrap-file",
                                          Path("bootstrap"), "--partitions", "3"};
  if (o_.broker_control) {
    // Loopback only: fault injection for tests (broker down/up, request errors, latency).
    for (const char* a : {"--control-listen", "127.0.0.1:0", "--control-file"})
      broker_argv.push_back(a);
    broker_argv.push_back(Path("broker.control"));
  }
  Add("devbroker", broker_argv, true, "");
  if (auto rc =
          check(WaitFor(
                    [&] {
                      return !ReadFirstLine(Path("bootstrap")).empty() &&
                             (!o_.broker_control || !ReadFirstLine(Path("broker.control")).empty());
                    },
                    60s),
                "the development broker did not start")) {
    return *rc;
  }
  std::string bootstrap = ReadFirstLine(Path("bootstrap"));

  // 2. Cluster.
  std::string kubeconfig = Path("kubeconfig");
  std::string kube_url;
  if (sim) {
    std::ostringstream speed;
    speed << o_.speed;
    Add("kube-sim",
        {Bin("kube-sim"), "--scenario", o_.scenario, "--listen", "127.0.0.1:0", "--speed",
         speed.str(), "--kubeconfig-out", kubeconfig},
        true, "");
    if (auto rc = check(WaitFor([&] { return !ReadFirstLine(kubeconfig).empty(); }, 60s),
                        "kube-sim did not start")) {
      return *rc;
    }
  } else {
    kubeconfig = fs::absolute(o_.kubeconfig).string();
    if (::access(kubeconfig.c_str(), R_OK) != 0) return fail("cannot read " + kubeconfig);
    std::error_code ec;
    fs::remove(Path("kubeconfig"), ec);
    fs::create_symlink(kubeconfig, Path("kubeconfig"), ec);
  }

  // 3. Token and configuration.
  std::string token_file = Path("token");
  if (ReadFirstLine(token_file).size() < 16) {
    if (!WriteFileAtomic(token_file, RandomToken() + "\n", 0600)) {
      return fail("cannot write " + token_file);
    }
  }
  std::string grpc_host = "127.0.0.1";
  int grpc_port = 0;
  {
    auto colon = o_.grpc_listen.rfind(':');
    if (colon == std::string::npos) return fail("--grpc-listen must be HOST:PORT");
    grpc_host = o_.grpc_listen.substr(0, colon);
    grpc_port = std::atoi(o_.grpc_listen.c_str() + colon + 1);
    if (grpc_port != 0 && !PortBindable(grpc_host, grpc_port)) {
      Say("port " + std::to_string(grpc_port) + " is taken; the approver uses another one");
      grpc_port = 0;
    }
    if (grpc_port == 0) grpc_port = FreePort();
  }
  std::string grpc_addr = grpc_host + ":" + std::to_string(grpc_port);
  aiops_local::ConfigInputs in{bootstrap, kubeconfig, grpc_addr, token_file};
  std::string config_path = Path("aiops.yaml");
  try {
    if (!WriteFileAtomic(config_path, aiops_local::RenderConfig(o_, in))) {
      return fail("cannot write " + config_path);
    }
  } catch (const std::exception& e) {
    return fail(e.what());
  }

  // 4. Services.
  std::vector<std::string> services = {"detector", "collector", "proposer", "approver"};
  bool executor = ::access(Bin("aiops-executor").c_str(), X_OK) == 0;
  if (executor) services.push_back("executor");
  for (const auto& s : services) {
    std::string http = "127.0.0.1:" + std::to_string(FreePort());
    Add(s, {Bin("aiops-" + s), "--config", config_path, "--http-listen", http}, false, http);
  }
  if (auto rc = check(WaitFor([&] { return TcpAccepts(grpc_host, grpc_port); }, 120s),
                      "the approver's gRPC API did not open within 120 s")) {
    return *rc;
  }
  WriteFileAtomic(Path("approver.addr"), grpc_addr + "\n");

  std::string ctl = Bin("aiopsctl");
  std::string d = o_.dir;
  std::ostringstream msg;
  msg << "\naiops-local is up (" << dir_ << ")\n\n"
      << "  Kafka bootstrap   " << bootstrap << "   (development broker, in memory)\n"
      << (o_.broker_control
              ? "  broker control    http://" + ReadFirstLine(Path("broker.control")) +
                    "/status   (fault injection)\n"
              : std::string())
      << "  cluster           "
      << (sim ? "kube-sim, scenario " + o_.scenario : "kubeconfig " + kubeconfig) << "\n"
      << "                    KUBECONFIG=" << d << "/kubeconfig kubectl get pods -A\n"
      << "  approver gRPC     " << grpc_addr << "   (token in " << d << "/token)\n";
  for (const auto& c : children_) {
    if (!c.http.empty()) {
      msg << "  " << c.name << std::string(18 - std::min<size_t>(17, c.name.size()), ' ')
          << "http://" << c.http << "/metrics  /healthz  /readyz\n";
    }
  }
  if (!executor) {
    msg << "  executor          not built yet: approvals are recorded but not applied\n";
  }
  msg << "  logs              " << d << "/logs/<name>.log\n\n"
      << "Try:\n"
      << "  " << ctl << " --local-dir " << d << " list\n"
      << "  " << ctl << " --local-dir " << d << " get ID\n"
      << "  " << ctl << " --local-dir " << d << " approve ID -m 'looks right'\n"
      << "  " << ctl << " --local-dir " << d << " watch -A\n"
      << "  " << ctl << " --local-dir " << d << " audit --from-beginning\n\n"
      << "Ctrl-C stops every process aiops-local started.\n";
  std::cout << msg.str() << std::flush;

  // 5. Supervise until a signal.
  auto w = WaitFor([] { return false; }, std::chrono::hours(24 * 365));
  if (w == Wait::kChildDied) return fail(failure_);
  Say("stopping");
  StopAll();
  Say("stopped");
  return 0;
}

int Down(const std::string& dir) {
  std::string pid_s = ReadFirstLine(dir + "/aiops-local.pid");
  if (pid_s.empty()) {
    std::cerr << "aiops-local: nothing runs in " << dir << "\n";
    return 1;
  }
  pid_t pid = std::stoi(pid_s);
  if (::kill(pid, SIGTERM) != 0) {
    std::cerr << "aiops-local: pid " << pid << " is gone\n";
    std::error_code ec;
    fs::remove(dir + "/aiops-local.pid", ec);
    return 1;
  }
  auto deadline = Clock::now() + 60s;
  while (Clock::now() < deadline) {
    if (::kill(pid, 0) != 0) {
      Say("stopped");
      return 0;
    }
    ::usleep(100 * 1000);
  }
  std::cerr << "aiops-local: pid " << pid << " still runs after 60 s\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("aiops-local: run the AIOps pipeline on this machine", "aiops-local");
  app.require_subcommand(1);
  aiops_local::LocalOptions o;
  if (const char* user = std::getenv("USER"); user != nullptr && *user != '\0') o.identity = user;
  std::vector<std::string> sets;

  auto* up = app.add_subcommand(
      "up",
      "start aiops-devbroker, kube-sim (or use --kubeconfig) and the five services; Ctrl-C "
      "stops them all");
  up->add_option("--dir", o.dir,
                 "state directory: bootstrap, kubeconfig, approver.addr, token, "
                 "aiops.yaml, logs/")
      ->capture_default_str();
  up->add_option("--scenario", o.scenario, "kube-sim scenario name or file")->capture_default_str();
  up->add_option("--speed", o.speed, "kube-sim clock speed (back-offs, deadlines)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  auto* kc = up->add_option("--kubeconfig", o.kubeconfig,
                            "use this cluster instead of kube-sim (needs the RBAC of deploy/k8s)");
  up->add_option("--context", o.context, "kubeconfig context")->needs(kc);
  up->add_option("--cluster-name", o.cluster_name, "cluster name shown in remediations");
  auto* url = up->add_option("--llm-url", o.llm_url,
                             "LLM server (Ollama http://127.0.0.1:11434, or OpenAI-compatible); "
                             "proposer mode becomes llm-first");
  auto* model = up->add_option("--llm-model", o.llm_model, "model name, e.g. qwen2.5:7b-instruct");
  url->needs(model);
  model->needs(url);
  up->add_option("--llm-backend", o.llm_backend, "ollama or openai (default: from the URL)")
      ->check(CLI::IsMember({"ollama", "openai"}))
      ->needs(url);
  up->add_option("--auto-approve", o.auto_approve,
                 "auto-approve runbook proposals up to this risk (unattended demo)")
      ->check(CLI::IsMember({"low", "medium"}));
  up->add_option("--grpc-listen", o.grpc_listen,
                 "approver gRPC address (port 0 or a taken port: pick a free one)")
      ->capture_default_str();
  up->add_option("--identity", o.identity, "approver identity of the generated token ($USER)");
  up->add_option("--bin-dir", o.bin_dir, "where the binaries are (default: next to aiops-local)");
  up->add_flag("--broker-control", o.broker_control,
               "serve the development broker's loopback fault-injection endpoint (broker "
               "down/up, request errors, latency); its address goes to DIR/broker.control");
  up->add_option("--set", sets,
                 "extra configuration KEY=VALUE written into aiops.yaml "
                 "(repeatable), e.g. --set proposer.workers=4");

  std::string down_dir = ".aiops-local";
  auto* down = app.add_subcommand("down", "stop the aiops-local running in --dir");
  down->add_option("--dir", down_dir, "state directory")->capture_default_str();

  CLI11_PARSE(app, argc, argv);
  try {
    for (const auto& s : sets)
      o.sets.push_back(aiops_local::ParseSet(s));
    if (down->parsed()) return Down(down_dir);
    Launcher launcher(o);
    return launcher.Up();
  } catch (const std::exception& e) {
    std::cerr << "aiops-local: " << e.what() << "\n";
    return 1;
  }
}
