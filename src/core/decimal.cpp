#include "core/decimal.h"

#include <cctype>

#include "core/errors.h"

namespace billing {
namespace {

BigInt power_of_ten(int exponent) {
  BigInt result = 1;
  for (int i = 0; i < exponent; ++i) result *= 10;
  return result;
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

  BigInt mantissa = digits.empty() ? BigInt(0) : BigInt(digits);
  if (negative) mantissa = -mantissa;
  const long scale = fraction_digits - exponent;
  if (scale >= 0) return Rational(mantissa, power_of_ten(static_cast<int>(scale)));
  return Rational(mantissa * power_of_ten(static_cast<int>(-scale)));
}

Rational round_half_away(const Rational& value, int scale) {
  const BigInt unit = power_of_ten(scale);
  const BigInt scaled_numerator = boost::multiprecision::numerator(value) * unit;
  const BigInt denominator = boost::multiprecision::denominator(value);  // always > 0
  BigInt quotient = scaled_numerator / denominator;                      // truncates toward zero
  const BigInt remainder = scaled_numerator % denominator;               // sign of the numerator
  if (2 * abs(remainder) >= denominator) quotient += (scaled_numerator < 0 ? -1 : 1);
  return Rational(quotient, unit);
}

std::string format_fixed(const Rational& value, int scale) {
  const Rational rounded = round_half_away(value, scale);
  // round_half_away returns quotient / 10^scale, possibly reduced; rebuild the integer.
  BigInt units = boost::multiprecision::numerator(rounded) * power_of_ten(scale) /
                 boost::multiprecision::denominator(rounded);
  const bool negative = units < 0;
  if (negative) units = -units;
  std::string digits = units.str();
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
  BigInt rest = boost::multiprecision::denominator(value);
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
  if (rest != 1) return format_trimmed(value, fallback_scale);
  return format_fixed(value, twos > fives ? twos : fives);
}

}  // namespace billing
