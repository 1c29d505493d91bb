#include "clock.hpp"

#include <cstdio>
#include <ctime>

namespace kubesim {

SimClock::SimClock(double speed)
    : speed_(speed > 0 ? speed : 1.0),
      start_wall_(std::chrono::system_clock::now()),
      start_steady_(std::chrono::steady_clock::now()) {}

SimTime SimClock::Now() const {
  // Steady clock for the elapsed part so a wall-clock jump cannot move sim time backwards.
  auto elapsed = std::chrono::steady_clock::now() - start_steady_;
  auto scaled = std::chrono::duration_cast<std::chrono::system_clock::duration>(
      std::chrono::duration<double, std::nano>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count() * speed_));
  return start_wall_ + scaled + std::chrono::milliseconds(offset_ms_.load());
}

void SimClock::Advance(std::chrono::milliseconds d) {
  offset_ms_ += d.count();
}

std::string Rfc3339(SimTime t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

namespace {

// RFC 3339 in UTC with `digits` (3 or 9) fractional digits.
std::string Rfc3339Fraction(SimTime t, int digits) {
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
  if (secs > t) secs -= std::chrono::seconds(1);
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t - secs).count();
  long long frac = digits == 3 ? ns / 1000000 : ns;
  std::time_t tt = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[48];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[64];
  snprintf(out, sizeof out, "%s.%0*lldZ", buf, digits, frac);
  return out;
}

}  // namespace

std::string Rfc3339Nano(SimTime t) {
  return Rfc3339Fraction(t, 9);
}

std::string Rfc3339Milli(SimTime t) {
  return Rfc3339Fraction(t, 3);
}

bool ParseRfc3339(const std::string& s, SimTime* out) {
  std::tm tm{};
  int y, mo, d, h, mi, sec;
  if (sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &sec) != 6) return false;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  *out = std::chrono::system_clock::from_time_t(timegm(&tm));
  return true;
}

std::string HumanDuration(std::chrono::seconds d) {
  long long seconds = d.count();
  char buf[32];
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) {
    snprintf(buf, sizeof buf, "%llds", seconds);
    return buf;
  }
  long long minutes = seconds / 60;
  if (minutes < 10) {
    long long s = seconds % 60;
    if (s == 0)
      snprintf(buf, sizeof buf, "%lldm", minutes);
    else
      snprintf(buf, sizeof buf, "%lldm%llds", minutes, s);
    return buf;
  }
  if (minutes < 180) {
    snprintf(buf, sizeof buf, "%lldm", minutes);
    return buf;
  }
  long long hours = seconds / 3600;
  if (hours < 8) {
    long long m = minutes % 60;
    if (m == 0)
      snprintf(buf, sizeof buf, "%lldh", hours);
    else
      snprintf(buf, sizeof buf, "%lldh%lldm", hours, m);
    return buf;
  }
  if (hours < 48) {
    snprintf(buf, sizeof buf, "%lldh", hours);
    return buf;
  }
  if (hours < 24 * 8) {
    long long hh = hours % 24;
    if (hh == 0)
      snprintf(buf, sizeof buf, "%lldd", hours / 24);
    else
      snprintf(buf, sizeof buf, "%lldd%lldh", hours / 24, hh);
    return buf;
  }
  if (hours < 24 * 365 * 2) {
    snprintf(buf, sizeof buf, "%lldd", hours / 24);
    return buf;
  }
  snprintf(buf, sizeof buf, "%lldy", hours / 24 / 365);
  return buf;
}

}  // namespace kubesim
