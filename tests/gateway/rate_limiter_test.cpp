// Per-source token buckets: a burst of twice the rate, refill at the rate,
// a tighter bucket for new requests, the flood line, and a table that a
// flood of ever-new addresses cannot grow.
#include "gateway/rate_limiter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace sipgw::gateway {
namespace {

constexpr std::int64_t kNow = 1'780'315'200'000;

auth::IpAddress ip(const char* text) { return *auth::parse_ip(text); }

TEST(SourceRateLimiterTest, ANewSourceMayBurstTwiceItsRateThenGetsTheRate) {
  SourceRateLimiter limiter(64);
  const RatePolicy policy{1000, 10};
  int passed = 0;
  for (int i = 0; i < 30; ++i) passed += limiter.admit(ip("203.0.113.9"), true, kNow, policy) == RateVerdict::pass;
  EXPECT_EQ(passed, 20);
  // A tenth of a second later one more token is there, and only one.
  EXPECT_EQ(limiter.admit(ip("203.0.113.9"), true, kNow + 100, policy), RateVerdict::pass);
  EXPECT_NE(limiter.admit(ip("203.0.113.9"), true, kNow + 100, policy), RateVerdict::pass);
  // Another source has its own buckets.
  EXPECT_EQ(limiter.admit(ip("203.0.113.10"), true, kNow + 100, policy), RateVerdict::pass);
}

TEST(SourceRateLimiterTest, InDialogRequestsUseOnlyTheWholeRate) {
  SourceRateLimiter limiter(64);
  const RatePolicy policy{5, 1};
  for (int i = 0; i < 2; ++i) EXPECT_EQ(limiter.admit(ip("198.51.100.1"), true, kNow, policy), RateVerdict::pass);
  EXPECT_EQ(limiter.admit(ip("198.51.100.1"), true, kNow, policy), RateVerdict::over);  // new-request bucket empty
  // The refused INVITE took a token from the whole bucket (10) too: 7 left.
  int passed = 0;
  for (int i = 0; i < 10; ++i) passed += limiter.admit(ip("198.51.100.1"), false, kNow, policy) == RateVerdict::pass;
  EXPECT_EQ(passed, 7);
}

TEST(SourceRateLimiterTest, RefusedTwiceTheRateWithinASecondIsAFloodOnce) {
  SourceRateLimiter limiter(64);
  const RatePolicy policy{0, 20};
  EXPECT_EQ(SourceRateLimiter::flood_line(20), 40u);
  EXPECT_EQ(SourceRateLimiter::flood_line(2), 10u);
  std::vector<RateVerdict> verdicts;
  for (int i = 0; i < 40 + 40 + 5; ++i) verdicts.push_back(limiter.admit(ip("192.0.2.77"), true, kNow, policy));
  EXPECT_EQ(std::count(verdicts.begin(), verdicts.end(), RateVerdict::pass), 40);  // the burst
  EXPECT_EQ(std::count(verdicts.begin(), verdicts.end(), RateVerdict::flood), 1);
  EXPECT_EQ(verdicts[79], RateVerdict::flood);  // the 40th refusal
  EXPECT_EQ(verdicts[80], RateVerdict::over);
}

TEST(SourceRateLimiterTest, RefusalsSpreadOverSecondsAreNoFlood) {
  SourceRateLimiter limiter(64);
  const RatePolicy policy{0, 10};
  // 25 a second against a rate of 10: 15 refusals a second stay under the
  // line of 20.
  int floods = 0;
  for (int i = 0; i < 25 * 10; ++i) {
    floods += limiter.admit(ip("192.0.2.78"), true, kNow + i * 40, policy) == RateVerdict::flood;
  }
  EXPECT_EQ(floods, 0);
}

TEST(SourceRateLimiterTest, NoLimitWhenBothRatesAreZero) {
  SourceRateLimiter limiter(4);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(limiter.admit(ip("192.0.2.1"), true, kNow, RatePolicy{0, 0}), RateVerdict::pass);
}

TEST(SourceRateLimiterTest, ASpoofedFloodEvictsTheStalestSourceAndNeverGrowsTheTable) {
  SourceRateLimiter limiter(16);
  const std::size_t capacity = limiter.capacity();
  const RatePolicy policy{0, 1};
  // 192.0.2.1 used up its burst of 2.
  for (int i = 0; i < 3; ++i) limiter.admit(ip("192.0.2.1"), true, kNow, policy);
  EXPECT_EQ(limiter.admit(ip("192.0.2.1"), true, kNow, policy), RateVerdict::over);
  // 100,000 other addresses, each once: the table keeps its size, and each
  // new address starts with a full bucket.
  for (std::uint32_t i = 0; i < 100000; ++i) {
    auth::IpAddress a{auth::IpFamily::v4, 0x0A000000u + i};
    ASSERT_EQ(limiter.admit(a, true, kNow + 1, policy), RateVerdict::pass);
  }
  EXPECT_EQ(limiter.capacity(), capacity);
  // 192.0.2.1 was evicted: it starts again with a full bucket (lenient, never stricter).
  EXPECT_EQ(limiter.admit(ip("192.0.2.1"), true, kNow + 2, policy), RateVerdict::pass);
}

}  // namespace
}  // namespace sipgw::gateway
