// Simulation clock: sim time runs `speed` times faster than wall time so tests can compress
// kubelet back-offs and progress deadlines without sleeping.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>

namespace kubesim {

using SimTime = std::chrono::system_clock::time_point;

class SimClock {
 public:
  explicit SimClock(double speed = 1.0);
  SimTime Now() const;
  double speed() const { return speed_; }
  // Tests can advance sim time explicitly (on top of the running clock).
  void Advance(std::chrono::milliseconds d);

 private:
  double speed_;
  std::chrono::system_clock::time_point start_wall_;
  std::chrono::steady_clock::time_point start_steady_;
  std::atomic<int64_t> offset_ms_{0};
};

// RFC 3339 with second precision in UTC, as metav1.Time serialises ("2024-05-01T10:00:00Z").
std::string Rfc3339(SimTime t);
// RFC 3339 with nanoseconds, as log timestamps (`kubectl logs --timestamps`) look.
std::string Rfc3339Nano(SimTime t);
// RFC 3339 with milliseconds ("2024-05-01T10:00:00.123Z"), for the write audit.
std::string Rfc3339Milli(SimTime t);
// Parses what Rfc3339 produces (and fractional seconds); returns false on bad input.
bool ParseRfc3339(const std::string& s, SimTime* out);
// kubectl's duration.HumanDuration ("5s", "3m20s", "2d4h").
std::string HumanDuration(std::chrono::seconds d);

}  // namespace kubesim
