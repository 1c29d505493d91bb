// An ApiServer over a bootstrapped in-memory cluster, called directly (no HTTP): shared by the
// API, fault and audit unit tests.
#pragma once

#include <gtest/gtest.h>

#include "api_server.hpp"
#include "scenario.hpp"

namespace kubesim {

class ApiServerTest : public ::testing::Test {
 protected:
  ApiServerTest() : objects_(store_, clock_), api_(objects_, logs_) { Bootstrap(objects_); }

  ApiResponse Call(const std::string& method, const std::string& path, const std::string& body = "",
                   std::multimap<std::string, std::string> query = {},
                   std::map<std::string, std::string> headers = {}) {
    ApiRequest r{method, path, std::move(query), std::move(headers), body};
    return api_.Handle(r);
  }
  static json Body(const ApiResponse& r) { return json::parse(r.body); }

  json ConfigMap(const std::string& name) {
    return {{"apiVersion", "v1"},
            {"kind", "ConfigMap"},
            {"metadata", {{"name", name}}},
            {"data", {{"k", "v"}}}};
  }

  Store store_;
  SimClock clock_;
  ObjectService objects_;
  LogStore logs_;
  ApiServer api_;
};

}  // namespace kubesim
