// Fault rules: parsing (good and bad input), matching, and their effect through the API.
#include <gtest/gtest.h>

#include "api_server_fixture.hpp"
#include "faults.hpp"
#include "status.hpp"

namespace kubesim {
namespace {

std::vector<FaultRule> Rules(const std::string& json_text) {
  return ParseFaultRules(json::parse(json_text));
}

// The parser's message for bad input ("" when it was accepted).
std::string ParseError(const std::string& json_text) {
  try {
    Rules(json_text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(FaultRules, ParsesEveryFieldWithDefaults) {
  auto rules = Rules(
      R"({"rules":[{"status":500},
        {"status":429,"delay_ms":20,"probability":0.5,"methods":["get","PATCH"],
         "path_prefix":"/apis/apps","retry_after_seconds":2,"max":3,"watch":true}]})");
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].status, 500);
  EXPECT_EQ(rules[0].probability, 1.0);
  EXPECT_TRUE(rules[0].methods.empty());
  EXPECT_EQ(rules[0].path_prefix, "");
  EXPECT_FALSE(rules[0].max.has_value());
  EXPECT_FALSE(rules[0].watch);
  EXPECT_EQ(rules[1].delay_ms, 20);
  EXPECT_EQ(rules[1].methods, (std::vector<std::string>{"GET", "PATCH"}));
  EXPECT_EQ(rules[1].path_prefix, "/apis/apps");
  EXPECT_EQ(rules[1].retry_after_seconds, 2);
  EXPECT_EQ(rules[1].max, 3);
  EXPECT_TRUE(rules[1].watch);
  EXPECT_TRUE(Rules(R"({"rules":[]})").empty());
}

TEST(FaultRules, YamlFileShapeIsTheSame) {
  auto rules =
      ParseFaultRules(YamlToJson("rules:\n- status: 503\n  methods: [DELETE]\n- delay_ms: 100\n"));
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].status, 503);
  EXPECT_EQ(rules[1].status, 0);
  EXPECT_EQ(rules[1].delay_ms, 100);
}

TEST(FaultRules, BadInputNamesTheField) {
  EXPECT_NE(ParseError(R"({"rules":[{"status":404}]})").find("rules[0].status"), std::string::npos);
  EXPECT_NE(ParseError(R"({"rules":[{"status":500},{"status":500,"probability":1.5}]})")
                .find("rules[1].probability"),
            std::string::npos);
  EXPECT_NE(
      ParseError(R"({"rules":[{"status":500,"methods":["FETCH"]}]})").find("rules[0].methods[0]"),
      std::string::npos);
  EXPECT_NE(
      ParseError(R"({"rules":[{"status":500,"path_prefix":"api"}]})").find("rules[0].path_prefix"),
      std::string::npos);
  EXPECT_NE(ParseError(R"({"rules":[{"status":500,"retry_after_seconds":1}]})")
                .find("only applies to status 429 or 503"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"rules":[{"status":500,"max":0}]})").find("rules[0].max"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"rules":[{"status":500,"delay_ms":-1}]})").find("rules[0].delay_ms"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"rules":[{"statuss":500}]})").find("unknown field"), std::string::npos);
  EXPECT_NE(ParseError(R"({"rules":[{}]})").find("does nothing"), std::string::npos);
  EXPECT_NE(ParseError(R"({"rule":[]})").find("unknown field"), std::string::npos);
  EXPECT_NE(ParseError(R"({"rules":{"status":500}})").find("must be a list"), std::string::npos);
  EXPECT_NE(ParseError(R"([])").find("must be an object"), std::string::npos);
}

TEST(FaultInjector, ProbabilityOneAlwaysAndZeroNever) {
  FaultInjector f;
  f.SetRules(Rules(R"({"rules":[{"status":503,"probability":0},{"status":500}]})"));
  for (int i = 0; i < 200; ++i) {
    auto d = f.Decide("GET", "/api/v1/pods", false);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->status, 500);  // the probability-0 rule never wins
  }
  json s = f.State();
  EXPECT_EQ(s["injected"]["500"], 200);
  EXPECT_EQ(s["injected"]["503"], 0);
  EXPECT_EQ(s["total"], 200);
  EXPECT_EQ(s["requests"], 200);
}

