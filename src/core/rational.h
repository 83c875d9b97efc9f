// An exact rational number for money and quantities, fast while it is small.
//
// Every billing figure (a rate of 0.15, seconds / 60, a projection of usage * 30 / 15, a charge
// line in cents) has a numerator and a denominator far inside 64 bits. Arbitrary-precision
// rationals normalise by a GCD of heap-sized integers after every operation, and that was a third
// of a usage document's cost. So a Rational holds a reduced 64-bit numerator and denominator and
// computes in 128 bits; a result that does not fit is computed again with Boost's cpp_rational
// and kept in that form. Values are canonical: a value is in the small form exactly when both of
// its reduced parts fit, so the two forms never hold the same value.
#pragma once

#include <boost/multiprecision/cpp_int.hpp>
#include <cstdint>
#include <optional>
#include <ostream>

#include "core/pure.h"

namespace billing {

using BigInt = boost::multiprecision::cpp_int;

class Rational {
 public:
  Rational() = default;
  Rational(int64_t value);  // NOLINT(google-explicit-constructor): 0 and 100 read as Rationals
  Rational(int64_t numerator, int64_t denominator);
  Rational(const BigInt& value);  // NOLINT(google-explicit-constructor)
  Rational(const BigInt& numerator, const BigInt& denominator);

  // Parts of the reduced value; the denominator is always positive.
  BigInt numerator() const;
  BigInt denominator() const;

  // The small form's parts, when the value has it (|numerator| and denominator < 2^63).
  bool is_small() const { return !big_; }
  int64_t small_numerator() const { return numerator_; }
  int64_t small_denominator() const { return denominator_; }

  int sign() const;

  Rational operator-() const;
  friend Rational abs(const Rational& value) { return value.sign() < 0 ? -value : value; }
  friend Rational operator+(const Rational& a, const Rational& b);
  friend Rational operator-(const Rational& a, const Rational& b);
  friend Rational operator*(const Rational& a, const Rational& b);
  // Throws std::domain_error when b is zero.
  friend Rational operator/(const Rational& a, const Rational& b);

  friend int compare(const Rational& a, const Rational& b);
  friend bool operator==(const Rational& a, const Rational& b) { return compare(a, b) == 0; }
  friend bool operator!=(const Rational& a, const Rational& b) { return compare(a, b) != 0; }
  friend bool operator<(const Rational& a, const Rational& b) { return compare(a, b) < 0; }
  friend bool operator>(const Rational& a, const Rational& b) { return compare(a, b) > 0; }
  friend bool operator<=(const Rational& a, const Rational& b) { return compare(a, b) <= 0; }
  friend bool operator>=(const Rational& a, const Rational& b) { return compare(a, b) >= 0; }

  // "n/d" (or "n"), for test failure messages.
  friend std::ostream& operator<<(std::ostream& out, const Rational& value);

 private:
  using BigRational = boost::multiprecision::cpp_rational;

  static Rational from_big(const BigRational& value);
  BigRational to_big() const;

  // The small form, valid when big_ is empty: reduced, denominator_ > 0, numerator_ != INT64_MIN.
  int64_t numerator_ = 0;
  int64_t denominator_ = 1;
  std::optional<BigRational> big_;
};

}  // namespace billing
