// ISO 4217 minor units: how many decimals a charge line of this currency is rounded to.
#pragma once

#include <string_view>

#include "core/pure.h"

namespace billing {

// 2 for most currencies (EUR, USD), 0 for JPY and others without a minor unit,
// 3 for the dinars. Throws BillingError 22023 unless `code` is three letters A-Z.
int currency_minor_unit(std::string_view code);

}  // namespace billing
