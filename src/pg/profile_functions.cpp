// The SQL side of the call profile (src/core/call_profile.h) and the counts arrays it is kept in:
//   billing.add_at(counts bigint[], size integer, position integer, amount bigint) -> bigint[]
//     counts (or `size` zeros when NULL) with amount added at the 0-based position; the state
//     function of the aggregate billing.sum_at(size, position, amount);
//   billing.add_arrays(a bigint[], b bigint[]) -> bigint[]: element-wise sum (NULL is "none");
//     the state function of billing.sum_arrays(bigint[]) and the rollup trigger's update;
//   billing.add_arrays(a integer[], b integer[]) -> integer[]: the same for the profile's counts
//     of one day and slot, which are kept as integer[] (half the row, so its updates stay HOT);
//   billing.call_length_bucket(seconds integer) -> integer,
//   billing.call_length_range(bucket integer) -> (from_seconds, below_seconds),
//   billing.median_call_length(lengths bigint[]) -> (at_least, below).
// Inside an aggregate the state array is changed in place (it belongs to the aggregate), so
// summing n arrays costs n additions, not n copies.
#include <array>
#include <string>

#include "core/call_profile.h"
#include "core/errors.h"
#include "pg/convert.h"
#include "pg/guard.h"

extern "C" {
#include "common/int.h"
#include "utils/array.h"
}

