#include "db/ctl_values.h"

#include <gtest/gtest.h>

namespace sipgw::db {
namespace {

TEST(CtlValues, CapsAreWholeNumbersOrNone) {
  // CapChange: unset = leave as is; set to nullopt = clear; set to N = N.
  auto unchanged = parse_cap("--daily-cap", "");
  ASSERT_TRUE(unchanged);
  EXPECT_FALSE(unchanged->has_value());
  auto cleared = parse_cap("--daily-cap", "none");
  ASSERT_TRUE(cleared);
  ASSERT_TRUE(cleared->has_value());
  EXPECT_FALSE(cleared->value().has_value());
  auto five = parse_cap("--daily-cap", "5");
  ASSERT_TRUE(five && five->has_value());
  EXPECT_EQ(five->value(), 5);
  for (auto bad : {"lots", "5x", "1.5", "99999999999999999999999"}) {
    auto r = parse_cap("--daily-cap", bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error(), std::string("--daily-cap '") + bad + "' is not a whole number or 'none'");
  }
}

TEST(CtlValues, TimesAreUnixSecondsOrUtcDates) {
  EXPECT_EQ(parse_time_ms("--since", "1780315200"), 1780315200000);
  EXPECT_EQ(parse_time_ms("--since", "2026-06-01"), 1780272000000);
  EXPECT_EQ(parse_time_ms("--since", "2026-06-01T12:00"), 1780315200000);
  EXPECT_EQ(parse_time_ms("--since", "2026-06-01T12:00:00Z"), 1780315200000);
  // Too many digits for seconds: an error, not an exception out of stoll.
  for (auto bad : {"yesterday", "2026-13-01", "99999999999999999999999", ""}) {
    auto r = parse_time_ms("--until", bad);
    EXPECT_FALSE(r) << bad;
  }
}

TEST(CtlValues, TimesPrintAsUtc) { EXPECT_EQ(format_time(1780315200123), "2026-06-01T12:00:00Z"); }

}  // namespace
}  // namespace sipgw::db
