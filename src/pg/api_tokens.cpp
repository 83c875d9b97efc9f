// API tokens (extension/src/85_api_tokens.sql):
//   billing.create_api_token(company, name, user_name, abilities, expires_at) -> (token_id, token)
//   billing.authenticate_token(token, as_of) -> (token_id, company_id, user_name, abilities,
//                                               expires_at, company_active)
// The token's text form and the comparison are in src/core/api_token.cpp; the random bytes and
// SHA-256 are PostgreSQL's (pg_strong_random, pg_cryptohash).
#include <array>
#include <cstring>
#include <optional>
#include <string>

#include "core/api_token.h"
#include "core/errors.h"
#include "pg/audit.h"
#include "pg/convert.h"
#include "pg/guard.h"
#include "pg/index_lookup.h"
#include "pg/kept_query.h"

extern "C" {
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
}

namespace billing::pg {
namespace {

using Digest = std::array<unsigned char, PG_SHA256_DIGEST_LENGTH>;

Digest sha256(const char* data, size_t size) {
  Digest digest{};
  call([&] {
    pg_cryptohash_ctx* context = pg_cryptohash_create(PG_SHA256);
    if (context == nullptr || pg_cryptohash_init(context) < 0 ||
        pg_cryptohash_update(context, reinterpret_cast<const uint8*>(data), size) < 0 ||
        pg_cryptohash_final(context, digest.data(), digest.size()) < 0)
      elog(ERROR, "company_billing: could not compute SHA-256");
    pg_cryptohash_free(context);
  });
  return digest;
}

std::string new_secret() {
  std::string secret;
  while (secret.size() < kTokenSecretLength) {
    unsigned char random[64];
    if (!pg_strong_random(random, sizeof random))
      throw BillingError(sqlstate::kInternalError, "create_api_token: could not generate random bytes");
    append_secret_symbols(secret, random, sizeof random);
  }
  return secret;
}

KeptQuery insert_token(R"SQL(
INSERT INTO billing.api_tokens (company_id, name, user_name, abilities, secret_hash, expires_at)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING id
)SQL",
                       {INT8OID, TEXTOID, TEXTOID, TEXTARRAYOID, BYTEAOID, TIMESTAMPTZOID}, KeptQuery::Access::kWrites);

Datum create_api_token(FunctionCallInfo fcinfo) {
  if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(3))
    throw BillingError(sqlstate::kNullValueNotAllowed, "create_api_token: company, name and abilities must not be NULL");
  const int64 company = PG_GETARG_INT64(0);
  if (!PG_ARGISNULL(4) && TIMESTAMP_NOT_FINITE(PG_GETARG_TIMESTAMPTZ(4)))
    throw BillingError(sqlstate::kDatetimeFieldOverflow, "create_api_token: expires_at must be a finite timestamp (NULL: never)");
  const std::string secret = new_secret();
  const Digest digest = sha256(secret.data(), secret.size());
  const Datum hash = call([&] {
    bytea* value = static_cast<bytea*>(palloc(VARHDRSZ + digest.size()));
    SET_VARSIZE(value, VARHDRSZ + digest.size());
    std::memcpy(VARDATA(value), digest.data(), digest.size());
    return PointerGetDatum(value);
  });
  const Datum values[6] = {Int64GetDatum(company), PG_GETARG_DATUM(1), PG_ARGISNULL(2) ? Datum(0) : PG_GETARG_DATUM(2),
                           PG_GETARG_DATUM(3), hash, PG_ARGISNULL(4) ? Datum(0) : PG_GETARG_DATUM(4)};
  const char nulls[6] = {' ', ' ', PG_ARGISNULL(2) ? 'n' : ' ', ' ', ' ', PG_ARGISNULL(4) ? 'n' : ' '};
  spi_connect();
  std::optional<int64> token_id;
  try {
    if (insert_token.run(values, nulls) == 1) token_id = result_int64(0, 1);
  } catch (const PgError& error) {
    // The table's constraints are the rules; their violations in this function's words.
    const ErrorData* data = error.data();
    const auto is = [&](const char* name) { return error.names_constraint(name); };
    if (data->sqlerrcode == ERRCODE_FOREIGN_KEY_VIOLATION && is("api_tokens_company_id_fkey"))
      throw BillingError("23503", "create_api_token: company " + std::to_string(company) + " does not exist");
    if (data->sqlerrcode != ERRCODE_CHECK_VIOLATION) throw;
    if (is("api_tokens_name_check"))
      throw BillingError(sqlstate::kInvalidParameterValue, "create_api_token: name must have 1 to 200 characters");
    if (is("api_tokens_user_name_check"))
      throw BillingError(sqlstate::kInvalidParameterValue, "create_api_token: user_name must have 1 to 200 characters");
    if (is("api_tokens_abilities_check"))
      throw BillingError(sqlstate::kInvalidParameterValue,
                         "create_api_token: abilities must be one or more lower-case words such as view_billing",
                         {}, "Each ability starts with a letter and has at most 63 of a-z, 0-9, _, :, . and -.");
    throw;
  }
  spi_finish();
  if (!token_id) throw BillingError(sqlstate::kInternalError, "create_api_token: the token was not stored");
  const std::string token = format_api_token(*token_id, secret);
  const Datum result[2] = {Int64GetDatum(*token_id), text_datum(token)};
  const bool result_nulls[2] = {false, false};
  return record_datum(fcinfo, result, result_nulls);
}

