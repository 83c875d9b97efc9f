// The text form of an API token, "<id>|<secret>", and the rules that do not need a server:
// parsing a presented token, turning random bytes into a secret, comparing hashes in constant
// time. Hashing and randomness come from PostgreSQL (src/pg/api_tokens.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/pure.h"

namespace billing {

inline constexpr std::size_t kTokenSecretLength = 48;     // letters and digits: about 286 bits
inline constexpr std::size_t kTokenSecretMinLength = 40;  // what a presented secret may have
inline constexpr std::size_t kTokenSecretMaxLength = 128;

struct PresentedToken {
  int64_t id;
  std::string_view secret;  // a view into the parsed text
};

// A positive decimal id without sign or leading zero that fits in 63 bits (a token's id, a
// period's id in a URL); nothing for anything else.
std::optional<int64_t> parse_positive_id(std::string_view digits);

// "<id>|<secret>": id a positive decimal without sign or leading zero that fits in 63 bits,
// secret kTokenSecretMinLength to kTokenSecretMaxLength ASCII letters and digits. Anything
// else (an optional "Bearer " prefix included) is not a token.
std::optional<PresentedToken> parse_api_token(std::string_view token);

// Appends to `secret` one letter or digit per byte of `random` that maps onto the 62 symbols
// without bias (bytes 248 and above are skipped), up to kTokenSecretLength symbols in all.
void append_secret_symbols(std::string& secret, const unsigned char* random, std::size_t size);

std::string format_api_token(int64_t id, std::string_view secret);

// Whether two byte strings of equal length are equal, in time that depends on the length only.
bool constant_time_equal(const unsigned char* a, const unsigned char* b, std::size_t size);

}  // namespace billing
