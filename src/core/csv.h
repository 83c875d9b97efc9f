// CSV output (RFC 4180) for the dashboard's export, safe to open in a spreadsheet.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/pure.h"

namespace billing {

// One field: quoted when it holds a comma, a double quote, CR or LF (quotes doubled inside).
// A cell that a spreadsheet would run as a formula (first character = + - @, tab or CR) gets a
// leading apostrophe, the usual neutralization, before quoting.
std::string csv_field(std::string_view value);

// Fields joined by commas, without the record terminator (CRLF is added by the caller).
// An empty optional is an empty field (SQL NULL).
std::string csv_record(const std::vector<std::optional<std::string>>& fields);

}  // namespace billing
