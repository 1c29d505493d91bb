#include <gtest/gtest.h>

#include "store.hpp"

namespace kubesim {
namespace {

json Obj(const std::string& ns, const std::string& name) {
  return {{"metadata", {{"namespace", ns}, {"name", name}}}};
}

TEST(StoreTest, PutAssignsIncreasingResourceVersionsAndSerialisesOnce) {
  Store store;
  auto a = store.Transact([](Store::Txn& t) { return t.Put("pods", "ns/a", Obj("ns", "a")); });
  auto b = store.Transact([](Store::Txn& t) { return t.Put("pods", "ns/b", Obj("ns", "b")); });
  EXPECT_LT(a->rv, b->rv);
  EXPECT_EQ(a->obj["metadata"]["resourceVersion"], std::to_string(a->rv));
  EXPECT_EQ(json::parse(b->raw), b->obj);
}

TEST(StoreTest, ListPagesThroughANamespaceInKeyOrder) {
  Store store;
  store.Transact([](Store::Txn& t) {
    for (int i = 0; i < 25; ++i) {
      char name[8];
      snprintf(name, sizeof name, "p%02d", i);
      t.Put("pods", std::string("a/") + name, Obj("a", name));
    }
    t.Put("pods", "b/other", Obj("b", "other"));
    return 0;
  });
  std::vector<std::string> seen;
  std::string next;
  int pages = 0;
  do {
    auto page = store.List("pods", "a", next, 10, nullptr);
    for (const auto& o : page.items)
      seen.push_back(o->obj["metadata"]["name"]);
    next = page.next_key;
    ++pages;
  } while (!next.empty());
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(seen.size(), 25u);
  EXPECT_EQ(seen.front(), "p00");
  EXPECT_EQ(seen.back(), "p24");
  // An exactly full last page does not announce another page.
  auto all = store.List("pods", "a", "", 25, nullptr);
  EXPECT_TRUE(all.next_key.empty());
}

TEST(StoreTest, WatchEventsArriveInOrderAndTooOldIsReported) {
  Store store(20);
  uint64_t start = store.CurrentRv();
  for (int i = 0; i < 5; ++i) {
    store.Transact([&](Store::Txn& t) { return t.Put("pods", "ns/x", Obj("ns", "x")); });
  }
  store.Transact([](Store::Txn& t) { return t.Delete("pods", "ns/x"); });
  auto batch = store.WaitEvents(start, std::chrono::milliseconds(10));
  ASSERT_EQ(batch.events.size(), 6u);
  EXPECT_EQ(batch.events[0].type, EventType::kAdded);
  EXPECT_EQ(batch.events[1].type, EventType::kModified);
  EXPECT_EQ(batch.events[5].type, EventType::kDeleted);
  for (size_t i = 1; i < batch.events.size(); ++i)
    EXPECT_LT(batch.events[i - 1].rv, batch.events[i].rv);
  for (int i = 0; i < 30; ++i) {
    store.Transact([&](Store::Txn& t) { return t.Put("pods", "ns/y", Obj("ns", "y")); });
  }
  EXPECT_TRUE(store.WaitEvents(start, std::chrono::milliseconds(10)).too_old);
  EXPECT_FALSE(store.WaitEvents(store.CurrentRv() - 3, std::chrono::milliseconds(10)).too_old);
}

TEST(StoreTest, WaitEventsWakesOnWriteAndOnShutdown) {
  Store store;
  uint64_t rv = store.CurrentRv();
  std::thread writer(
      [&] { store.Transact([](Store::Txn& t) { return t.Put("pods", "ns/z", Obj("ns", "z")); }); });
  auto batch = store.WaitEvents(rv, std::chrono::seconds(30));
  writer.join();
  EXPECT_EQ(batch.events.size(), 1u);
  std::thread stopper([&] { store.Shutdown(); });
  auto closed = store.WaitEvents(store.CurrentRv(), std::chrono::seconds(30));
  stopper.join();
  EXPECT_TRUE(closed.closed);
}

}  // namespace
}  // namespace kubesim
