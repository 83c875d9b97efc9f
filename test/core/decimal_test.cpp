#include "core/decimal.h"

#include <gtest/gtest.h>

#include <limits>
#include <random>

#include "core/errors.h"

namespace billing {
namespace {

Rational dec(const char* text) { return parse_decimal(text, "value"); }

TEST(Decimal, ParsesExactly) {
  EXPECT_EQ(dec("0.15"), Rational(15, 100));
  EXPECT_EQ(dec("-2.50"), Rational(-5, 2));
  EXPECT_EQ(dec(".5"), Rational(1, 2));
  EXPECT_EQ(dec("5."), Rational(5));
  EXPECT_EQ(dec("+7"), Rational(7));
  EXPECT_EQ(dec("1.5e2"), Rational(150));
  EXPECT_EQ(dec("15E-2"), Rational(15, 100));
  EXPECT_EQ(dec("0000000000000000000000000000000000001"), Rational(1));
}

TEST(Decimal, RejectsBadSyntaxWithSqlstate) {
  for (const char* bad : {"", "-", ".", "1.2.3", "abc", "1e", "1e+", " 1", "1 ", "0x10", "NaN",
                          "Infinity", "1,5"}) {
    try {
      dec(bad);
      ADD_FAILURE() << "accepted \"" << bad << "\"";
    } catch (const BillingError& e) {
      EXPECT_STREQ(e.sqlstate(), "22P02") << bad;
    }
  }
}

TEST(Decimal, RejectsAbsurdMagnitudes) {
  EXPECT_THROW(dec("1e100000"), BillingError);
  EXPECT_THROW(dec(std::string(2000, '9').c_str()), BillingError);
  EXPECT_EQ(dec("1e999"), Rational(BigInt("1" + std::string(999, '0'))));
}

TEST(Decimal, RoundsHalfAwayFromZero) {
  EXPECT_EQ(format_fixed(dec("2.345"), 2), "2.35");
  EXPECT_EQ(format_fixed(dec("2.3449999"), 2), "2.34");
  EXPECT_EQ(format_fixed(dec("-2.345"), 2), "-2.35");
  EXPECT_EQ(format_fixed(dec("0.005"), 2), "0.01");
  EXPECT_EQ(format_fixed(dec("-0.005"), 2), "-0.01");
  EXPECT_EQ(format_fixed(dec("0.0049"), 2), "0.00");
  EXPECT_EQ(format_fixed(dec("-0.0049"), 2), "0.00");
  EXPECT_EQ(format_fixed(Rational(1, 3), 2), "0.33");
  EXPECT_EQ(format_fixed(Rational(2, 3), 2), "0.67");
  EXPECT_EQ(format_fixed(dec("174"), 2), "174.00");
  EXPECT_EQ(format_fixed(dec("2.5"), 0), "3");
  EXPECT_EQ(format_fixed(dec("-2.5"), 0), "-3");
  EXPECT_EQ(format_fixed(dec("1.0005"), 3), "1.001");
}

TEST(Decimal, FormatsTrimmedAndExact) {
  EXPECT_EQ(format_trimmed(dec("687.50"), 2), "687.5");
  EXPECT_EQ(format_trimmed(dec("1375"), 2), "1375");
  EXPECT_EQ(format_trimmed(Rational(275, 6), 2), "45.83");
  EXPECT_EQ(format_trimmed(dec("-0.001"), 2), "0");
  EXPECT_EQ(format_exact(dec("187.5")), "187.5");
  EXPECT_EQ(format_exact(dec("0.000125")), "0.000125");
  EXPECT_EQ(format_exact(Rational(1, 3), 4), "0.3333");
}

// Rounding and formatting take a 128-bit path when numerator and denominator fit in 64 bits;
// around that boundary and on both sides of it they must equal long division in BigInt.
TEST(Decimal, NativeAndArbitraryPrecisionRoundingAgree) {
  std::mt19937_64 random(20261124);
  const BigInt int64_max = BigInt(std::numeric_limits<int64_t>::max());
  const auto power_of_ten = [](int scale) {
    BigInt power = 1;
    for (int i = 0; i < scale; ++i) power *= 10;
    return power;
  };
  const auto expected_units = [&](const Rational& value, int scale) {
    const BigInt scaled = value.numerator() * power_of_ten(scale);
    const BigInt denominator = value.denominator();
    BigInt units = scaled / denominator;
    if (2 * abs(scaled % denominator) >= denominator) units += scaled < 0 ? -1 : 1;
    return units;
  };
  const auto expected = [&](const Rational& value, int scale) {
    const BigInt units = expected_units(value, scale);
    const bool negative = units < 0;
    std::string digits = (negative ? BigInt(-units) : units).str();
    if (scale > 0) {
      if (static_cast<int>(digits.size()) <= scale) digits.insert(0, scale + 1 - digits.size(), '0');
      digits.insert(digits.size() - scale, ".");
    }
    return negative ? "-" + digits : digits;
  };
  for (int i = 0; i < 20000; ++i) {
    BigInt numerator = BigInt(random() >> (random() % 64));
    if (i % 7 == 0) numerator = int64_max - BigInt(random() % 3) + BigInt(i % 3);  // 64-bit edge
    if (i % 11 == 0) numerator *= BigInt(random());                               // beyond 64 bits
    if (random() % 2) numerator = -numerator;
    BigInt denominator = BigInt(1 + (random() >> (random() % 64)) % std::numeric_limits<int64_t>::max());
    if (i % 13 == 0) denominator = 2 * denominator + int64_max;
    const Rational value(numerator, denominator);
    const int scale = static_cast<int>(random() % 21);
    ASSERT_EQ(format_fixed(value, scale), expected(value, scale)) << value << " at scale " << scale;
    ASSERT_EQ(round_half_away(value, scale), Rational(expected_units(value, scale), power_of_ten(scale)))
        << value << " at scale " << scale;
  }
  EXPECT_EQ(format_fixed(Rational(-5, 1000), 2), "-0.01");
  EXPECT_EQ(format_fixed(Rational(-4, 1000), 2), "0.00");
  EXPECT_EQ(format_fixed(Rational(std::numeric_limits<int64_t>::max()), 18),
            "9223372036854775807.000000000000000000");
}

TEST(Decimal, VeryLargeValuesStayExact) {
  const Rational big = dec("123456789012345678901234567890.123456789");
  EXPECT_EQ(format_exact(big * 2), "246913578024691357802469135780.246913578");
}

}  // namespace
}  // namespace billing
