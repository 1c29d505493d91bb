#include <gtest/gtest.h>

#include "api_server_fixture.hpp"

namespace kubesim {
namespace {

TEST_F(ApiServerTest, DiscoveryDescribesResources) {
  json v1 = Body(Call("GET", "/api/v1"));
  bool pods = false, log = false;
  for (const auto& r : v1["resources"]) {
    if (r["name"] == "pods") {
      pods = true;
      EXPECT_EQ(r["shortNames"], json::array({"po"}));
      EXPECT_TRUE(r["namespaced"].get<bool>());
    }
    if (r["name"] == "pods/log") log = true;
  }
  EXPECT_TRUE(pods && log);
  json apps = Body(Call("GET", "/apis/apps/v1"));
  EXPECT_EQ(apps["groupVersion"], "apps/v1");
  EXPECT_EQ(Body(Call("GET", "/version"))["major"], "1");
  // kubectl's validation looks for the fieldValidation parameter on PATCH operations.
  json doc = Body(Call("GET", "/openapi/v3/apis/apps/v1"));
  json patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
  EXPECT_EQ(patch["x-kubernetes-group-version-kind"]["kind"], "Deployment");
  EXPECT_EQ(Call("GET", "/openapi/v2").status, 404);
}

TEST_F(ApiServerTest, CrudWithStatusErrors) {
  auto created = Call("POST", "/api/v1/namespaces/default/configmaps", ConfigMap("c1").dump());
  ASSERT_EQ(created.status, 201) << created.body;
  json obj = Body(created);
  EXPECT_FALSE(obj["metadata"]["uid"].get<std::string>().empty());
  auto dup = Call("POST", "/api/v1/namespaces/default/configmaps", ConfigMap("c1").dump());
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(Body(dup)["reason"], "AlreadyExists");
  auto missing = Call("GET", "/api/v1/namespaces/default/configmaps/nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(Body(missing)["message"], "configmaps \"nope\" not found");
  // Optimistic concurrency: a stale resourceVersion is a 409 Conflict.
  json stale = obj;
  stale["data"]["k"] = "w";
  ASSERT_EQ(Call("PUT", "/api/v1/namespaces/default/configmaps/c1", stale.dump()).status, 200);
  auto conflict = Call("PUT", "/api/v1/namespaces/default/configmaps/c1", stale.dump());
  EXPECT_EQ(conflict.status, 409);
  EXPECT_EQ(Body(conflict)["reason"], "Conflict");
  EXPECT_EQ(Call("DELETE", "/api/v1/namespaces/default/configmaps/c1").status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/default/configmaps/c1").status, 404);
}

TEST_F(ApiServerTest, BadInputGetsStatusNotACrash) {
  auto bad = Call("POST", "/api/v1/namespaces/default/configmaps", "{not json: [");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Body(bad)["kind"], "Status");
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/default/widgets").status, 404);
  EXPECT_EQ(Call("POST", "/api/v1/namespaces/nowhere/configmaps", ConfigMap("x").dump()).status,
            404);
  json bad_deploy = {{"apiVersion", "apps/v1"},
                     {"kind", "Deployment"},
                     {"metadata", {{"name", "d"}}},
                     {"spec",
                      {{"selector", {{"matchLabels", {{"app", "x"}}}}},
                       {"template",
                        {{"metadata", {{"labels", {{"app", "y"}}}}},
                         {"spec", {{"containers", json::array({{{"name", "c"}}})}}}}}}}};
  auto invalid = Call("POST", "/apis/apps/v1/namespaces/default/deployments", bad_deploy.dump());
  EXPECT_EQ(invalid.status, 422);
  EXPECT_EQ(Body(invalid)["reason"], "Invalid");
  EXPECT_GE(Body(invalid)["details"]["causes"].size(), 2u);
  auto patch = Call("PATCH", "/api/v1/namespaces/default/configmaps/x", "{}", {},
                    {{"content-type", "text/plain"}});
  EXPECT_EQ(patch.status, 415);
}

TEST_F(ApiServerTest, ListPaginatesWithContinueAndSelectors) {
  for (int i = 0; i < 7; ++i) {
    json cm = ConfigMap("cm-" + std::to_string(i));
    cm["metadata"]["labels"] = {{"parity", i % 2 ? "odd" : "even"}};
    ASSERT_EQ(Call("POST", "/api/v1/namespaces/default/configmaps", cm.dump()).status, 201);
  }
  std::vector<std::string> names;
  std::string cont;
  std::string first_rv;
  do {
    std::multimap<std::string, std::string> q = {{"limit", "3"}};
    if (!cont.empty()) q.emplace("continue", cont);
    json page = Body(Call("GET", "/api/v1/namespaces/default/configmaps", "", q));
    if (first_rv.empty()) first_rv = page["metadata"]["resourceVersion"];
    EXPECT_EQ(page["metadata"]["resourceVersion"], first_rv);
    for (const auto& it : page["items"])
      names.push_back(it["metadata"]["name"]);
    cont = page["metadata"].value("continue", "");
  } while (!cont.empty());
  EXPECT_EQ(names.size(), 7u);
  json odd = Body(Call("GET", "/api/v1/configmaps", "", {{"labelSelector", "parity=odd"}}));
  EXPECT_EQ(odd["items"].size(), 3u);
  json one = Body(Call("GET", "/api/v1/configmaps", "", {{"fieldSelector", "metadata.name=cm-4"}}));
  ASSERT_EQ(one["items"].size(), 1u);
  EXPECT_EQ(Call("GET", "/api/v1/configmaps", "", {{"continue", "garbage"}}).status, 400);
}

TEST_F(ApiServerTest, WatchStreamsEventsAndGoneWhenTooOld) {
  std::string rv = std::to_string(store_.CurrentRv());
  auto resp = Call("GET", "/api/v1/namespaces/default/configmaps", "",
                   {{"watch", "true"}, {"resourceVersion", rv}});
  ASSERT_TRUE(resp.stream);
  Call("POST", "/api/v1/namespaces/default/configmaps", ConfigMap("w1").dump());
  Call("DELETE", "/api/v1/namespaces/default/configmaps/w1");
  std::string chunk;
  for (int i = 0; i < 20 && std::count(chunk.begin(), chunk.end(), '\n') < 2; ++i)
    resp.stream->Next(&chunk, std::chrono::milliseconds(200));
  auto first_nl = chunk.find('\n');
  ASSERT_NE(first_nl, std::string::npos);
  EXPECT_EQ(json::parse(chunk.substr(0, first_nl))["type"], "ADDED");
  EXPECT_EQ(json::parse(
                chunk.substr(first_nl + 1, chunk.find('\n', first_nl + 1) - first_nl - 1))["type"],
            "DELETED");

  Store small(8);
  ObjectService objs(small, clock_);
  ApiServer api(objs, logs_);
  Bootstrap(objs);
  for (int i = 0; i < 20; ++i)
    objs.Create(ConfigMaps(), "default", ConfigMap("c" + std::to_string(i)));
  auto old =
      api.Handle({"GET", "/api/v1/configmaps", {{"watch", "1"}, {"resourceVersion", "2"}}, {}, ""});
  ASSERT_TRUE(old.stream);
  std::string err;
  old.stream->Next(&err, std::chrono::milliseconds(100));
  json ev = json::parse(err.substr(0, err.find('\n')));
  EXPECT_EQ(ev["type"], "ERROR");
  EXPECT_EQ(ev["object"]["code"], 410);
}

TEST_F(ApiServerTest, SelectorWatchReportsObjectsEnteringAndLeavingTheSelection) {
  auto resp = Call("GET", "/api/v1/namespaces/default/configmaps", "",
                   {{"watch", "true"},
                    {"resourceVersion", std::to_string(store_.CurrentRv())},
                    {"labelSelector", "color=blue"}});
  ASSERT_TRUE(resp.stream);
  json cm = ConfigMap("chameleon");
  cm["metadata"]["labels"] = {{"color", "red"}};
  Call("POST", "/api/v1/namespaces/default/configmaps", cm.dump());
  auto relabel = [&](const std::string& color) {
    json patch = {{"metadata", {{"labels", {{"color", color}}}}}};
    auto r = Call("PATCH", "/api/v1/namespaces/default/configmaps/chameleon", patch.dump(), {},
                  {{"content-type", "application/merge-patch+json"}});
    ASSERT_EQ(r.status, 200) << r.body;
  };
  relabel("blue");
  relabel("green");
  std::vector<json> events;
  std::string chunk;
  for (int i = 0; i < 20 && events.size() < 2; ++i) {
    resp.stream->Next(&chunk, std::chrono::milliseconds(100));
    size_t nl;
    while ((nl = chunk.find('\n')) != std::string::npos) {
      json ev = json::parse(chunk.substr(0, nl));
      if (ev["type"] != "BOOKMARK") events.push_back(ev);
      chunk.erase(0, nl + 1);
    }
  }
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["type"], "ADDED");
  EXPECT_EQ(events[1]["type"], "DELETED");
  EXPECT_EQ(events[1]["object"]["metadata"]["labels"]["color"], "green");
}

TEST_F(ApiServerTest, TokenIsRequiredWhenConfigured) {
  ApiServer secured(objects_, logs_, ApiOptions{"s3cret", std::chrono::seconds(5)});
  auto denied = secured.Handle({"GET", "/api/v1/namespaces", {}, {}, ""});
  EXPECT_EQ(denied.status, 401);
  EXPECT_EQ(json::parse(denied.body)["reason"], "Unauthorized");
  auto ok =
      secured.Handle({"GET", "/api/v1/namespaces", {}, {{"authorization", "Bearer s3cret"}}, ""});
  EXPECT_EQ(ok.status, 200);
}

TEST_F(ApiServerTest, ServerSideApplyDryRunAndConflict) {
  json cm = ConfigMap("applied");
  auto create =
      Call("PATCH", "/api/v1/namespaces/default/configmaps/applied", cm.dump(),
           {{"fieldManager", "alice"}}, {{"content-type", "application/apply-patch+yaml"}});
  ASSERT_EQ(create.status, 201) << create.body;
  cm["data"]["k"] = "changed";
  auto dry = Call("PATCH", "/api/v1/namespaces/default/configmaps/applied", cm.dump(),
                  {{"fieldManager", "alice"}, {"dryRun", "All"}},
                  {{"content-type", "application/apply-patch+yaml"}});
  ASSERT_EQ(dry.status, 200);
  EXPECT_EQ(Body(dry)["data"]["k"], "changed");
  EXPECT_EQ(Body(Call("GET", "/api/v1/namespaces/default/configmaps/applied"))["data"]["k"], "v");
  auto conflict =
      Call("PATCH", "/api/v1/namespaces/default/configmaps/applied", cm.dump(),
           {{"fieldManager", "bob"}}, {{"content-type", "application/apply-patch+yaml"}});
  ASSERT_EQ(conflict.status, 409);
  json causes = Body(conflict)["details"]["causes"];
  ASSERT_EQ(causes.size(), 1u);
  EXPECT_EQ(causes[0]["reason"], "FieldManagerConflict");
  EXPECT_EQ(causes[0]["field"], ".data.k");
  auto forced = Call("PATCH", "/api/v1/namespaces/default/configmaps/applied", cm.dump(),
                     {{"fieldManager", "bob"}, {"force", "true"}},
                     {{"content-type", "application/apply-patch+yaml"}});
  EXPECT_EQ(forced.status, 200);
  EXPECT_EQ(Body(forced)["data"]["k"], "changed");
}

TEST_F(ApiServerTest, TableOutputForKubectl) {
  Call("POST", "/api/v1/namespaces/default/configmaps", ConfigMap("t1").dump());
  auto t = Call("GET", "/api/v1/namespaces/default/configmaps", "", {},
                {{"accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"}});
  json table = Body(t);
  EXPECT_EQ(table["kind"], "Table");
  EXPECT_EQ(table["columnDefinitions"][0]["name"], "Name");
  ASSERT_EQ(table["rows"].size(), 1u);
  EXPECT_EQ(table["rows"][0]["cells"][0], "t1");
  EXPECT_EQ(table["rows"][0]["cells"][1], "1");
}

}  // namespace
}  // namespace kubesim
