#include "core/token_bucket.h"

#include <gtest/gtest.h>

namespace billing {
namespace {

constexpr int64_t kSecond = 1000000;

TEST(TokenBucket, AdmitsExactlyTheLimitInABurst) {
  TokenBucket bucket = new_bucket(60, 0);
  int admitted = 0;
  for (int i = 0; i < 100; ++i) admitted += take_token(bucket, 60, 0, nullptr);
  EXPECT_EQ(admitted, 60);
}

TEST(TokenBucket, RefillsAtTheRate) {
  TokenBucket bucket = new_bucket(60, 0);
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(take_token(bucket, 60, 0, nullptr));
  int64_t retry = 0;
  EXPECT_FALSE(take_token(bucket, 60, kSecond / 2, &retry));
  EXPECT_EQ(retry, kSecond / 2);  // one token a second; half of it has accrued
  EXPECT_TRUE(take_token(bucket, 60, kSecond, nullptr));
  EXPECT_FALSE(take_token(bucket, 60, kSecond, nullptr));
  // After a minute or more the bucket is full again, never fuller.
  int admitted = 0;
  for (int i = 0; i < 100; ++i) admitted += take_token(bucket, 60, 10 * 60 * kSecond, nullptr);
  EXPECT_EQ(admitted, 60);
}

TEST(TokenBucket, FullOnlyOnceRefilled) {
  TokenBucket bucket = new_bucket(60, 0);
  EXPECT_TRUE(bucket_is_full(bucket, 60, 0));
  ASSERT_TRUE(take_token(bucket, 60, 0, nullptr));
  EXPECT_FALSE(bucket_is_full(bucket, 60, 0));
  EXPECT_FALSE(bucket_is_full(bucket, 60, kSecond / 2));  // half a token short
  EXPECT_TRUE(bucket_is_full(bucket, 60, kSecond));
  // Probing does not change the bucket, and a bucket last used in the future is not full.
  EXPECT_FALSE(bucket_is_full(bucket, 60, 0));
  EXPECT_FALSE(bucket_is_full(new_bucket(60, 10 * kSecond), 60, 0));
}

TEST(TokenBucket, TimeGoingBackwardsRefillsNothing) {
  TokenBucket bucket = new_bucket(2, 100 * kSecond);
  EXPECT_TRUE(take_token(bucket, 2, 100 * kSecond, nullptr));
  EXPECT_TRUE(take_token(bucket, 2, 100 * kSecond, nullptr));
  EXPECT_FALSE(take_token(bucket, 2, 50 * kSecond, nullptr));
}

TEST(TokenBucket, LoweredLimitCapsTheBucket) {
  TokenBucket bucket = new_bucket(100, 0);
  int admitted = 0;
  for (int i = 0; i < 50; ++i) admitted += take_token(bucket, 10, 0, nullptr);
  EXPECT_EQ(admitted, 10);
}

TEST(TokenBucket, HugeIdleTimeDoesNotOverflow) {
  TokenBucket bucket = new_bucket(1000000, 0);
  EXPECT_TRUE(take_token(bucket, 1000000, INT64_MAX / 2, nullptr));
}

}  // namespace
}  // namespace billing