TEST(FaultInjector, ProbabilityHalfHitsAboutHalf) {
  FaultInjector f;
  f.SetRules(Rules(R"({"rules":[{"status":500,"probability":0.5}]})"));
  int hits = 0;
  for (int i = 0; i < 4000; ++i)
    hits += f.Decide("GET", "/api/v1/pods", false).has_value() ? 1 : 0;
  // 4000 fair coin flips land in [1700, 2300] except with probability ~1e-20.
  EXPECT_GT(hits, 1700);
  EXPECT_LT(hits, 2300);
}

TEST(FaultInjector, MaxStopsTheRuleAndLaterRulesTakeOver) {
  FaultInjector f;
  f.SetRules(Rules(R"({"rules":[{"status":429,"max":2},{"status":0,"delay_ms":1,"max":1}]})"));
  auto a = f.Decide("GET", "/api/v1/pods", false);
  auto b = f.Decide("GET", "/api/v1/pods", false);
  auto c = f.Decide("GET", "/api/v1/pods", false);
  auto d = f.Decide("GET", "/api/v1/pods", false);
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(a->status, 429);
  EXPECT_EQ(a->retry_after_seconds, 1);  // a 429 always says when to retry
  EXPECT_EQ(b->status, 429);
  EXPECT_EQ(c->status, 0);
  EXPECT_EQ(c->delay_ms, 1);
  EXPECT_FALSE(d.has_value());
  json s = f.State();
  EXPECT_EQ(s["injected"]["429"], 2);
  EXPECT_EQ(s["injected"]["delay"], 1);
  EXPECT_EQ(s["total"], 3);
  EXPECT_EQ(s["rules"][0]["injected"], 2);
  // Replacing the rules restarts their budgets but keeps the counters.
  f.SetRules(Rules(R"({"rules":[{"status":429,"max":1}]})"));
  EXPECT_TRUE(f.Decide("GET", "/api/v1/pods", false).has_value());
  EXPECT_EQ(f.State()["injected"]["429"], 3);
}

TEST(FaultInjector, MethodsPrefixAndWatchSelectRequests) {
  FaultInjector f;
  f.SetRules(Rules(R"({"rules":[{"status":500,"methods":["PATCH"],"path_prefix":"/apis/apps"}]})"));
  EXPECT_TRUE(f.Decide("PATCH", "/apis/apps/v1/namespaces/a/deployments/web", false));
  EXPECT_FALSE(f.Decide("GET", "/apis/apps/v1/namespaces/a/deployments/web", false));
  EXPECT_FALSE(f.Decide("PATCH", "/api/v1/namespaces/a/pods/p", false));
  f.SetRules(Rules(R"({"rules":[{"status":500}]})"));
  EXPECT_FALSE(f.Decide("GET", "/api/v1/pods", true)) << "watches are spared by default";
  f.SetRules(Rules(R"({"rules":[{"status":500,"watch":true}]})"));
  EXPECT_TRUE(f.Decide("GET", "/api/v1/pods", true));
  EXPECT_TRUE(f.Decide("GET", "/api/v1/pods", false));
}

TEST(FaultInjector, ExemptPathsAreNeverFaultedNorCounted) {
  FaultInjector f;
  f.SetRules(Rules(R"({"rules":[{"status":500}]})"));
  for (const char* p : {"/", "/api", "/apis", "/version", "/healthz", "/readyz", "/livez",
                        "/openapi/v3", "/openapi/v3/apis/apps/v1", "/_sim/faults", "/_sim/audit"})
    EXPECT_FALSE(f.Decide("GET", p, false)) << p;
  EXPECT_EQ(f.State()["requests"], 0);
  EXPECT_FALSE(FaultExempt("/api/v1"));
  EXPECT_FALSE(FaultExempt("/apis/apps/v1"));
  EXPECT_FALSE(FaultExempt("/versions"));
  EXPECT_TRUE(f.Decide("GET", "/api/v1", false));
}

