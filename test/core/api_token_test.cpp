#include "core/api_token.h"

#include <gtest/gtest.h>

#include <array>
#include <map>
#include <random>
#include <string>

namespace billing {
namespace {

const std::string kSecret(40, 'a');

TEST(ApiTokenParse, AcceptsIdBarSecret) {
  // The secret is a view into the presented text, which must outlive it.
  const std::string text = "17|" + kSecret;
  const auto token = parse_api_token(text);
  ASSERT_TRUE(token.has_value());
  EXPECT_EQ(token->id, 17);
  EXPECT_EQ(token->secret, kSecret);
  const std::string largest_text = "9223372036854775807|" + std::string(128, 'Z');
  const auto largest = parse_api_token(largest_text);
  ASSERT_TRUE(largest.has_value());
  EXPECT_EQ(largest->id, INT64_MAX);
}

TEST(ApiTokenParse, RefusesEverythingElse) {
  for (const std::string bad :
       {std::string(""), std::string("|") + kSecret, "0|" + kSecret, "01|" + kSecret, "-1|" + kSecret,
        "+1|" + kSecret, "1 |" + kSecret, " 1|" + kSecret, "9223372036854775808|" + kSecret,
        "99999999999999999999|" + kSecret, "1|" + std::string(39, 'a'), "1|" + std::string(129, 'a'),
        "1|" + kSecret + " ", "1|" + kSecret + "|", "1|" + kSecret.substr(1) + "-", "Bearer 1|" + kSecret,
        "1" + kSecret, "1|" + kSecret.substr(1) + "\xc3", std::string("1|") + std::string(40, '\0')})
    EXPECT_FALSE(parse_api_token(bad).has_value()) << bad;
}

TEST(PositiveId, AcceptsPositiveDecimalsOnly) {
  EXPECT_EQ(parse_positive_id("1"), 1);
  EXPECT_EQ(parse_positive_id("9223372036854775807"), INT64_MAX);
  for (const char* bad : {"", "0", "01", "-1", "+1", "1.5", "abc", "1 ", "9223372036854775808", "99999999999999999999"})
    EXPECT_FALSE(parse_positive_id(bad).has_value()) << bad;
}

TEST(ApiTokenSecret, SkipsBiasedBytesAndStopsAtItsLength) {
  std::string secret;
  const std::array<unsigned char, 6> bytes = {0, 61, 62, 247, 248, 255};
  append_secret_symbols(secret, bytes.data(), bytes.size());
  EXPECT_EQ(secret, "A9A9");  // 248 and 255 are skipped; 62 and 247 wrap onto A and 9
  std::string full;
  const std::array<unsigned char, 200> zeros{};
  append_secret_symbols(full, zeros.data(), zeros.size());
  EXPECT_EQ(full.size(), kTokenSecretLength);
  EXPECT_TRUE(parse_api_token(format_api_token(5, full)).has_value());
}

TEST(ApiTokenSecret, EverySymbolEquallyLikely) {
  // Every byte value below 248 maps to exactly four bytes per symbol.
  std::map<char, int> counts;
  for (unsigned value = 0; value < 256; ++value) {
    std::string one;
    const unsigned char byte = static_cast<unsigned char>(value);
    append_secret_symbols(one, &byte, 1);
    if (!one.empty()) ++counts[one[0]];
  }
  EXPECT_EQ(counts.size(), 62u);
  for (const auto& [symbol, count] : counts) EXPECT_EQ(count, 4) << symbol;
}

TEST(ApiTokenCompare, EqualOnlyWhenEveryByteIs) {
  std::mt19937 random(7);
  for (int round = 0; round < 200; ++round) {
    std::array<unsigned char, 32> a{};
    for (auto& byte : a) byte = static_cast<unsigned char>(random());
    auto b = a;
    EXPECT_TRUE(constant_time_equal(a.data(), b.data(), a.size()));
    b[random() % 32] ^= static_cast<unsigned char>(1u << (random() % 8));
    EXPECT_FALSE(constant_time_equal(a.data(), b.data(), a.size()));
  }
}

}  // namespace
}  // namespace billing
