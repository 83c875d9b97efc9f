#include "core/pricing.h"

#include <gtest/gtest.h>

#include "core/currency.h"

#include "core/errors.h"

namespace billing {
namespace {

Rational dec(const char* text) { return parse_decimal(text, "value"); }

PricingPlan plan_from(const char* json) { return parse_plan_config(json).plan; }

const char* kPerMinute =
    R"({"pricing_model":"per_minute","base_fee":49.00,"included_minutes":500,)"
    R"("overage_per_minute":0.15,"per_appointment_rate":2.00})";
const char* kPerAppointment = R"({"pricing_model":"per_appointment","base_fee":0,"per_appointment_rate":5.00})";
const char* kPackage =
    R"({"pricing_model":"package","base_fee":99.00,"package_minutes":1000,"package_appointments":50,)"
    R"("overage_per_minute":0.12,"overage_per_appointment":3.00})";
const char* kCombined = R"({"pricing_model":"combined","per_minute_rate":0.10,"per_appointment_rate":2.00})";

TEST(Pricing, PerMinute) {
  const Charge c = price(plan_from(kPerMinute), dec("687.5"), dec("87"), 2);
  EXPECT_EQ(c.base_fee, dec("49"));
  EXPECT_EQ(*c.overage_minutes, dec("187.5"));
  EXPECT_EQ(c.minutes_cost, dec("28.13"));  // 187.5 * 0.15 = 28.125, half away from zero
  EXPECT_EQ(c.appointments_cost, dec("174"));
  EXPECT_EQ(c.total_cost, dec("251.13"));
  EXPECT_EQ(*c.included_minutes, dec("500"));
}

TEST(Pricing, PerMinuteUnderIncludedMinutesCostsBaseFeeOnly) {
  const Charge c = price(plan_from(kPerMinute), dec("499.99"), dec("0"), 2);
  EXPECT_EQ(*c.overage_minutes, 0);
  EXPECT_EQ(c.total_cost, dec("49"));
}

TEST(Pricing, PerAppointmentIncludesAllMinutes) {
  const Charge c = price(plan_from(kPerAppointment), dec("100000"), dec("12"), 2);
  EXPECT_EQ(c.minutes_cost, 0);
  EXPECT_EQ(c.total_cost, dec("60"));
  EXPECT_FALSE(c.included_minutes.has_value());
  EXPECT_FALSE(c.overage_minutes.has_value());
}

TEST(Pricing, PerAppointmentBaseFeeDefaultsToZero) {
  const Charge c =
      price(plan_from(R"({"pricing_model":"per_appointment","per_appointment_rate":"5"})"),
            dec("0"), dec("3"), 2);
  EXPECT_EQ(c.base_fee, 0);
  EXPECT_EQ(c.total_cost, dec("15"));
}

TEST(Pricing, Package) {
  const Charge c = price(plan_from(kPackage), dec("1200.5"), dec("61"), 2);
  EXPECT_EQ(*c.overage_minutes, dec("200.5"));
  EXPECT_EQ(c.minutes_cost, dec("24.06"));  // 24.06
  EXPECT_EQ(*c.overage_appointments, dec("11"));
  EXPECT_EQ(c.appointments_cost, dec("33"));
  EXPECT_EQ(c.total_cost, dec("156.06"));
}

TEST(Pricing, PackageWithinAllowance) {
  const Charge c = price(plan_from(kPackage), dec("1000"), dec("50"), 2);
  EXPECT_EQ(c.total_cost, dec("99"));
}

TEST(Pricing, CombinedAcceptanceFigure) {
  const Charge c = price(plan_from(kCombined), dec("687.5"), dec("87"), 2);
  EXPECT_EQ(c.minutes_cost, dec("68.75"));
  EXPECT_EQ(c.appointments_cost, dec("174"));
  EXPECT_EQ(c.total_cost, dec("242.75"));
  EXPECT_EQ(c.base_fee, 0);
}

TEST(Pricing, ZeroUsage) {
  for (const char* json : {kPerMinute, kPerAppointment, kPackage, kCombined}) {
    const PricingPlan plan = plan_from(json);
    const Charge c = price(plan, 0, 0, 2);
    EXPECT_EQ(c.minutes_cost, 0) << json;
    EXPECT_EQ(c.appointments_cost, 0) << json;
    EXPECT_EQ(c.total_cost, c.base_fee) << json;
  }
}

TEST(Pricing, RoundsEachLineHalfAwayFromZero) {
  // 0.05 minutes at 0.10 = 0.005 exactly: rounds up to 0.01 per line.
  const PricingPlan plan = plan_from(R"({"pricing_model":"combined","per_minute_rate":0.10,"per_appointment_rate":0.005})");
  const Charge c = price(plan, dec("0.05"), dec("1"), 2);
  EXPECT_EQ(c.minutes_cost, dec("0.01"));
  EXPECT_EQ(c.appointments_cost, dec("0.01"));
  EXPECT_EQ(c.total_cost, dec("0.02"));  // the sum of rounded lines, not round(0.01) of the sum
  // Exact thirds of a minute (20 seconds) stay exact until the line is rounded.
  const Charge thirds = price(plan, Rational(1, 3), 0, 2);
  EXPECT_EQ(thirds.minutes_cost, dec("0.03"));
}

TEST(Pricing, MinorUnitsOfTheCurrency) {
  const PricingPlan plan = plan_from(kCombined);
  EXPECT_EQ(price(plan, dec("12.5"), 0, 0).minutes_cost, dec("1"));    // JPY: 1.25 -> 1
  EXPECT_EQ(price(plan, dec("12.55"), 0, 3).minutes_cost, dec("1.255"));  // KWD
}

TEST(Currency, MinorUnitsOfEachExponent) {
  EXPECT_EQ(currency_minor_unit("XPF"), 0);
  EXPECT_EQ(currency_minor_unit("JPY"), 0);
  EXPECT_EQ(currency_minor_unit("EUR"), 2);
  EXPECT_EQ(currency_minor_unit("XCG"), 2);
  EXPECT_EQ(currency_minor_unit("KWD"), 3);
  EXPECT_EQ(currency_minor_unit("CLF"), 4);
  EXPECT_EQ(currency_minor_unit("UYW"), 4);
}

TEST(Currency, RefusesCodesThatAreNotActive) {
  for (const char* code : {"HRK", "SLL", "ZWL", "ANG", "XAU", "XDR", "XTS", "XXX", "ABC", "EURO", "eur", ""})
    EXPECT_THROW(currency_minor_unit(code), BillingError) << code;
}

TEST(Currency, TableIsSortedWithoutDuplicates) {
  const auto& codes = accepted_currencies();
  EXPECT_GT(codes.size(), 150u);
  for (size_t i = 1; i < codes.size(); ++i) EXPECT_LT(codes[i - 1].first, codes[i].first);
  for (const auto& [code, minor] : codes) EXPECT_EQ(currency_minor_unit(code), minor);
}

TEST(Pricing, VeryLargeUsageStaysExact) {
  const PricingPlan plan = plan_from(kPerMinute);
  const Rational minutes = dec("123456789012345678901234567890.5");
  const Charge c = price(plan, minutes, dec("1000000000000"), 2);
  EXPECT_EQ(c.minutes_cost, dec("18518518351851851835185185108.58"));  // (M-500)*0.15 = ...8.575
  EXPECT_EQ(c.appointments_cost, dec("2000000000000"));
}

TEST(Pricing, RejectsNegativeUsage) {
  EXPECT_THROW(price(plan_from(kCombined), -1, 0, 2), BillingError);
  EXPECT_THROW(price(plan_from(kCombined), 0, dec("-0.5"), 2), BillingError);
}

}  // namespace
}  // namespace billing