TEST(FaultError, StatusObjectsAsTheApiServerSendsThem) {
  json s500 = FaultError({500, 0, std::nullopt}).ToStatus();
  EXPECT_EQ(s500["reason"], "InternalError");
  EXPECT_EQ(s500["code"], 500);
  json s429 = FaultError({429, 0, 3}).ToStatus();
  EXPECT_EQ(s429["reason"], "TooManyRequests");
  EXPECT_EQ(s429["details"]["retryAfterSeconds"], 3);
  json s503 = FaultError({503, 0, std::nullopt}).ToStatus();
  EXPECT_EQ(s503["reason"], "ServiceUnavailable");
  EXPECT_EQ(s503["kind"], "Status");
}

// Through the API server: the /_sim/faults endpoints and the effect on requests.
using FaultsApiTest = ApiServerTest;

TEST_F(FaultsApiTest, PutGetDeleteRules) {
  auto put = Call("PUT", "/_sim/faults", R"({"rules":[{"status":503,"retry_after_seconds":7}]})");
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(Body(put)["rules"][0]["status"], 503);
  auto denied = Call("GET", "/api/v1/namespaces/default/configmaps");
  EXPECT_EQ(denied.status, 503);
  EXPECT_EQ(Body(denied)["reason"], "ServiceUnavailable");
  ASSERT_EQ(denied.headers.size(), 1u);
  EXPECT_EQ(denied.headers[0], (std::pair<std::string, std::string>{"Retry-After", "7"}));
  EXPECT_EQ(Call("GET", "/version").status, 200);
  json state = Body(Call("GET", "/_sim/faults"));
  EXPECT_EQ(state["injected"]["503"], 1);
  EXPECT_EQ(state["requests"], 1);
  auto del = Call("DELETE", "/_sim/faults");
  EXPECT_EQ(Body(del)["rules"].size(), 0u);
  EXPECT_EQ(Body(del)["total"], 1) << "counters survive clearing the rules";
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/default/configmaps").status, 200);
  EXPECT_EQ(Call("POST", "/_sim/faults", R"({"rules":[{"status":500}]})").status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/default/configmaps").status, 500);
}

TEST_F(FaultsApiTest, BadRulesAre400WithTheReasonAndKeepTheOldRules) {
  ASSERT_EQ(Call("PUT", "/_sim/faults", R"({"rules":[{"status":500,"max":1}]})").status, 200);
  auto bad = Call("PUT", "/_sim/faults", R"({"rules":[{"status":500,"probability":2}]})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Body(bad)["reason"], "BadRequest");
  EXPECT_NE(Body(bad)["message"].get<std::string>().find("rules[0].probability"), std::string::npos)
      << bad.body;
  auto garbage = Call("PUT", "/_sim/faults", "{not json");
  EXPECT_EQ(garbage.status, 400);
  EXPECT_NE(garbage.body.find("not valid JSON"), std::string::npos);
  EXPECT_EQ(Body(Call("GET", "/_sim/faults"))["rules"].size(), 1u);
  EXPECT_EQ(Call("PATCH", "/_sim/faults").status, 405);
  EXPECT_EQ(Call("GET", "/_sim/nothing").status, 404);
}

TEST_F(FaultsApiTest, FaultedWriteIsNotApplied) {
  ASSERT_EQ(Call("POST", "/api/v1/namespaces/default/configmaps", ConfigMap("c").dump()).status,
            201);
  ASSERT_EQ(Call("PUT", "/_sim/faults", R"({"rules":[{"status":500,"methods":["PATCH"]}]})").status,
            200);
  auto patch =
      Call("PATCH", "/api/v1/namespaces/default/configmaps/c", R"({"data":{"k":"changed"}})", {},
           {{"content-type", "application/merge-patch+json"}});
  EXPECT_EQ(patch.status, 500);
  EXPECT_EQ(Body(Call("GET", "/api/v1/namespaces/default/configmaps/c"))["data"]["k"], "v");
}

TEST_F(FaultsApiTest, TokenGuardsTheSwitches) {
  ApiOptions o;
  o.token = "s3cret";
  ApiServer guarded(objects_, logs_, o);
  ApiRequest anon{"PUT", "/_sim/faults", {}, {}, R"({"rules":[]})"};
  EXPECT_EQ(guarded.Handle(anon).status, 401);
  anon.headers["authorization"] = "Bearer s3cret";
  EXPECT_EQ(guarded.Handle(anon).status, 200);
}

}  // namespace
}  // namespace kubesim
