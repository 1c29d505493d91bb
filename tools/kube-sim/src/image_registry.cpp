#include "image_registry.hpp"

#include <cstdio>
#include <stdexcept>

namespace kubesim {

std::string NormalizeImage(const std::string& ref_in) {
  std::string ref = ref_in;
  std::string digest;
  if (size_t at = ref.find('@'); at != std::string::npos) {
    digest = ref.substr(at);
    ref = ref.substr(0, at);
  }
  std::string tag;
  size_t slash = ref.rfind('/');
  size_t colon = ref.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    tag = ref.substr(colon + 1);
    ref = ref.substr(0, colon);
  }
  // A first component with a dot, a port or "localhost" is a registry host.
  size_t first = ref.find('/');
  std::string host;
  if (first != std::string::npos) {
    std::string c = ref.substr(0, first);
    if (c.find('.') != std::string::npos || c.find(':') != std::string::npos || c == "localhost")
      host = c;
  }
  if (host.empty()) {
    if (ref.find('/') == std::string::npos) ref = "library/" + ref;
    ref = "docker.io/" + ref;
  }
  if (!digest.empty()) return ref + digest;
  return ref + ":" + (tag.empty() ? "latest" : tag);
}

ImageRegistry::ImageRegistry() {
  // Everyday images so ad-hoc `kubectl create deployment --image=nginx:1.27` works without a
  // scenario. They run forever and print a start-up line.
  for (const char* ref : {"nginx:1.25", "nginx:1.26", "nginx:1.27", "busybox:1.36",
                          "registry.k8s.io/pause:3.9", "redis:7.2"}) {
    ImageBehavior b;
    b.image = ref;
    b.logs = {std::string("started ") + ref};
    Add(b);
  }
}

void ImageRegistry::Add(const ImageBehavior& b) {
  std::lock_guard<std::mutex> lock(mu_);
  images_[NormalizeImage(b.image)] = b;
}

std::optional<ImageBehavior> ImageRegistry::Find(const std::string& ref) const {
  std::string n = NormalizeImage(ref);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = images_.find(n);
  if (it != images_.end()) return it->second;
  // A digest reference resolves when some known tag of the same repository has that digest.
  if (size_t at = n.find('@'); at != std::string::npos) {
    std::string repo = n.substr(0, at), digest = n.substr(at + 1);
    for (const auto& [key, b] : images_) {
      if (key.rfind(repo + ":", 0) == 0 && DigestOf(key) == digest) return b;
    }
  }
  return std::nullopt;
}

std::string ImageRegistry::DigestOf(const std::string& ref) {
  std::string n = NormalizeImage(ref);
  char buf[80];
  uint32_t a = Fnv32a(n), b = Fnv32a(n + "#1"), c = Fnv32a(n + "#2"), d = Fnv32a(n + "#3");
  snprintf(buf, sizeof buf, "sha256:%08x%08x%08x%08x%08x%08x%08x%08x", a, b, c, d, a ^ b, b ^ c,
           c ^ d, d ^ a);
  return buf;
}

ImageBehavior ImageRegistry::FromJson(const json& j) {
  if (!j.is_object() || !j.contains("image") || !j["image"].is_string())
    throw std::runtime_error("registry image entries need an `image` string");
  ImageBehavior b;
  b.image = j["image"];
  auto num = [&](const char* k, double def) {
    return j.contains(k) && j[k].is_number() ? j[k].get<double>() : def;
  };
  auto strings = [&](const char* k) {
    std::vector<std::string> out;
    if (j.contains(k) && j[k].is_array()) {
      for (const auto& s : j[k])
        out.push_back(s.is_string() ? s.get<std::string>() : s.dump());
    }
    return out;
  };
  b.pull_seconds = num("pullSeconds", b.pull_seconds);
  b.ready_after_seconds = num("readyAfterSeconds", b.ready_after_seconds);
  b.logs = strings("logs");
  b.memory_mib = num("memoryMiB", 0);
  b.oom_after_seconds = num("oomAfterSeconds", b.oom_after_seconds);
  b.required_env = strings("requiredEnv");
  b.crash_logs = strings("crashLogs");
  b.crash_exit_code = static_cast<int>(num("crashExitCode", 1));
  b.crash_after_seconds = num("crashAfterSeconds", b.crash_after_seconds);
  if (j.contains("exitAfterSeconds") && j["exitAfterSeconds"].is_number())
    b.exit_after_seconds = j["exitAfterSeconds"].get<double>();
  b.exit_code = static_cast<int>(num("exitCode", 0));
  b.size_bytes = static_cast<int64_t>(num("sizeBytes", static_cast<double>(b.size_bytes)));
  for (const auto& [k, v] : j.items()) {
    static const char* kKnown[] = {
        "image",         "pullSeconds",       "readyAfterSeconds", "logs",
        "memoryMiB",     "oomAfterSeconds",   "requiredEnv",       "crashLogs",
        "crashExitCode", "crashAfterSeconds", "exitAfterSeconds",  "exitCode",
        "sizeBytes"};
    bool known = false;
    for (const char* x : kKnown)
      known = known || k == x;
    if (!known) throw std::runtime_error("unknown field `" + k + "` in registry image " + b.image);
    (void)v;
  }
  return b;
}

}  // namespace kubesim
