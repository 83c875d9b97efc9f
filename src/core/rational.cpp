#include "core/rational.h"

#include <limits>
#include <numeric>
#include <stdexcept>

namespace billing {
namespace {

using Int128 = __int128;
using UInt128 = unsigned __int128;

constexpr int64_t kSmallMax = std::numeric_limits<int64_t>::max();

bool fits_small(Int128 value) { return value >= -kSmallMax && value <= kSmallMax; }

uint64_t magnitude(int64_t value) { return value < 0 ? -static_cast<uint64_t>(value) : value; }

bool fits_small(const BigInt& value) { return value >= -kSmallMax && value <= kSmallMax; }

}  // namespace

Rational::Rational(int64_t value) : numerator_(value) {
  if (value == std::numeric_limits<int64_t>::min()) *this = from_big(BigRational(value));
}

Rational::Rational(int64_t numerator, int64_t denominator) {
  if (denominator == 0) throw std::domain_error("rational with a zero denominator");
  if (numerator == std::numeric_limits<int64_t>::min() ||
      denominator == std::numeric_limits<int64_t>::min()) {
    *this = from_big(BigRational(BigInt(numerator), BigInt(denominator)));
    return;
  }
  if (denominator < 0) {
    numerator = -numerator;
    denominator = -denominator;
  }
  const int64_t divisor = static_cast<int64_t>(std::gcd(magnitude(numerator), static_cast<uint64_t>(denominator)));
  numerator_ = numerator / divisor;
  denominator_ = denominator / divisor;
}

Rational::Rational(const BigInt& value) {
  if (fits_small(value))
    numerator_ = value.convert_to<int64_t>();
  else
    big_ = BigRational(value);
}

Rational::Rational(const BigInt& numerator, const BigInt& denominator) {
  if (denominator == 0) throw std::domain_error("rational with a zero denominator");
  if (fits_small(numerator) && fits_small(denominator))
    *this = Rational(numerator.convert_to<int64_t>(), denominator.convert_to<int64_t>());
  else
    *this = from_big(BigRational(numerator, denominator));
}

Rational Rational::from_big(const BigRational& value) {
  Rational result;
  const BigInt& numerator = boost::multiprecision::numerator(value);
  const BigInt& denominator = boost::multiprecision::denominator(value);
  if (fits_small(numerator) && fits_small(denominator)) {
    result.numerator_ = numerator.convert_to<int64_t>();
    result.denominator_ = denominator.convert_to<int64_t>();
  } else {
    result.big_ = value;
  }
  return result;
}

Rational::BigRational Rational::to_big() const {
  if (big_) return *big_;
  // Already reduced: assign the parts without normalising again.
  BigRational value(numerator_);
  if (denominator_ != 1) value /= denominator_;
  return value;
}

BigInt Rational::numerator() const {
  return big_ ? BigInt(boost::multiprecision::numerator(*big_)) : BigInt(numerator_);
}

BigInt Rational::denominator() const {
  return big_ ? BigInt(boost::multiprecision::denominator(*big_)) : BigInt(denominator_);
}

int Rational::sign() const {
  if (big_) return big_->sign();
  return (numerator_ > 0) - (numerator_ < 0);
}

Rational Rational::operator-() const {
  if (big_) return from_big(-*big_);
  Rational result = *this;
  result.numerator_ = -numerator_;
  return result;
}

// a/b + c/d after Knuth (TAOCP 4.5.1): with g = gcd(b, d), t = a*(d/g) + c*(b/g) and
// h = gcd(t, g), the sum is (t/h) / ((b/g)*(d/h)), already reduced.
Rational operator+(const Rational& x, const Rational& y) {
  if (!x.big_ && !y.big_) {
    const int64_t b = x.denominator_, d = y.denominator_;
    const int64_t g = static_cast<int64_t>(std::gcd(static_cast<uint64_t>(b), static_cast<uint64_t>(d)));
    const Int128 t = Int128(x.numerator_) * (d / g) + Int128(y.numerator_) * (b / g);
    if (t == 0) return Rational();
    const UInt128 t_magnitude = t < 0 ? -static_cast<UInt128>(t) : static_cast<UInt128>(t);
    const int64_t h = g == 1 ? 1
                             : static_cast<int64_t>(std::gcd(static_cast<uint64_t>(t_magnitude % static_cast<uint64_t>(g)),
                                                             static_cast<uint64_t>(g)));
    const Int128 numerator = t / h;
    const Int128 denominator = Int128(b / g) * (d / h);
    if (fits_small(numerator) && fits_small(denominator)) {
      Rational result;
      result.numerator_ = static_cast<int64_t>(numerator);
      result.denominator_ = static_cast<int64_t>(denominator);
      return result;
    }
  }
  return Rational::from_big(x.to_big() + y.to_big());
}

Rational operator-(const Rational& x, const Rational& y) { return x + (-y); }

// a/b * c/d with the cross factors gcd(a, d) and gcd(c, b) taken out first: the product is then
// reduced, and its parts are as small as they can be.
Rational operator*(const Rational& x, const Rational& y) {
  if (!x.big_ && !y.big_) {
    if (x.numerator_ == 0 || y.numerator_ == 0) return Rational();
    const int64_t g1 = static_cast<int64_t>(std::gcd(magnitude(x.numerator_), static_cast<uint64_t>(y.denominator_)));
    const int64_t g2 = static_cast<int64_t>(std::gcd(magnitude(y.numerator_), static_cast<uint64_t>(x.denominator_)));
    const Int128 numerator = Int128(x.numerator_ / g1) * (y.numerator_ / g2);
    const Int128 denominator = Int128(x.denominator_ / g2) * (y.denominator_ / g1);
    if (fits_small(numerator) && fits_small(denominator)) {
      Rational result;
      result.numerator_ = static_cast<int64_t>(numerator);
      result.denominator_ = static_cast<int64_t>(denominator);
      return result;
    }
  }
  return Rational::from_big(x.to_big() * y.to_big());
}

Rational operator/(const Rational& x, const Rational& y) {
  if (y.sign() == 0) throw std::domain_error("division by zero");
  if (!y.big_) {
    // The reciprocal of a small value is small: its parts swap, the sign moves up.
    Rational reciprocal;
    reciprocal.numerator_ = y.numerator_ < 0 ? -y.denominator_ : y.denominator_;
    reciprocal.denominator_ = static_cast<int64_t>(magnitude(y.numerator_));
    return x * reciprocal;
  }
  return Rational::from_big(x.to_big() / y.to_big());
}

int compare(const Rational& x, const Rational& y) {
  if (!x.big_ && !y.big_) {
    const Int128 left = Int128(x.numerator_) * y.denominator_;
    const Int128 right = Int128(y.numerator_) * x.denominator_;
    return (left > right) - (left < right);
  }
  const Rational::BigRational left = x.to_big(), right = y.to_big();
  return (left > right) - (left < right);
}

std::ostream& operator<<(std::ostream& out, const Rational& value) {
  out << value.numerator();
  if (value.denominator() != 1) out << '/' << value.denominator();
  return out;
}

}  // namespace billing
