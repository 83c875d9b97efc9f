#include "core/plan.h"

#include <gtest/gtest.h>

#include "core/errors.h"

namespace billing {
namespace {

// Returns "SQLSTATE: message" of the error parse_plan_config raises, or "ok".
std::string error_of(const char* json) {
  try {
    parse_plan_config(json);
    return "ok";
  } catch (const BillingError& e) {
    return std::string(e.sqlstate()) + ": " + e.what();
  }
}

TEST(PlanConfig, ReadsTheOriginalSpecificationShapes) {
  const PlanConfig c = parse_plan_config(
      R"({"pricing_model":"per_minute","base_fee":49.00,"included_minutes":500,"overage_per_minute":0.15,"per_appointment_rate":2.00})");
  EXPECT_EQ(c.plan.model, PricingModel::kPerMinute);
  EXPECT_EQ(*c.plan.overage_per_minute, Rational(15, 100));
  EXPECT_EQ(c.currency, "EUR");
}

TEST(PlanConfig, AcceptsNumericStringsNullsAndCurrency) {
  const PlanConfig c = parse_plan_config(
      R"({"pricing_model":"combined","per_minute_rate":"0.10","per_appointment_rate":2,"base_fee":null,"currency":"JPY"})");
  EXPECT_EQ(*c.plan.per_minute_rate, Rational(1, 10));
  EXPECT_EQ(c.currency, "JPY");
}

TEST(PlanConfig, OptionalParametersDefaultToZero) {
  const PlanConfig c = parse_plan_config(
      R"({"pricing_model":"per_minute","base_fee":1,"included_minutes":2,"overage_per_minute":3})");
  EXPECT_EQ(*c.plan.per_appointment_rate, 0);
}

TEST(PlanConfig, ErrorsNameTheField) {
  EXPECT_EQ(error_of(R"({"pricing_model":"per_minute","base_fee":49,"overage_per_minute":0.15})"),
            "22023: pricing model per_minute requires included_minutes");
  EXPECT_EQ(error_of(R"({"pricing_model":"package","base_fee":99,"package_minutes":1000,"package_appointments":50,"overage_per_minute":0.12})"),
            "22023: pricing model package requires overage_per_appointment");
  EXPECT_EQ(error_of(R"({"pricing_model":"combined","per_minute_rate":-0.1,"per_appointment_rate":2})"),
            "22023: per_minute_rate must not be negative");
  EXPECT_EQ(error_of(R"({"pricing_model":"combined","per_minute_rate":0.1,"per_appointment_rate":2,"base_fee":5})"),
            "22023: base_fee does not apply to pricing model combined");
  EXPECT_EQ(error_of(R"({"pricing_model":"combined","per_minute_rate":0.1,"per_appointment_rate":2,"per_minute_rat":1})"),
            "22023: unknown pricing parameter \"per_minute_rat\"");
  EXPECT_EQ(error_of(R"({"pricing_model":"flat"})").substr(0, 31), "22023: unknown pricing_model \"f");
  EXPECT_EQ(error_of(R"({"base_fee":1})"), "22023: pricing plan has no pricing_model");
  EXPECT_EQ(error_of(R"({"pricing_model":"combined","per_minute_rate":"abc","per_appointment_rate":2})"),
            "22P02: invalid decimal value for per_minute_rate: \"abc\"");
  EXPECT_EQ(error_of(R"({"pricing_model":"combined","per_minute_rate":true,"per_appointment_rate":2})"),
            "22023: per_minute_rate must be a number");
  EXPECT_EQ(error_of(R"({"pricing_model":"combined","per_minute_rate":0.1,"per_minute_rate":0.2,"per_appointment_rate":2})"),
            "22023: per_minute_rate is given twice");
}

TEST(PlanConfig, RejectsMalformedJson) {
  EXPECT_EQ(error_of(R"({"pricing_model":)").substr(0, 6), "22032:");
  EXPECT_EQ(error_of("[1,2]"), "22023: a pricing plan must be a JSON object");
  EXPECT_EQ(error_of("42"), "22023: a pricing plan must be a JSON object");
  EXPECT_EQ(error_of(R"({"pricing_model":"combined","per_minute_rate":{"a":1}})").substr(0, 6), "22023:");
  EXPECT_EQ(error_of("").substr(0, 6), "22032:");
}

}  // namespace
}  // namespace billing