namespace billing::pg {
namespace {

constexpr int kMaxCounts = 1000;

// A one-dimensional bigint[] without NULLs, as PostgreSQL stores it: its elements in place.
struct Counts {
  ArrayType* array;
  int64* values;
  int size;
};

// Argument `argno`: a one-dimensional array of `element` without NULLs, indexed from 1; its
// element count.
int checked_array(FunctionCallInfo fcinfo, int argno, const char* name, Oid element, const char* type_name,
                  ArrayType** array) {
  *array = call([&] { return PG_GETARG_ARRAYTYPE_P(argno); });
  if (ARR_ELEMTYPE(*array) != element)
    throw BillingError(sqlstate::kInvalidParameterValue, std::string(name) + " must be " + type_name);
  if (ARR_NDIM(*array) > 1 || ARR_HASNULL(*array) || (ARR_NDIM(*array) == 1 && ARR_LBOUND(*array)[0] != 1))
    throw BillingError(sqlstate::kInvalidParameterValue,
                       std::string(name) + " must be a one-dimensional array without NULLs, indexed from 1");
  return ARR_NDIM(*array) == 0 ? 0 : ARR_DIMS(*array)[0];
}

Counts counts_arg(FunctionCallInfo fcinfo, int argno, const char* name) {
  ArrayType* array = nullptr;
  const int size = checked_array(fcinfo, argno, name, INT8OID, "a bigint[]", &array);
  return {array, reinterpret_cast<int64*>(ARR_DATA_PTR(array)), size};
}

// New counts: a copy of `values` (zeros when null), in the aggregate's memory when called inside
// one (a state outlives the call).
Counts new_counts(FunctionCallInfo fcinfo, const int64* values, int size) {
  ArrayType* array = call([&] {
    MemoryContext aggregate_context = nullptr;
    AggCheckCallContext(fcinfo, &aggregate_context);
    const MemoryContext previous = MemoryContextSwitchTo(aggregate_context ? aggregate_context : CurrentMemoryContext);
    Datum* elements = static_cast<Datum*>(palloc(sizeof(Datum) * static_cast<size_t>(size)));
    for (int i = 0; i < size; ++i) elements[i] = Int64GetDatum(values ? values[i] : 0);
    ArrayType* made = construct_array(elements, size, INT8OID, sizeof(int64), true, TYPALIGN_DOUBLE);
    MemoryContextSwitchTo(previous);  // on an error, call() returns to the caller's context
    return made;
  });
  return {array, reinterpret_cast<int64*>(ARR_DATA_PTR(array)), size};
}

bool in_aggregate(FunctionCallInfo fcinfo) {
  return call([&] { return AggCheckCallContext(fcinfo, nullptr) != 0; });
}

// Counts the caller may change: the state array itself inside an aggregate, else a copy.
Counts writable(FunctionCallInfo fcinfo, const Counts& counts) {
  return in_aggregate(fcinfo) ? counts : new_counts(fcinfo, counts.values, counts.size);
}

void add_checked(int64* into, int64 amount) {
  if (pg_add_s64_overflow(*into, amount, into))
    throw BillingError(sqlstate::kNumericValueOutOfRange, "a count is out of range for bigint");
}

Datum add_at(FunctionCallInfo fcinfo) {
  if (PG_ARGISNULL(1)) throw BillingError(sqlstate::kNullValueNotAllowed, "size must not be NULL");
  const int32 size = PG_GETARG_INT32(1);
  if (size < 1 || size > kMaxCounts)
    throw BillingError(sqlstate::kInvalidParameterValue, "size must be between 1 and " + std::to_string(kMaxCounts));
  Counts counts;
  if (PG_ARGISNULL(0)) {
    counts = new_counts(fcinfo, nullptr, size);
  } else {
    counts = writable(fcinfo, counts_arg(fcinfo, 0, "counts"));
    if (counts.size != size)
      throw BillingError(sqlstate::kInvalidParameterValue,
                         "counts has " + std::to_string(counts.size) + " elements, size is " + std::to_string(size));
  }
  // A row without a position or an amount adds nothing (as sum() skips NULLs).
  if (!PG_ARGISNULL(2) && !PG_ARGISNULL(3)) {
    const int32 position = PG_GETARG_INT32(2);
    if (position < 0 || position >= size)
      throw BillingError(sqlstate::kInvalidParameterValue,
                         "position " + std::to_string(position) + " is outside 0 to " + std::to_string(size - 1));
    add_checked(&counts.values[position], PG_GETARG_INT64(3));
  }
  PG_RETURN_ARRAYTYPE_P(counts.array);
}

Datum add_arrays(FunctionCallInfo fcinfo) {
  if (PG_ARGISNULL(0) && PG_ARGISNULL(1)) PG_RETURN_NULL();
  if (PG_ARGISNULL(1)) return PG_GETARG_DATUM(0);
  const Counts addend = counts_arg(fcinfo, 1, "b");
  if (PG_ARGISNULL(0)) {
    // The first state of an aggregate must be the aggregate's own copy.
    if (!in_aggregate(fcinfo)) return PG_GETARG_DATUM(1);
    PG_RETURN_ARRAYTYPE_P(new_counts(fcinfo, addend.values, addend.size).array);
  }
  Counts counts = counts_arg(fcinfo, 0, "a");
  if (counts.size != addend.size)
    throw BillingError(sqlstate::kInvalidParameterValue, "the arrays have different lengths (" +
                       std::to_string(counts.size) + " and " + std::to_string(addend.size) + ")");
  counts = writable(fcinfo, counts);
  for (int i = 0; i < counts.size; ++i) add_checked(&counts.values[i], addend.values[i]);
  PG_RETURN_ARRAYTYPE_P(counts.array);
}

// The element-wise sum of two one-dimensional integer[] without NULLs, of one length.
Datum add_integer_arrays(FunctionCallInfo fcinfo) {
  if (PG_ARGISNULL(0) && PG_ARGISNULL(1)) PG_RETURN_NULL();
  if (PG_ARGISNULL(1)) return PG_GETARG_DATUM(0);
  if (PG_ARGISNULL(0)) return PG_GETARG_DATUM(1);
  ArrayType* arrays[2];
  const int sizes[2] = {checked_array(fcinfo, 0, "a", INT4OID, "an integer[]", &arrays[0]),
                        checked_array(fcinfo, 1, "b", INT4OID, "an integer[]", &arrays[1])};
  if (sizes[0] != sizes[1])
    throw BillingError(sqlstate::kInvalidParameterValue, "the arrays have different lengths (" +
                       std::to_string(sizes[0]) + " and " + std::to_string(sizes[1]) + ")");
  const int32* a = reinterpret_cast<const int32*>(ARR_DATA_PTR(arrays[0]));
  const int32* b = reinterpret_cast<const int32*>(ARR_DATA_PTR(arrays[1]));
  ArrayType* sum = call([&] {
    return construct_array(static_cast<Datum*>(palloc0(sizeof(Datum) * static_cast<size_t>(sizes[0]))), sizes[0],
                           INT4OID, sizeof(int32), true, TYPALIGN_INT);
  });
  int32* values = reinterpret_cast<int32*>(ARR_DATA_PTR(sum));
  for (int i = 0; i < sizes[0]; ++i)
    if (pg_add_s32_overflow(a[i], b[i], &values[i]))
      throw BillingError(sqlstate::kNumericValueOutOfRange, "a count is out of range for integer");
  PG_RETURN_ARRAYTYPE_P(sum);
}

Datum call_length_bucket_sql(FunctionCallInfo fcinfo) {
  const int32 seconds = PG_GETARG_INT32(0);
  const std::optional<int> bucket = call_length_bucket(seconds);
  if (!bucket)
    throw BillingError(sqlstate::kInvalidParameterValue, "a call length must be between 0 and " +
                       std::to_string(kLongestCallSeconds) + " seconds");
  PG_RETURN_INT32(*bucket);
}

Datum call_length_range_sql(FunctionCallInfo fcinfo) {
  const int32 bucket = PG_GETARG_INT32(0);
  if (bucket < 0 || bucket >= kCallLengthBuckets)
    throw BillingError(sqlstate::kInvalidParameterValue,
                       "bucket must be between 0 and " + std::to_string(kCallLengthBuckets - 1));
  const LengthRange range = call_length_range(bucket);
  const Datum values[2] = {Int32GetDatum(static_cast<int32>(range.from)), Int32GetDatum(static_cast<int32>(range.below))};
  const bool nulls[2] = {false, false};
  return record_datum(fcinfo, values, nulls);
}

Datum median_call_length(FunctionCallInfo fcinfo) {
  const Counts lengths = counts_arg(fcinfo, 0, "lengths");
  if (lengths.size != kCallLengthBuckets)
    throw BillingError(sqlstate::kInvalidParameterValue,
                       "lengths must have one count per call length bucket (" + std::to_string(kCallLengthBuckets) + ")");
  std::array<int64_t, kCallLengthBuckets> counts{};
  for (int i = 0; i < kCallLengthBuckets; ++i) counts[i] = lengths.values[i];
  const std::optional<LengthRange> median = median_length_range(counts);
  Datum values[2] = {0, 0};
  bool nulls[2] = {true, true};
  if (median) {
    values[0] = Int32GetDatum(static_cast<int32>(median->from));
    values[1] = Int32GetDatum(static_cast<int32>(median->below));
    nulls[0] = nulls[1] = false;
  }
  return record_datum(fcinfo, values, nulls);
}

}  // namespace
}  // namespace billing::pg

BILLING_SQL_FUNCTION(billing_add_at, billing::pg::add_at)
BILLING_SQL_FUNCTION(billing_add_arrays, billing::pg::add_arrays)
BILLING_SQL_FUNCTION(billing_add_integer_arrays, billing::pg::add_integer_arrays)
BILLING_SQL_FUNCTION(billing_call_length_bucket, billing::pg::call_length_bucket_sql)
BILLING_SQL_FUNCTION(billing_call_length_range, billing::pg::call_length_range_sql)
BILLING_SQL_FUNCTION(billing_median_call_length, billing::pg::median_call_length)
