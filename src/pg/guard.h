// The exception boundary between C++ and PostgreSQL (docs/design.md).
//
// Direction 1, C++ -> PostgreSQL: every SQL-callable function is defined with
// BILLING_SQL_FUNCTION, whose extern "C" body only calls guard(). guard() runs the C++
// implementation, catches every exception, copies what it needs out of it, leaves the catch
// block (so the exception object is destroyed) and only then raises the PostgreSQL error.
//
// Direction 2, PostgreSQL -> C++: a PostgreSQL function that can ereport(ERROR) is called only
// through call(). It catches the longjmp right there, in a frame that holds no C++ object with
// a destructor, and turns it into a PgError exception that unwinds the C++ stack normally.
// guard() re-raises a PgError as the original PostgreSQL error (same SQLSTATE and message).
//
// Rule for code between the two: never swallow a PgError (the failed PostgreSQL operation may
// have left state that only the transaction abort cleans up); let it reach guard(), or replace
// it with a BillingError that says the same failure in the function's own words (the
// transaction aborts just the same).
#pragma once

#include <cstring>
#include <exception>
#include <type_traits>

#include "pg/pg_includes.h"

namespace billing::pg {

class PgError : public std::exception {
 public:
  explicit PgError(ErrorData* data) : data_(data) {}
  const char* what() const noexcept override { return data_->message ? data_->message : "error"; }
  ErrorData* data() const noexcept { return data_; }
  // Whether the error names the table constraint `constraint` (a CHECK, foreign key or unique
  // violation): the table's constraints are the rules, and callers report them in their words.
  bool names_constraint(const char* constraint) const noexcept {
    return data_->constraint_name != nullptr && std::strcmp(data_->constraint_name, constraint) == 0;
  }

 private:
  ErrorData* data_;  // palloc'd in the caller's memory context: freed with it, not by us
};

// Calls `fn` (a lambda that calls PostgreSQL C functions only and holds no C++ object with a
// destructor) and returns its result; a PostgreSQL error inside becomes a PgError.
template <typename Fn>
auto call(Fn&& fn) -> decltype(fn()) {
  using Result = decltype(fn());
  if constexpr (std::is_void_v<Result>) {
    call([&] {
      fn();
      return 0;
    });
  } else {
    static_assert(std::is_trivially_destructible_v<Result>, "call() returns plain PostgreSQL values only");
    MemoryContext caller_context = CurrentMemoryContext;
    ErrorData* volatile error = nullptr;
    Result result{};
    PG_TRY();
    { result = fn(); }
    PG_CATCH();
    {
      MemoryContextSwitchTo(caller_context);
      error = CopyErrorData();
      FlushErrorState();
    }
    PG_END_TRY();
    if (error != nullptr) throw PgError(error);
    return result;
  }
}

using Implementation = Datum (*)(FunctionCallInfo);

// Runs `body`; any exception becomes a PostgreSQL ERROR with a SQLSTATE. Never returns by
// exception, so it is safe to call from an extern "C" function.
Datum guard(FunctionCallInfo fcinfo, Implementation body) noexcept;

}  // namespace billing::pg

// Defines the SQL-callable C symbol `c_name`, implemented by the C++ function `body`.
// (PostgreSQL 15's PG_FUNCTION_INFO_V1 exports only the info function, so the entry point is
// marked PGDLLEXPORT here.)
#define BILLING_SQL_FUNCTION(c_name, body)                                            \
  extern "C" {                                                                        \
  PG_FUNCTION_INFO_V1(c_name);                                                        \
  PGDLLEXPORT Datum c_name(PG_FUNCTION_ARGS) { return billing::pg::guard(fcinfo, body); } \
  }
