// ISO 4217 minor units: how many decimals a charge line of this currency is rounded to.
#pragma once

#include <string_view>
#include <utility>
#include <vector>

#include "core/pure.h"

namespace billing {

// The minor unit of an active ISO 4217 code (list one: 0 for JPY, XPF and the others without a
// minor unit, 2 for most, 3 for the dinars, 4 for the units of account CLF and UYW). Throws
// BillingError 22023 for a code that is not three letters A-Z, for a code ISO 4217 does not
// list (or no longer lists: HRK, SLL, ZWL, CUC, ANG) and for the codes without a minor unit
// (precious metals, SDR, testing codes: XAU, XDR, XTS, XXX).
int currency_minor_unit(std::string_view code);

// Every accepted code with its minor unit, in alphabetical order (for the tests and the docs).
const std::vector<std::pair<std::string_view, int>>& accepted_currencies();

}  // namespace billing
