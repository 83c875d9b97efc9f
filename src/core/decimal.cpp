#include "core/decimal.h"

#include <cctype>
#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include "core/errors.h"

namespace billing {
namespace {

// 10^exponent; the powers used by rounding and formatting (scale <= 38) come from a table.
BigInt power_of_ten(int exponent) {
  static const std::vector<BigInt> small_powers = [] {
    std::vector<BigInt> powers(39);
    powers[0] = 1;
    for (size_t i = 1; i < powers.size(); ++i) powers[i] = powers[i - 1] * 10;
    return powers;
  }();
  if (exponent >= 0 && exponent < static_cast<int>(small_powers.size())) return small_powers[exponent];
  BigInt result = small_powers.back();
  for (int i = static_cast<int>(small_powers.size()) - 1; i < exponent; ++i) result *= 10;
  return result;
}

using Int128 = __int128;

constexpr int64_t kPowersOfTen[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000,
                                    1000000000, 10000000000, 100000000000, 1000000000000,
                                    10000000000000, 100000000000000, 1000000000000000,
                                    10000000000000000, 100000000000000000, 1000000000000000000};
constexpr int kMaxSmallScale = 18;

// rounded_units() in 128-bit arithmetic, for a value in the small form and a scale up to 18
// (every billing figure): the same integer, without arbitrary-precision division.
std::optional<Int128> small_rounded_units(const Rational& value, int scale) {
  if (!value.is_small() || scale < 0 || scale > kMaxSmallScale) return std::nullopt;
  const Int128 scaled_numerator = Int128(value.small_numerator()) * kPowersOfTen[scale];
  const Int128 divisor = value.small_denominator();  // always > 0
  Int128 quotient = scaled_numerator / divisor;  // truncated toward zero, as divide_qr
  const Int128 remainder = scaled_numerator % divisor;
  if (2 * (remainder < 0 ? -remainder : remainder) >= divisor) quotient += (scaled_numerator < 0 ? -1 : 1);
  return quotient;
}

// The decimal digits of a non-negative 128-bit integer (64-bit division when it fits: 128-bit
// division is a library call).
std::string decimal_digits(Int128 value) {
  if (value <= static_cast<Int128>(std::numeric_limits<uint64_t>::max())) {
    char digits[24];
    const auto written = std::to_chars(digits, digits + sizeof digits, static_cast<uint64_t>(value));
    return std::string(digits, written.ptr);
  }
  char buffer[40];
  char* end = buffer + sizeof buffer;
  char* start = end;
  do {
    *--start = static_cast<char>('0' + static_cast<int>(value % 10));
    value /= 10;
  } while (value != 0);
  return std::string(start, end);
}

// value * 10^scale rounded half away from zero to an integer: the value in units of 10^-scale
// (in arbitrary precision; the callers try small_rounded_units() first).
BigInt rounded_units(const Rational& value, int scale) {
  const BigInt scaled_numerator = value.numerator() * power_of_ten(scale);
  const BigInt denominator = value.denominator();  // always > 0
  BigInt quotient, remainder;  // truncated toward zero; the remainder has the numerator's sign
  boost::multiprecision::divide_qr(scaled_numerator, denominator, quotient, remainder);
  if (2 * abs(remainder) >= denominator) quotient += (scaled_numerator < 0 ? -1 : 1);
  return quotient;
}

// The decimal places of 1/denominator when its expansion terminates (the denominator is
// 2^a * 5^b): max(a, b).
template <typename Integer>
std::optional<int> terminating_scale(Integer rest) {
  int twos = 0;
  int fives = 0;
  while (rest % 2 == 0) {
    rest /= 2;
    ++twos;
  }
  while (rest % 5 == 0) {
    rest /= 5;
    ++fives;
  }
  if (rest != 1) return std::nullopt;
  return twos > fives ? twos : fives;
}

[[noreturn]] void throw_syntax(std::string_view text, std::string_view field) {
  throw BillingError(sqlstate::kInvalidTextRepresentation,
                     "invalid decimal value for " + std::string(field) + ": \"" +
                         std::string(text.substr(0, 64)) + "\"");
}

}  // namespace

Rational parse_decimal(std::string_view text, std::string_view field) {
  size_t pos = 0;
  bool negative = false;
  if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    negative = text[pos] == '-';
    ++pos;
  }
  std::string digits;
  int fraction_digits = 0;
  bool seen_point = false;
  bool seen_digit = false;
  for (; pos < text.size(); ++pos) {
    const char c = text[pos];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      seen_digit = true;
      // Leading zeros carry no value; skipping them keeps "0000...1" within the digit limit.
      if (!(digits.empty() && c == '0')) digits.push_back(c);
      if (seen_point) ++fraction_digits;
      if (static_cast<int>(digits.size()) > kMaxDecimalDigits || fraction_digits > kMaxDecimalDigits)
        throw BillingError(sqlstate::kNumericValueOutOfRange,
                           "value of " + std::string(field) + " has too many digits");
    } else if (c == '.' && !seen_point) {
      seen_point = true;
    } else {
      break;
    }
  }
  if (!seen_digit) throw_syntax(text, field);
  long exponent = 0;
  if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
    ++pos;
    bool exponent_negative = false;
    if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
      exponent_negative = text[pos] == '-';
      ++pos;
    }
    if (pos >= text.size()) throw_syntax(text, field);
    for (; pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])); ++pos) {
      exponent = exponent * 10 + (text[pos] - '0');
      if (exponent > kMaxDecimalDigits)
        throw BillingError(sqlstate::kNumericValueOutOfRange,
                           "value of " + std::string(field) + " is out of range");
    }
    if (exponent_negative) exponent = -exponent;
  }
  if (pos != text.size()) throw_syntax(text, field);

  const long scale = fraction_digits - exponent;
  // Up to 18 digits and a scale within 18 (every billing figure): no arbitrary precision.
  if (digits.size() <= kMaxSmallScale && scale >= 0 && scale <= kMaxSmallScale) {
    int64_t mantissa = 0;
    std::from_chars(digits.data(), digits.data() + digits.size(), mantissa);
    return Rational(negative ? -mantissa : mantissa, kPowersOfTen[scale]);
  }
  BigInt mantissa = digits.empty() ? BigInt(0) : BigInt(digits);
  if (negative) mantissa = -mantissa;
  if (scale >= 0) return Rational(mantissa, power_of_ten(static_cast<int>(scale)));
  return Rational(mantissa * power_of_ten(static_cast<int>(-scale)));
}

