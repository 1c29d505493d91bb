// scripted-llm-server: a TEST DOUBLE for an LLM server. It speaks Ollama /api/chat and the
// OpenAI-compatible /v1/chat/completions, and answers from fixture files instead of a model,
// so tests can script valid, invalid, slow and failing answers. Never use it as a real LLM.
//
// Fixtures: every *.json in --fixtures DIR is one script:
//   {"match": "text in the prompt",            (optional)
//    "responses": [ {"status": 200, "delay_ms": 0,
//                    "content": "model text" | "content_json": {...}} , ... ]}
// A request picks the fixture whose file name (without .json) equals its model, else the
// first fixture (by name) whose `match` occurs in its messages. The n-th request to a fixture
// gets responses[n] (the last one repeats). status != 200 answers that HTTP status.
//
// Test endpoints: GET /_test/requests lists every request received (path, model, fixture,
// bytes, body); DELETE /_test/requests forgets them. `--listen 127.0.0.1:0` picks a free port;
// the address is printed on stdout: "scripted-llm-server listening on http://HOST:PORT".
#include <httplib.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

using nlohmann::json;

namespace {

struct Fixture {
  std::string name;
  std::string match;
  std::vector<json> responses;
  size_t served = 0;
};

class Script {
 public:
  void Load(const std::string& dir) {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      if (e.path().extension() == ".json") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      std::ifstream in(f);
      json j;
      try {
        j = json::parse(in);
      } catch (const std::exception& e) {
        throw std::runtime_error(f.string() + ": " + e.what());
      }
      Fixture fx;
      fx.name = f.stem().string();
      fx.match = j.value("match", "");
      if (!j.contains("responses") || !j["responses"].is_array() || j["responses"].empty()) {
        throw std::runtime_error(f.string() + ": needs a non-empty responses list");
      }
      for (const auto& r : j["responses"])
        fx.responses.push_back(r);
      fixtures_.push_back(fx);
    }
  }

  // Picks the fixture and the response for one request; nullopt when none matches.
  std::optional<std::pair<std::string, json>> Next(const std::string& model,
                                                   const std::string& text) {
    std::lock_guard lock(mu_);
    Fixture* pick = nullptr;
    for (auto& f : fixtures_) {
      if (f.name == model) pick = &f;
    }
    if (pick == nullptr) {
      for (auto& f : fixtures_) {
        if (!f.match.empty() && text.find(f.match) != std::string::npos) {
          pick = &f;
          break;
        }
      }
    }
    if (pick == nullptr) return std::nullopt;
    const json& r = pick->responses[std::min(pick->served, pick->responses.size() - 1)];
    ++pick->served;
    return std::make_pair(pick->name, r);
  }

  void Record(json entry) {
    std::lock_guard lock(mu_);
    entry["seq"] = requests_.size() + 1;
    requests_.push_back(std::move(entry));
  }
  json Requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }
  void Clear() {
    std::lock_guard lock(mu_);
    requests_ = json::array();
  }
  size_t size() const { return fixtures_.size(); }

 private:
  std::mutex mu_;
  std::vector<Fixture> fixtures_;
  json requests_ = json::array();
};

