// kube-sim: a simulated Kubernetes API server with simulated controllers and kubelet.
// See docs/kube-sim.md. Prints "kube-sim listening on http://HOST:PORT" once it serves.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <iostream>

#include "api_server.hpp"
#include "http_server.hpp"
#include "image_registry.hpp"
#include "kubeconfig.hpp"
#include "scenario.hpp"
#include "simulator.hpp"
#include "tls.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "kube-sim: a simulated Kubernetes API server (kubectl-compatible) with simulated "
      "controllers, scheduler and kubelet"};
  std::string scenario_arg, listen = "127.0.0.1:0", kubeconfig_out, token, log_level = "info",
                            faults_file;
  double speed = 1.0;
  size_t threads = 256, event_log = 300000;
  bool no_sim = false, tls = false;
  app.add_option("--scenario", scenario_arg,
                 "scenario YAML file, or the name of a shipped scenario (e.g. demo)");
  app.add_option("--listen", listen, "address to serve on, HOST:PORT (port 0 picks a free one)")
      ->capture_default_str();
  app.add_option("--kubeconfig-out", kubeconfig_out, "write a kubeconfig for this server here");
  app.add_option("--token", token, "require this bearer token on every request");
  app.add_flag("--tls", tls,
               "serve https with a self-signed certificate (put into the kubeconfig); needed for "
               "kubectl with --token, as client-go sends tokens only over https");
  app.add_option("--speed", speed, "simulation clock speed factor (10 = ten times faster)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--threads", threads, "HTTP worker threads (each open watch holds one)")
      ->capture_default_str();
  app.add_option("--watch-cache-events", event_log,
                 "events kept for watches that resume from a resourceVersion (older: 410 Gone)")
      ->capture_default_str();
  app.add_flag("--no-simulation", no_sim,
               "serve the API only: no controllers, scheduler or kubelet");
  app.add_option("--faults", faults_file,
                 "fault rules to start with, YAML or JSON {rules: [{status: 500|429|503|0, "
                 "delay_ms, probability, methods, path_prefix, retry_after_seconds, max, watch}]}; "
                 "change them at run time with PUT/DELETE /_sim/faults, read the counters with "
                 "GET /_sim/faults and the write audit with GET /_sim/audit?since=SEQ "
                 "(docs/kube-sim.md)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto logger = spdlog::stderr_color_mt("kube-sim");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(log_level));

  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    std::cerr << "--listen must be HOST:PORT\n";
    return 2;
  }
  std::string host = listen.substr(0, colon);
  int port = 0;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (...) {
    std::cerr << "--listen must be HOST:PORT\n";
    return 2;
  }

  // Signals are taken synchronously by sigwait below; block them before any thread starts so
  // no worker thread is interrupted by them.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  kubesim::Store store(event_log);
  kubesim::SimClock clock(speed);
  kubesim::ObjectService objects(store, clock);
  // With a simulated kubelet, pods on nodes terminate gracefully (Terminating, then gone).
  objects.set_graceful_pod_deletion(!no_sim);
  kubesim::LogStore logs;
  kubesim::ImageRegistry registry;
  try {
    kubesim::Bootstrap(objects);
    kubesim::Scenario scenario;
    if (!scenario_arg.empty()) scenario = kubesim::LoadScenario(scenario_arg);
    kubesim::ApplyScenario(scenario, objects, registry);
    if (!scenario_arg.empty())
      spdlog::info("scenario {} loaded: {} objects, {} images", scenario.name,
                   scenario.objects.size(), scenario.images.size());
  } catch (const std::exception& e) {
    spdlog::error("cannot load scenario: {}", e.what());
    return 2;
  }

  kubesim::ApiOptions options;
  options.token = token;
  kubesim::ApiServer api(objects, logs, options);
  if (!faults_file.empty()) {
    try {
      api.faults().SetRules(kubesim::LoadFaultRules(faults_file));
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
      return 2;
    }
    spdlog::info("fault rules loaded from {}", faults_file);
  }
  std::unique_ptr<kubesim::TlsIdentity> identity;
  if (tls) {
    try {
      identity = kubesim::MakeSelfSignedIdentity(host);
    } catch (const std::exception& e) {
      spdlog::error("cannot create a TLS certificate: {}", e.what());
      return 1;
    }
  }
  kubesim::HttpServer http(api, store, threads, identity.get());
  int bound = http.Bind(host, port);
  if (bound <= 0) {
    spdlog::error("cannot listen on {}", listen);
    return 1;
  }
  std::string url = (tls ? "https://" : "http://") + host + ":" + std::to_string(bound);
  if (!kubeconfig_out.empty() &&
      !kubesim::WriteKubeconfig(kubeconfig_out, url, token, identity ? identity->cert_pem : "")) {
    spdlog::error("cannot write kubeconfig {}", kubeconfig_out);
    return 1;
  }
  kubesim::Simulator sim(objects, logs, registry);
  if (!no_sim) sim.Start();
  http.Start();
  std::printf("kube-sim listening on %s\n", url.c_str());
  std::fflush(stdout);
  spdlog::info("serving {} (speed {}x{})", url, speed, no_sim ? ", simulation off" : "");

  int sig = 0;
  sigwait(&sigs, &sig);
  spdlog::info("signal {} received, shutting down", sig);
  sim.Stop();
  http.Stop();
  spdlog::info("stopped");
  return 0;
}
