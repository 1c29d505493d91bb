// A Kubernetes API client over libcurl. Expected failures (404, 409, 410, 422, timeouts,
// connection refused) come back as values carrying the API's Status, never as exceptions;
// 429 and 5xx answers and transport errors are retried with back-off within a budget.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "aiops/kube/credentials.hpp"

namespace aiops::kube {

using Json = nlohmann::json;

// A failed call: the HTTP code (0 when no answer arrived), and the Status reason/message.
struct ApiError {
  int code = 0;
  std::string reason;  // NotFound, Conflict, Gone, ... or "Transport" when no answer
  std::string message;
  Json status;  // the full Status object when the server sent one

  bool NotFound() const { return code == 404; }
  bool Conflict() const { return code == 409; }
  bool Gone() const { return code == 410; }
  std::string ToString() const;
};

template <class T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  Result(ApiError error) : error_(std::move(error)) {}  // NOLINT
  bool ok() const { return value_.has_value(); }
  const T& value() const { return *value_; }
  T& value() { return *value_; }
  const ApiError& error() const { return *error_; }

 private:
  std::optional<T> value_;
  std::optional<ApiError> error_;
};

struct ClientOptions {
  std::chrono::milliseconds request_timeout{15000};
  std::chrono::milliseconds connect_timeout{5000};
  // Retries of 429/5xx/transport failures, and the total time they may take.
  int max_retries = 3;
  std::chrono::milliseconds retry_budget{10000};
  std::chrono::milliseconds initial_backoff{200};
  std::string user_agent = "aiops/0.1";
};

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  int page_size = 500;  // `limit`; pages are followed with `continue`
};

struct PatchOptions {
  std::string field_manager = "aiops";
  bool force = false;
  bool dry_run = false;
};

enum class PatchType { kApply, kMerge, kStrategicMerge };

struct WatchEvent {
  std::string type;  // ADDED, MODIFIED, DELETED, BOOKMARK, ERROR
  Json object;
};

// Why a watch stream ended.
struct WatchEnd {
  enum class Reason { kStopped, kClosed, kGone, kError };
  Reason reason = Reason::kClosed;
  std::string resource_version;  // last seen, to resume from
  std::optional<ApiError> error;
};

// Paths: Path("", "v1", "pods", "shop", "web-1", "log") -> /api/v1/namespaces/shop/pods/web-1/log
std::string Path(const std::string& group, const std::string& version, const std::string& resource,
                 const std::string& ns = "", const std::string& name = "",
                 const std::string& subresource = "");
std::string UrlEncode(const std::string& s);

class Client {
 public:
  Client(Credentials credentials, ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  Result<Json> Get(const std::string& path);
  // Every page of a list, items concatenated; the result is the List object of the last
  // page with all items and metadata.resourceVersion from the first page (the snapshot).
  Result<Json> List(const std::string& path, const ListOptions& options = {});
  // Pages through a list handing each item to `on_item` and dropping the page afterwards,
  // so a 100,000-pod list never sits in memory at once. Returns the list's resourceVersion.
  Result<std::string> ListEach(const std::string& path, const ListOptions& options,
                               const std::function<void(Json& item)>& on_item);
  Result<Json> Patch(const std::string& path, const Json& body, PatchType type,
                     const PatchOptions& options = {});
  // Plain text (pod logs): query is appended as given ("container=x&previous=true").
  Result<std::string> GetText(const std::string& path, const std::string& query = "");

  // Streams watch events to `on_event` until it returns false, `stop` becomes true, the
  // server closes the stream, or an error (410 Gone arrives as an ERROR event holding a
  // Status with code 410 and ends the watch with kGone).
  WatchEnd Watch(const std::string& path, const std::string& resource_version,
                 const std::string& label_selector,
                 const std::function<bool(const WatchEvent&)>& on_event,
                 const std::atomic<bool>& stop, int timeout_seconds = 300);

  const Credentials& credentials() const { return credentials_; }

  // Raw request (used by the calls above); exposed for tests and rare verbs.
  struct RawResponse {
    int status = 0;
    std::string body;
    std::string transport_error;
    std::string retry_after;
  };
  RawResponse Request(const std::string& method, const std::string& path_and_query,
                      const std::string& body, const std::string& content_type,
                      const std::string& accept = "application/json");

 private:
  Result<Json> RequestJson(const std::string& method, const std::string& path_and_query,
                           const std::string& body, const std::string& content_type);
  std::string BearerToken();

  Credentials credentials_;
  ClientOptions options_;
  std::mutex token_mu_;
  std::string cached_token_;
  std::chrono::steady_clock::time_point token_read_at_{};
};

}  // namespace aiops::kube
