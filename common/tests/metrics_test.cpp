#include "aiops/metrics.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

using aiops::metrics::Registry;
using ::testing::HasSubstr;

TEST(MetricsTest, CounterExpositionHasHelpTypeAndLabels) {
  Registry r;
  r.GetCounter("aiops_messages_total", "Messages seen", {{"topic", "aiops.anomalies"}}).Inc(3);
  r.GetCounter("aiops_messages_total", "Messages seen", {{"topic", "aiops.evidence"}}).Inc();
  EXPECT_EQ(r.Render(),
            "# HELP aiops_messages_total Messages seen\n"
            "# TYPE aiops_messages_total counter\n"
            "aiops_messages_total{topic=\"aiops.anomalies\"} 3\n"
            "aiops_messages_total{topic=\"aiops.evidence\"} 1\n");
}

TEST(MetricsTest, GaugeWithoutLabelsAndFractionalValues) {
  Registry r;
  auto& g = r.GetGauge("aiops_open_incidents", "Open incidents");
  g.Set(2.5);
  g.Add(-1);
  EXPECT_EQ(r.Render(),
            "# HELP aiops_open_incidents Open incidents\n"
            "# TYPE aiops_open_incidents gauge\n"
            "aiops_open_incidents 1.5\n");
}

TEST(MetricsTest, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  Registry r;
  auto& h = r.GetHistogram("aiops_hop_seconds", "Hop latency", {{"hop", "detect"}}, {0.1, 1});
  h.Observe(0.05);
  h.Observe(0.1);  // on the bound: counts in le="0.1"
  h.Observe(0.5);
  h.Observe(7);
  auto text = r.Render();
  EXPECT_THAT(text, HasSubstr("# TYPE aiops_hop_seconds histogram\n"));
  EXPECT_THAT(text, HasSubstr("aiops_hop_seconds_bucket{hop=\"detect\",le=\"0.1\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("aiops_hop_seconds_bucket{hop=\"detect\",le=\"1\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("aiops_hop_seconds_bucket{hop=\"detect\",le=\"+Inf\"} 4\n"));
  EXPECT_THAT(text, HasSubstr("aiops_hop_seconds_sum{hop=\"detect\"} 7.65\n"));
  EXPECT_THAT(text, HasSubstr("aiops_hop_seconds_count{hop=\"detect\"} 4\n"));
}

TEST(MetricsTest, LabelValuesAndHelpAreEscaped) {
  Registry r;
  r.GetCounter("x_total", "line1\nline2 \\ end", {{"reason", "say \"hi\"\n\\"}}).Inc();
  auto text = r.Render();
  EXPECT_THAT(text, HasSubstr("# HELP x_total line1\\nline2 \\\\ end\n"));
  EXPECT_THAT(text, HasSubstr("x_total{reason=\"say \\\"hi\\\"\\n\\\\\"} 1\n"));
}

TEST(MetricsTest, MisuseIsRejected) {
  Registry r;
  r.GetCounter("dup_total", "a");
  EXPECT_THROW(r.GetGauge("dup_total", "a"), std::invalid_argument);
  EXPECT_THROW(r.GetCounter("bad-name", "a"), std::invalid_argument);
  EXPECT_THROW(r.GetCounter("ok_total", "a", {{"1bad", "v"}}), std::invalid_argument);
  EXPECT_THROW(r.GetHistogram("h", "a", {{"le", "1"}}), std::invalid_argument);
  EXPECT_THROW(r.GetCounter("c_total", "a").Inc(-1), std::invalid_argument);
  EXPECT_THROW(aiops::metrics::Histogram({1, 1}), std::invalid_argument);
}

TEST(MetricsTest, ConcurrentIncrementsAreNotLost) {
  Registry r;
  auto& c = r.GetCounter("c_total", "c");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i)
        c.Inc();
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(c.Value(), 40000);
}

TEST(MetricsTest, FormatValueSpellsSpecialValues) {
  EXPECT_EQ(aiops::metrics::FormatValue(1.0 / 0.0), "+Inf");
  EXPECT_EQ(aiops::metrics::FormatValue(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(aiops::metrics::FormatValue(0.0 / 0.0), "NaN");
  EXPECT_EQ(aiops::metrics::FormatValue(42), "42");
}