void Serve(Script& script, const httplib::Request& req, httplib::Response& res, bool openai) {
  json body = json::parse(req.body, nullptr, false);
  if (!body.is_object()) {
    res.status = 400;
    res.set_content(R"({"error":"body is not JSON"})", "application/json");
    return;
  }
  std::string model = body.value("model", "");
  std::string text;
  if (body.contains("messages") && body["messages"].is_array()) {
    for (const auto& m : body["messages"]) {
      if (m.contains("content") && m["content"].is_string())
        text += m["content"].get<std::string>() + "\n";
    }
  }
  // Protocol checks: a client that forgets these would get free text from a real server.
  std::string protocol_error;
  if (openai) {
    if (!body.contains("response_format") ||
        body["response_format"].value("type", "") != "json_schema")
      protocol_error = "response_format.type must be json_schema";
  } else {
    if (body.value("stream", true) != false) protocol_error = "stream must be false";
    if (!body.contains("format") || !body["format"].is_object())
      protocol_error = "format must be a JSON schema object";
  }
  auto pick = protocol_error.empty() ? script.Next(model, text) : std::nullopt;
  script.Record({{"path", req.path},
                 {"model", model},
                 {"fixture", pick ? pick->first : ""},
                 {"bytes", req.body.size()},
                 {"body", body}});
  if (!protocol_error.empty()) {
    res.status = 400;
    res.set_content(json{{"error", protocol_error}}.dump(), "application/json");
    return;
  }
  if (!pick) {
    res.status = 404;
    res.set_content(json{{"error", "no fixture for model " + model}}.dump(), "application/json");
    return;
  }
  const json& r = pick->second;
  if (int delay = r.value("delay_ms", 0); delay > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(delay));  // scripted slowness
  }
  int status = r.value("status", 200);
  if (status != 200) {
    res.status = status;
    res.set_content(json{{"error", r.value("error", "scripted failure")}}.dump(),
                    "application/json");
    return;
  }
  std::string content =
      r.contains("content_json") ? r["content_json"].dump() : r.value("content", std::string());
  uint32_t prompt_tokens = static_cast<uint32_t>((text.size() + 3) / 4);
  uint32_t completion_tokens = static_cast<uint32_t>((content.size() + 3) / 4);
  json out;
  if (openai) {
    out = {{"id", "chatcmpl-scripted"},
           {"object", "chat.completion"},
           {"created", 0},
           {"model", model},
           {"choices",
            {{{"index", 0},
              {"message", {{"role", "assistant"}, {"content", content}}},
              {"finish_reason", "stop"}}}},
           {"usage",
            {{"prompt_tokens", prompt_tokens},
             {"completion_tokens", completion_tokens},
             {"total_tokens", prompt_tokens + completion_tokens}}}};
  } else {
    out = {{"model", model},
           {"created_at", "1970-01-01T00:00:00Z"},
           {"message", {{"role", "assistant"}, {"content", content}}},
           {"done", true},
           {"done_reason", "stop"},
           {"prompt_eval_count", prompt_tokens},
           {"eval_count", completion_tokens}};
  }
  res.set_content(out.dump(), "application/json");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("scripted-llm-server: LLM TEST DOUBLE answering from fixture files",
               "scripted-llm-server");
  std::string listen = "127.0.0.1:0";
  std::string dir;
  app.add_option("--listen", listen, "host:port (port 0 picks a free one)");
  app.add_option("--fixtures", dir, "directory of fixture *.json files")->required();
  CLI11_PARSE(app, argc, argv);

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  Script script;
  try {
    script.Load(dir);
  } catch (const std::exception& e) {
    std::cerr << "scripted-llm-server: " << e.what() << "\n";
    return 2;
  }
  auto colon = listen.rfind(':');
  std::string host = listen.substr(0, colon);
  int port = std::stoi(listen.substr(colon + 1));

  httplib::Server server;
  server.Post("/api/chat",
              [&](const httplib::Request& q, httplib::Response& r) { Serve(script, q, r, false); });
  server.Post("/v1/chat/completions",
              [&](const httplib::Request& q, httplib::Response& r) { Serve(script, q, r, true); });
  server.Get("/_test/requests", [&](const httplib::Request&, httplib::Response& r) {
    r.set_content(script.Requests().dump(), "application/json");
  });
  server.Delete("/_test/requests", [&](const httplib::Request&, httplib::Response& r) {
    script.Clear();
    r.set_content("{}", "application/json");
  });
  if (port == 0) {
    port = server.bind_to_any_port(host);
  } else if (!server.bind_to_port(host, port)) {
    port = -1;
  }
  if (port <= 0) {
    std::cerr << "scripted-llm-server: cannot listen on " << listen << "\n";
    return 2;
  }
  std::thread signals([&] {
    int sig = 0;
    sigwait(&set, &sig);
    server.stop();
  });
  signals.detach();
  std::cout << "scripted-llm-server listening on http://" << host << ":" << port << " ("
            << script.size() << " fixtures)" << std::endl;
  server.listen_after_bind();
  return 0;
}
