// libFuzzer target: decimal parsing and formatting; a terminating value must survive a round trip.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/decimal.h"
#include "core/errors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const billing::Rational value = billing::parse_decimal(text, "fuzz");
    const std::string exact = billing::format_exact(value);
    if (billing::parse_decimal(exact, "round trip") != value) __builtin_trap();
    const std::string cents = billing::format_fixed(value, 2);
    const billing::Rational rounded = billing::parse_decimal(cents, "cents");
    // Rounding moves a value by at most half a cent.
    if (abs(rounded - value) > billing::Rational(1, 200)) __builtin_trap();
  } catch (const billing::BillingError&) {
  }
  return 0;
}
