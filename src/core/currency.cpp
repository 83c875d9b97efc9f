#include "core/currency.h"

#include <array>
#include <string>

#include "core/errors.h"

namespace billing {

int currency_minor_unit(std::string_view code) {
  const bool well_formed = code.size() == 3 && code[0] >= 'A' && code[0] <= 'Z' &&
                           code[1] >= 'A' && code[1] <= 'Z' && code[2] >= 'A' && code[2] <= 'Z';
  if (!well_formed)
    throw BillingError(sqlstate::kInvalidParameterValue,
                       "currency must be an ISO 4217 code of three capital letters, got \"" +
                           std::string(code.substr(0, 16)) + "\"");
  static constexpr std::array<std::string_view, 16> kNoMinorUnit = {
      "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW",
      "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF"};
  static constexpr std::array<std::string_view, 7> kThreeDecimals = {"BHD", "IQD", "JOD", "KWD",
                                                                     "LYD", "OMR", "TND"};
  for (std::string_view c : kNoMinorUnit)
    if (c == code) return 0;
  for (std::string_view c : kThreeDecimals)
    if (c == code) return 3;
  return 2;
}

}  // namespace billing
