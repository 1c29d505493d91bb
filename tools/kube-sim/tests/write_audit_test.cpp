// The write audit: the ring itself, and what the API server records in it.
#include <gtest/gtest.h>

#include "api_server_fixture.hpp"
#include "write_audit.hpp"

namespace kubesim {
namespace {

AuditEntry Entry(const std::string& name) {
  AuditEntry e;
  e.method = "PATCH";
  e.name = name;
  return e;
}

TEST(WriteAudit, SinceAndLimitPageThroughARing) {
  WriteAudit audit(3);
  for (const char* n : {"a", "b", "c", "d"})
    audit.Record(Entry(n));
  json all = audit.Since(0);
  ASSERT_EQ(all["entries"].size(), 3u) << "the oldest entry fell out of the ring";
  EXPECT_EQ(all["entries"][0]["seq"], 2);
  EXPECT_EQ(all["entries"][0]["name"], "b");
  EXPECT_EQ(all["next"], 4);
  json page = audit.Since(2, 1);
  ASSERT_EQ(page["entries"].size(), 1u);
  EXPECT_EQ(page["entries"][0]["name"], "c");
  EXPECT_EQ(page["next"], 3);
  json none = audit.Since(4);
  EXPECT_TRUE(none["entries"].empty());
  EXPECT_EQ(none["next"], 4);
}

using WriteAuditApiTest = ApiServerTest;

TEST_F(WriteAuditApiTest, RecordsWritesWithManagerDryRunAnnotationsAndOutcome) {
  json cm = ConfigMap("applied");
  cm["metadata"]["annotations"] = {{"aiops.io/remediation", "r-1"}};
  std::map<std::string, std::string> apply = {{"content-type", "application/apply-patch+yaml"},
                                              {"user-agent", "aiops/0.1"}};
  const std::string path = "/api/v1/namespaces/default/configmaps/applied";
  // A dry-run apply of a new object answers 200 and stores nothing.
  ASSERT_EQ(
      Call("PATCH", path, cm.dump(), {{"fieldManager", "aiops"}, {"dryRun", "All"}}, apply).status,
      200);
  ASSERT_EQ(Call("PATCH", path, cm.dump(), {{"fieldManager", "aiops"}}, apply).status, 201);
  EXPECT_EQ(Call("GET", path).status, 200);  // reads are not audited
  ASSERT_EQ(
      Call("PUT", "/_sim/faults", R"({"rules":[{"status":500,"methods":["DELETE"]}]})").status,
      200);
  EXPECT_EQ(Call("DELETE", path).status, 500);  // faulted: never reached the store
  cm["data"]["k"] = "other";
  EXPECT_EQ(Call("PATCH", path, cm.dump(), {{"fieldManager", "bob"}}, apply).status, 409);
  EXPECT_EQ(Call("POST", "/api/v1/namespaces/default/configmaps", ConfigMap("made").dump()).status,
            201);

  json out = Body(Call("GET", "/_sim/audit", "", {{"since", "0"}}));
  json entries = out["entries"];
  ASSERT_EQ(entries.size(), 4u) << out.dump(1);
  EXPECT_EQ(out["next"], 4);
  const json& dry = entries[0];
  EXPECT_EQ(dry["seq"], 1);
  EXPECT_EQ(dry["method"], "PATCH");
  EXPECT_EQ(dry["path"], path);
  EXPECT_EQ(dry["kind"], "ConfigMap");
  EXPECT_EQ(dry["namespace"], "default");
  EXPECT_EQ(dry["name"], "applied");
  EXPECT_EQ(dry["fieldManager"], "aiops");
  EXPECT_EQ(dry["dryRun"], true);
  EXPECT_EQ(dry["code"], 200);
  EXPECT_EQ(dry["patchType"], "application/apply-patch+yaml");
  EXPECT_EQ(dry["userAgent"], "aiops/0.1");
  EXPECT_EQ(dry["annotations"]["aiops.io/remediation"], "r-1");
  EXPECT_EQ(dry["generation"], 0) << "nothing stored after a dry run";
  EXPECT_EQ(dry["time"].get<std::string>().size(), std::string("2024-05-01T10:00:00.123Z").size());
  EXPECT_EQ(entries[1]["dryRun"], false);
  EXPECT_EQ(entries[1]["code"], 201);
  EXPECT_EQ(entries[2]["code"], 409);
  EXPECT_EQ(entries[2]["fieldManager"], "bob");
  EXPECT_EQ(entries[3]["method"], "POST");
  EXPECT_EQ(entries[3]["name"], "made");
  EXPECT_EQ(entries[3]["patchType"], "");
  EXPECT_EQ(entries[3]["annotations"], json::object());
  EXPECT_TRUE(Body(Call("GET", "/_sim/audit", "", {{"since", "4"}}))["entries"].empty());
  EXPECT_EQ(Call("GET", "/_sim/audit", "", {{"since", "x"}}).status, 400);
}

TEST_F(WriteAuditApiTest, GenerationIsTheStoredObjectsAfterTheWrite) {
  json deploy = {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", {{"name", "web"}}},
      {"spec",
       {{"replicas", 1},
        {"selector", {{"matchLabels", {{"app", "web"}}}}},
        {"template",
         {{"metadata", {{"labels", {{"app", "web"}}}}},
          {"spec", {{"containers", json::array({{{"name", "a"}, {"image", "nginx:1.25"}}})}}}}}}}};
  const std::string path = "/apis/apps/v1/namespaces/default/deployments/web";
  std::map<std::string, std::string> apply = {{"content-type", "application/apply-patch+yaml"}};
  ASSERT_EQ(Call("PATCH", path, deploy.dump(), {{"fieldManager", "aiops"}}, apply).status, 201);
  deploy["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.26";
  ASSERT_EQ(Call("PATCH", path, deploy.dump(), {{"fieldManager", "aiops"}}, apply).status, 200);
  json entries = Body(Call("GET", "/_sim/audit"))["entries"];
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0]["kind"], "Deployment");
  EXPECT_EQ(entries[0]["generation"], 1);
  EXPECT_EQ(entries[1]["generation"], 2);
}

}  // namespace
}  // namespace kubesim
