#include "core/call_profile.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace billing {
namespace {

TEST(CallProfile, BucketsCoverEveryLengthOnceInOrder) {
  int64_t next_from = 0;
  for (int bucket = 0; bucket < kCallLengthBuckets; ++bucket) {
    const LengthRange range = call_length_range(bucket);
    EXPECT_EQ(range.from, next_from) << bucket;
    EXPECT_LT(range.from, range.below) << bucket;
    next_from = range.below;
  }
  EXPECT_EQ(next_from, kLongestCallSeconds + 1);
  for (int64_t seconds : {int64_t{0}, int64_t{4}, int64_t{5}, int64_t{119}, int64_t{120}, int64_t{599},
                          int64_t{600}, int64_t{3599}, int64_t{3600}, kLongestCallSeconds}) {
    const std::optional<int> bucket = call_length_bucket(seconds);
    ASSERT_TRUE(bucket) << seconds;
    EXPECT_LE(call_length_range(*bucket).from, seconds);
    EXPECT_GT(call_length_range(*bucket).below, seconds);
  }
}

TEST(CallProfile, BucketEdges) {
  EXPECT_EQ(call_length_bucket(0), 0);
  EXPECT_EQ(call_length_bucket(5), 1);
  EXPECT_EQ(call_length_bucket(120), 24);
  EXPECT_EQ(call_length_bucket(135), 25);
  EXPECT_EQ(call_length_bucket(600), 56);
  EXPECT_EQ(call_length_bucket(1800), 76);
  EXPECT_EQ(call_length_bucket(3600), 82);
  EXPECT_EQ(call_length_bucket(-1), std::nullopt);
  EXPECT_EQ(call_length_bucket(kLongestCallSeconds + 1), std::nullopt);
}

TEST(CallProfile, MedianOfNothingIsUnknown) {
  std::array<int64_t, kCallLengthBuckets> counts{};
  EXPECT_EQ(median_length_range(counts), std::nullopt);
  counts[3] = -2;  // a net negative count (impossible in a consistent rollup) counts as none
  EXPECT_EQ(median_length_range(counts), std::nullopt);
}

TEST(CallProfile, MedianOfTwoSpansTheirBuckets) {
  std::array<int64_t, kCallLengthBuckets> counts{};
  counts[*call_length_bucket(30)] = 1;
  counts[*call_length_bucket(200)] = 1;
  const std::optional<LengthRange> median = median_length_range(counts);
  ASSERT_TRUE(median);
  EXPECT_EQ(median->from, 30);
  EXPECT_EQ(median->below, 210);
}

// The true median of random lengths (the mean of the two middle ones for an even count) lies
// in the range, and the range is one bucket wide whenever both middle calls share a bucket.
TEST(CallProfile, MedianRangeHoldsTheTrueMedian) {
  std::mt19937_64 random(42);
  for (int round = 0; round < 2000; ++round) {
    const int n = 1 + static_cast<int>(random() % 60);
    std::vector<int64_t> lengths;
    std::array<int64_t, kCallLengthBuckets> counts{};
    for (int i = 0; i < n; ++i) {
      const int64_t seconds = random() % 4 == 0 ? static_cast<int64_t>(random() % 5000)
                                                : static_cast<int64_t>(random() % 400);
      lengths.push_back(seconds);
      ++counts[*call_length_bucket(seconds)];
    }
    std::sort(lengths.begin(), lengths.end());
    const int64_t lower = lengths[(n + 1) / 2 - 1];
    const int64_t upper = lengths[n / 2];
    const std::optional<LengthRange> median = median_length_range(counts);
    ASSERT_TRUE(median);
    EXPECT_LE(median->from, lower);
    EXPECT_GT(median->below, upper);
    EXPECT_EQ(median->from, call_length_range(*call_length_bucket(lower)).from);
    EXPECT_EQ(median->below, call_length_range(*call_length_bucket(upper)).below);
  }
}

}  // namespace
}  // namespace billing
