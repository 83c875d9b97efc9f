#include "core/api_token.h"

namespace billing {
namespace {

constexpr char kSymbols[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
constexpr unsigned kSymbolCount = 62;
constexpr unsigned kUnbiasedLimit = 248;  // 4 * 62: bytes below it map evenly onto the symbols

bool is_symbol(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

}  // namespace

std::optional<int64_t> parse_positive_id(std::string_view digits) {
  if (digits.empty() || digits.size() > 19 || digits[0] == '0') return std::nullopt;
  uint64_t id = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    id = id * 10 + static_cast<uint64_t>(c - '0');  // at most 19 digits: no overflow of 64 bits
  }
  if (id > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  return static_cast<int64_t>(id);
}

std::optional<PresentedToken> parse_api_token(std::string_view token) {
  const std::size_t bar = token.find('|');
  if (bar == std::string_view::npos) return std::nullopt;
  const std::optional<int64_t> id = parse_positive_id(token.substr(0, bar));
  if (!id) return std::nullopt;
  const std::string_view secret = token.substr(bar + 1);
  if (secret.size() < kTokenSecretMinLength || secret.size() > kTokenSecretMaxLength) return std::nullopt;
  for (const char c : secret)
    if (!is_symbol(c)) return std::nullopt;
  return PresentedToken{*id, secret};
}

void append_secret_symbols(std::string& secret, const unsigned char* random, std::size_t size) {
  for (std::size_t i = 0; i < size && secret.size() < kTokenSecretLength; ++i)
    if (random[i] < kUnbiasedLimit) secret.push_back(kSymbols[random[i] % kSymbolCount]);
}

std::string format_api_token(int64_t id, std::string_view secret) {
  return std::to_string(id) + "|" + std::string(secret);
}

bool constant_time_equal(const unsigned char* a, const unsigned char* b, std::size_t size) {
  volatile unsigned char difference = 0;
  for (std::size_t i = 0; i < size; ++i) difference = difference | static_cast<unsigned char>(a[i] ^ b[i]);
  return difference == 0;
}

}  // namespace billing
