#include "core/usage.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace billing {
namespace {

const PeriodFacts kJune15{"2025-06-01", "2025-06-30", 15, 15};

UsageFacts acceptance_usage() {
  UsageFacts usage;
  usage.calls_total = 245;
  usage.calls_completed = 230;
  usage.total_seconds = 41250;  // 687.5 minutes
  usage.appointments = 87;
  return usage;
}

TEST(Usage, AcceptanceFigureOneCombined) {
  const auto config = parse_plan_config(
      R"({"pricing_model":"combined","per_minute_rate":0.10,"per_appointment_rate":2.00})");
  const std::string text = usage_current_json(config, kJune15, acceptance_usage());
  const auto card = nlohmann::json::parse(text);
  EXPECT_EQ(card["period"]["start"], "2025-06-01");
  EXPECT_EQ(card["period"]["end"], "2025-06-30");
  EXPECT_EQ(card["period"]["days_remaining"], 15);
  EXPECT_EQ(card["calls"]["total"], 245);
  EXPECT_EQ(card["calls"]["completed"], 230);
  // Exact text of the numbers, as they reach jsonb.
  EXPECT_NE(text.find(R"("total_minutes":687.5,)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("avg_duration":2.8,)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("cost":68.75})"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("appointments":{"total":87,"cost":174.00})"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("total_cost":242.75,)"), std::string::npos) << text;
  EXPECT_TRUE(card["included_minutes"].is_null());
  EXPECT_TRUE(card["usage_percentage"].is_null());
}

TEST(Usage, AcceptanceFigureTwoPerMinuteProjection) {
  const auto config = parse_plan_config(
      R"({"pricing_model":"per_minute","base_fee":49.00,"included_minutes":500,"overage_per_minute":0.15,"per_appointment_rate":2.00})");
  const std::string text = usage_projection_json(config, kJune15, acceptance_usage());
  const auto doc = nlohmann::json::parse(text);
  const auto& projected = doc["projected"];
  EXPECT_EQ(projected["minutes"], 1375);
  EXPECT_EQ(projected["appointments"], 174);
  EXPECT_EQ(projected["days_remaining"], 15);
  EXPECT_NE(text.find(R"("costs":{"base_fee":49.00,"minutes_cost":131.25,"appointments_cost":348.00,"total_cost":528.25})"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"("avg_per_day":{"minutes":45.83,"appointments":5.8})"), std::string::npos) << text;
  const auto& current = doc["current"];
  EXPECT_EQ(current["included_minutes"], 500);
  EXPECT_EQ(current["overage_minutes"], 187.5);
  EXPECT_EQ(current["usage_percentage"], 137.5);
}

TEST(Usage, EmptyPeriodHasNoAverage) {
  const auto config = parse_plan_config(
      R"({"pricing_model":"package","base_fee":99,"package_minutes":1000,"package_appointments":50,"overage_per_minute":0.12,"overage_per_appointment":3})");
  const auto card = nlohmann::json::parse(usage_current_json(config, {"2025-02-01", "2025-02-28", 1, 27}, {}));
  EXPECT_TRUE(card["calls"]["avg_duration"].is_null());
  EXPECT_EQ(card["usage_percentage"], 0);
  EXPECT_EQ(card["total_cost"], 99);
}

TEST(Usage, RejectsInconsistentFacts) {
  const auto config = parse_plan_config(
      R"({"pricing_model":"combined","per_minute_rate":0.10,"per_appointment_rate":2.00})");
  EXPECT_ANY_THROW(usage_current_json(config, {"a", "b", 0, 3}, {}));
  UsageFacts bad;
  bad.calls_total = 1;
  bad.calls_completed = 2;
  EXPECT_ANY_THROW(usage_current_json(config, kJune15, bad));
}

}  // namespace
}  // namespace billing