// What authenticate_token returns, copied out of the index scans.
struct VerifiedToken {
  int64 id = 0;
  int64 company = 0;
  Datum user_name = 0;  // NULL when 0
  Datum abilities = 0;
  std::optional<TimestampTz> expires_at;
  bool company_active = false;
};

Datum copied(Datum value, bool by_value, int length) {
  return call([&] { return datumCopy(value, by_value, length); });
}

[[noreturn]] void refuse(std::optional<int64> company, int64 token_id) {
  count_token_failure();
  queue_audit(company, "authenticate_token (failed)", token_id);
  // One message for a malformed, unknown, wrong, expired or revoked token: nothing tells the
  // caller whether the id exists.
  throw BillingError("28000", "invalid API token");
}

Datum authenticate_token(FunctionCallInfo fcinfo) {
  if (PG_ARGISNULL(1)) throw BillingError(sqlstate::kNullValueNotAllowed, "as_of must not be NULL");
  const TimestampTz as_of = PG_GETARG_TIMESTAMPTZ(1);
  if (TIMESTAMP_NOT_FINITE(as_of)) throw BillingError(sqlstate::kDatetimeFieldOverflow, "as_of must be a finite timestamp");
  const std::string presented = PG_ARGISNULL(0) ? std::string() : text_arg(fcinfo, 0);
  const std::optional<PresentedToken> parsed = parse_api_token(presented);
  // The hash is computed and compared whether or not the token parses or its id exists.
  const std::string_view secret = parsed ? parsed->secret : std::string_view(presented);
  const Digest digest = sha256(secret.data(), secret.size());
  Digest stored{};  // all zeros: no SHA-256 matches it in practice
  bool found = false;
  bool usable = false;
  VerifiedToken token;
  if (parsed) {
    IndexLookup lookup("api_tokens", "api_tokens_pkey", IndexLookup::Privilege::kSkipCheck);
    lookup.add_key(1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(parsed->id));
    if (lookup.next()) {
      found = true;
      bool is_null = false;
      token.id = parsed->id;
      token.company = DatumGetInt64(lookup.value(lookup.column("company_id"), &is_null));
      const Datum hash = lookup.value(lookup.column("secret_hash"), &is_null);
      const bytea* hash_bytes = call([&] { return DatumGetByteaPP(hash); });
      if (VARSIZE_ANY_EXHDR(hash_bytes) == stored.size()) std::memcpy(stored.data(), VARDATA_ANY(hash_bytes), stored.size());
      const Datum revoked_at = lookup.value(lookup.column("revoked_at"), &is_null);
      const bool revoked = !is_null && DatumGetTimestampTz(revoked_at) <= as_of;
      const Datum expires_at = lookup.value(lookup.column("expires_at"), &is_null);
      if (!is_null) token.expires_at = DatumGetTimestampTz(expires_at);
      const bool expired = token.expires_at && *token.expires_at <= as_of;
      usable = !revoked && !expired;
      const Datum user_name = lookup.value(lookup.column("user_name"), &is_null);
      if (!is_null) token.user_name = copied(user_name, false, -1);
      token.abilities = copied(lookup.value(lookup.column("abilities"), &is_null), false, -1);
    }
    lookup.close();
  }
  const bool matches = constant_time_equal(digest.data(), stored.data(), digest.size());
  if (!found) refuse(std::nullopt, 0);
  if (!matches || !usable) refuse(token.company, token.id);

  IndexLookup company("companies", "companies_pkey");
  company.add_key(1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(token.company));
  if (company.next()) {
    bool is_null = false;
    token.company_active = DatumGetBool(company.value(company.column("active"), &is_null)) && !is_null;
  }
  company.close();

  remember_authenticated_token(token.id);
  queue_audit(token.company, "authenticate_token", token.id);
  const Datum values[6] = {Int64GetDatum(token.id), Int64GetDatum(token.company), token.user_name, token.abilities,
                           token.expires_at ? TimestampTzGetDatum(*token.expires_at) : Datum(0),
                           BoolGetDatum(token.company_active)};
  const bool nulls[6] = {false, false, token.user_name == 0, false, !token.expires_at, false};
  return record_datum(fcinfo, values, nulls);
}

}  // namespace
}  // namespace billing::pg

BILLING_SQL_FUNCTION(billing_create_api_token, billing::pg::create_api_token)
BILLING_SQL_FUNCTION(billing_authenticate_token, billing::pg::authenticate_token)
