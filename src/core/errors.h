// Errors raised by the pure core. Each carries the SQLSTATE the PostgreSQL glue reports,
// so a bad plan or a bad quantity reaches the SQL caller as a precise, catchable error.
#pragma once

#include <stdexcept>
#include <string>

#include "core/pure.h"

namespace billing {

namespace sqlstate {
inline constexpr const char* kInvalidParameterValue = "22023";
inline constexpr const char* kNullValueNotAllowed = "22004";
inline constexpr const char* kInvalidTextRepresentation = "22P02";
inline constexpr const char* kNumericValueOutOfRange = "22003";
inline constexpr const char* kInvalidJsonText = "22032";
inline constexpr const char* kInternalError = "XX000";
inline constexpr const char* kInsufficientPrivilege = "42501";
inline constexpr const char* kNoDataFound = "P0002";
inline constexpr const char* kDatetimeFieldOverflow = "22008";
}  // namespace sqlstate

class BillingError : public std::runtime_error {
 public:
  BillingError(const char* sqlstate, const std::string& message, std::string detail = {},
               std::string hint = {})
      : std::runtime_error(message), sqlstate_(sqlstate), detail_(std::move(detail)),
        hint_(std::move(hint)) {}

  // Five characters, e.g. "22023".
  const char* sqlstate() const noexcept { return sqlstate_; }
  const std::string& detail() const noexcept { return detail_; }
  const std::string& hint() const noexcept { return hint_; }

 private:
  const char* sqlstate_;
  std::string detail_;
  std::string hint_;
};

}  // namespace billing
