#include "gateway/refusal_surge.h"

#include <gtest/gtest.h>

namespace sipgw::gateway {
namespace {

// n refusals spread over the second that starts at `second`.
bool refuse(RefusalSurge& surge, std::int64_t second, int n) {
  bool changed = false;
  for (int i = 0; i < n; ++i) changed |= surge.refused(second * 1000 + i * 999 / std::max(n, 1));
  return changed;
}

TEST(RefusalSurgeTest, ShedsWhenOneSecondHoldsTheThresholdAndNotBefore) {
  RefusalSurge surge(100);
  EXPECT_FALSE(refuse(surge, 1000, 99));
  EXPECT_EQ(surge.state(), SurgeState::calm);
  EXPECT_EQ(surge.transaction_lifetime(), kNormalTransactionLifetime);
  // 99 a second for ever is not a surge: each second starts from zero.
  EXPECT_FALSE(refuse(surge, 1001, 99));
  EXPECT_TRUE(refuse(surge, 1002, 100));
  EXPECT_EQ(surge.state(), SurgeState::shedding);
  EXPECT_EQ(surge.transaction_lifetime(), kSurgeTransactionLifetime);
}

TEST(RefusalSurgeTest, EndsAfterTenSecondsInARowUnderHalfTheThreshold) {
  RefusalSurge surge(100);
  ASSERT_TRUE(refuse(surge, 2000, 150));
  // 49 a second is calm: the tenth calm second closes at 2011.
  for (std::int64_t second = 2001; second <= 2010; ++second) {
    EXPECT_FALSE(refuse(surge, second, 49)) << second;
    EXPECT_EQ(surge.state(), SurgeState::shedding) << second;
  }
  EXPECT_TRUE(surge.poll(2011 * 1000));
  EXPECT_EQ(surge.state(), SurgeState::calm);
}

TEST(RefusalSurgeTest, ABusySecondRestartsTheCalmCount) {
  RefusalSurge surge(100);
  ASSERT_TRUE(refuse(surge, 3000, 100));
  EXPECT_FALSE(refuse(surge, 3005, 50));  // half the threshold is not calm
  EXPECT_FALSE(surge.poll(3015 * 1000));  // 3006..3014: nine calm seconds
  EXPECT_EQ(surge.state(), SurgeState::shedding);
  EXPECT_TRUE(surge.poll(3016 * 1000));
}

TEST(RefusalSurgeTest, SilenceCountsAsCalm) {
  RefusalSurge surge(100);
  ASSERT_TRUE(refuse(surge, 4000, 100));
  EXPECT_FALSE(surge.poll(4010 * 1000));  // 4001..4009
  EXPECT_TRUE(surge.poll(4011 * 1000));
  EXPECT_EQ(surge.state(), SurgeState::calm);
}

TEST(RefusalSurgeTest, ZeroNeverShedsAndEndsASurge) {
  RefusalSurge off(0);
  EXPECT_FALSE(refuse(off, 5000, 100000));
  EXPECT_EQ(off.state(), SurgeState::calm);
  RefusalSurge surge(10);
  ASSERT_TRUE(refuse(surge, 5000, 10));
  surge.set_threshold(0);
  EXPECT_EQ(surge.state(), SurgeState::calm);
}

}  // namespace
}  // namespace sipgw::gateway
