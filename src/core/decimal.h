// Exact decimal arithmetic for money and quantities.
//
// Values are exact rationals (core/rational.h), so a minute count of seconds/60 or a projection
// of usage * 30/15 is carried without any error until the one place where the billing rules
// round: a charge line, rounded half away from zero to the currency's minor unit. This matches
// PostgreSQL `numeric`, whose round() also rounds half away from zero.
#pragma once

#include <string>
#include <string_view>

#include "core/pure.h"
#include "core/rational.h"

namespace billing {

// Inputs longer than this (digits, or decimal exponent) are rejected: far beyond any
// billing figure, and it keeps a hostile literal from costing unbounded time.
inline constexpr int kMaxDecimalDigits = 1000;

// Parses [+-]digits[.digits][e[+-]digits] (also ".5" and "5."). `field` names the value in
// error messages. Throws BillingError 22P02 for bad syntax, 22003 when out of range.
Rational parse_decimal(std::string_view text, std::string_view field);

// Rounds half away from zero to `scale` decimal places (scale >= 0).
Rational round_half_away(const Rational& value, int scale);

// The value rounded half away from zero, printed with exactly `scale` decimals ("174.00").
std::string format_fixed(const Rational& value, int scale);

// Like format_fixed, without trailing zeros after the point ("687.5", "1375").
std::string format_trimmed(const Rational& value, int scale);

// The exact decimal text of a value whose decimal expansion terminates ("187.5").
// Values that do not terminate (1/3) are rounded to `fallback_scale` decimals.
std::string format_exact(const Rational& value, int fallback_scale = 20);

}  // namespace billing
