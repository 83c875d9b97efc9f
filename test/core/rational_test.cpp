#include "core/rational.h"

#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <stdexcept>

namespace billing {
namespace {

using BigRational = boost::multiprecision::cpp_rational;

const BigInt kSmallMax = BigInt(std::numeric_limits<int64_t>::max());

// The same value as Boost's rational, in the canonical form: small exactly when both parts fit.
void expect_same(const Rational& actual, const BigRational& expected, const std::string& what) {
  const BigInt& numerator = boost::multiprecision::numerator(expected);
  const BigInt& denominator = boost::multiprecision::denominator(expected);
  ASSERT_EQ(actual.numerator(), numerator) << what;
  ASSERT_EQ(actual.denominator(), denominator) << what;
  ASSERT_EQ(actual.is_small(), abs(numerator) <= kSmallMax && denominator <= kSmallMax) << what;
}

// Parts drawn to hit every path: tiny, billing-sized, near the 64-bit edge, and beyond it.
BigInt random_part(std::mt19937_64& random, bool positive) {
  BigInt part;
  switch (random() % 5) {
    case 0: part = random() % 10; break;
    case 1: part = random() % 100000; break;
    case 2: part = kSmallMax - BigInt(random() % 4); break;
    case 3: part = BigInt(random() >> (random() % 64)); break;
    default: part = BigInt(random()) * BigInt(random() >> (random() % 64)); break;
  }
  if (positive) return part == 0 ? BigInt(1) : part;
  return random() % 2 ? BigInt(-part) : part;
}

TEST(Rational, ConstructionIsReducedAndCanonical) {
  EXPECT_EQ(Rational(6, -4).small_numerator(), -3);
  EXPECT_EQ(Rational(6, -4).small_denominator(), 2);
  EXPECT_EQ(Rational(0, 7), Rational(0));
  EXPECT_TRUE(Rational(std::numeric_limits<int64_t>::max()).is_small());
  EXPECT_FALSE(Rational(std::numeric_limits<int64_t>::min()).is_small());
  EXPECT_EQ(Rational(std::numeric_limits<int64_t>::min(), 2).small_numerator(),
            std::numeric_limits<int64_t>::min() / 2);
  EXPECT_TRUE(Rational(BigInt(10) * kSmallMax, BigInt(10)).is_small());
  EXPECT_THROW(Rational(1, 0), std::domain_error);
  EXPECT_THROW(Rational(1) / Rational(0), std::domain_error);
}

TEST(Rational, AgreesWithBoostOnRandomOperands) {
  std::mt19937_64 random(20261124);
  int small_results = 0;
  for (int i = 0; i < 50000; ++i) {
    const BigRational a(random_part(random, false), random_part(random, true));
    const BigRational b(random_part(random, false), random_part(random, true));
    const Rational x(boost::multiprecision::numerator(a), boost::multiprecision::denominator(a));
    const Rational y(boost::multiprecision::numerator(b), boost::multiprecision::denominator(b));
    expect_same(x, a, "construction");
    expect_same(x + y, a + b, "sum");
    expect_same(x - y, a - b, "difference");
    expect_same(x * y, a * b, "product");
    if (b != 0) expect_same(x / y, a / b, "quotient");
    expect_same(-x, -a, "negation");
    expect_same(abs(x), abs(a), "absolute value");
    ASSERT_EQ(compare(x, y), (a > b) - (a < b));
    ASSERT_EQ(x.sign(), a.sign());
    if ((x + y).is_small()) ++small_results;
  }
  // Both forms and the crossings between them were exercised.
  EXPECT_GT(small_results, 5000);
  EXPECT_LT(small_results, 45000);
}

}  // namespace
}  // namespace billing
