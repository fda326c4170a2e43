#include "gateway/log_limiter.h"

#include <gtest/gtest.h>

namespace sipgw::gateway {
namespace {

TEST(LogLimiter, AtMostNLinesASecondAndTheNextLineSaysHowManyWereLeftOut) {
  LogLimiter limiter(3);
  const std::int64_t t = 1'780'315'200'000;
  int written = 0;
  for (int i = 0; i < 1000; ++i) written += limiter.allow(t + i % 1000) ? 1 : 0;  // a flood within one second
  EXPECT_EQ(written, 3);
  ASSERT_TRUE(limiter.allow(t + 1000));  // the next second
  EXPECT_EQ(limiter.suppressed(), 997u);
  ASSERT_TRUE(limiter.allow(t + 1001));
  EXPECT_EQ(limiter.suppressed(), 0u);
}

}  // namespace
}  // namespace sipgw::gateway