Rational round_half_away(const Rational& value, int scale) {
  const std::optional<Int128> small = small_rounded_units(value, scale);
  if (!small) return Rational(rounded_units(value, scale), power_of_ten(scale));
  if (*small >= -std::numeric_limits<int64_t>::max() && *small <= std::numeric_limits<int64_t>::max())
    return Rational(static_cast<int64_t>(*small), kPowersOfTen[scale]);
  return Rational(BigInt(*small), power_of_ten(scale));
}

std::string format_fixed(const Rational& value, int scale) {
  bool negative = false;
  std::string digits;
  if (const std::optional<Int128> small = small_rounded_units(value, scale)) {
    negative = *small < 0;
    digits = decimal_digits(negative ? -*small : *small);
  } else {
    BigInt units = rounded_units(value, scale);
    negative = units < 0;
    if (negative) units = -units;
    digits = units.str();
  }
  if (scale > 0) {
    if (static_cast<int>(digits.size()) <= scale)
      digits.insert(0, static_cast<size_t>(scale) + 1 - digits.size(), '0');
    digits.insert(digits.size() - static_cast<size_t>(scale), ".");
  }
  return negative ? "-" + digits : digits;
}

std::string format_trimmed(const Rational& value, int scale) {
  std::string text = format_fixed(value, scale);
  if (text.find('.') == std::string::npos) return text;
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  if (text == "-0") text = "0";
  return text;
}

std::string format_exact(const Rational& value, int fallback_scale) {
  const std::optional<int> scale = value.is_small() ? terminating_scale(value.small_denominator())
                                                    : terminating_scale(value.denominator());
  return scale ? format_fixed(value, *scale) : format_trimmed(value, fallback_scale);
}

}  // namespace billing
