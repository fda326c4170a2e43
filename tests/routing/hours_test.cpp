#include "routing/hours.h"

#include <gtest/gtest.h>

namespace sipgw::routing {
namespace {

constexpr unsigned kSun = 0, kMon = 1, kFri = 5, kSat = 6;
constexpr unsigned at(unsigned h, unsigned m = 0) { return h * 60 + m; }

TEST(Hours, EmptyMeansAlwaysOpen) {
  auto h = parse_hours("");
  ASSERT_TRUE(h);
  EXPECT_TRUE(h->is_always_open());
  EXPECT_TRUE(h->is_open(kSun, at(3)));
}

TEST(Hours, SplitWeekdayHours) {
  auto h = parse_hours("mon-fri 09:00-12:00,13:00-17:00; sat 10:00-14:00");
  ASSERT_TRUE(h) << h.error();
  EXPECT_TRUE(h->is_open(kMon, at(9)));
  EXPECT_TRUE(h->is_open(kMon, at(11, 59)));
  EXPECT_FALSE(h->is_open(kMon, at(12, 30)));
  EXPECT_TRUE(h->is_open(kFri, at(16, 59)));
  EXPECT_FALSE(h->is_open(kFri, at(17)));
  EXPECT_FALSE(h->is_open(kMon, at(8, 59)));
  EXPECT_TRUE(h->is_open(kSat, at(10)));
  EXPECT_FALSE(h->is_open(kSun, at(10)));
}

TEST(Hours, RangeAcrossMidnightSpillsIntoNextDay) {
  auto h = parse_hours("fri 22:00-02:00");
  ASSERT_TRUE(h);
  EXPECT_TRUE(h->is_open(kFri, at(23)));
  EXPECT_TRUE(h->is_open(kSat, at(1, 59)));
  EXPECT_FALSE(h->is_open(kSat, at(2)));
  EXPECT_FALSE(h->is_open(kFri, at(1)));
}

TEST(Hours, WrappingDayRangeAndDailyAnd24) {
  auto weekend = parse_hours("sat-sun 00:00-24:00");
  ASSERT_TRUE(weekend);
  EXPECT_TRUE(weekend->is_open(kSun, at(23, 59)));
  EXPECT_FALSE(weekend->is_open(kMon, at(12)));
  auto daily = parse_hours("daily 08:00-20:00");
  ASSERT_TRUE(daily);
  EXPECT_TRUE(daily->is_open(kSun, at(8)));
  auto list = parse_hours("mon,wed 08:00-09:00");
  ASSERT_TRUE(list);
  EXPECT_TRUE(list->is_open(3, at(8, 30)));
  EXPECT_FALSE(list->is_open(2, at(8, 30)));
}

TEST(Hours, RefusesWhatDoesNotParse) {
  for (const char* bad : {"mon-fri", "mon-fri 9-5", "funday 09:00-10:00", "mon 09:00-09:00", "mon 25:00-26:00",
                          "mon 09:60-10:00", "mon 09:00", "mon 24:00-01:00", ";"}) {
    EXPECT_FALSE(parse_hours(bad)) << bad;
  }
}

}  // namespace
}  // namespace sipgw::routing
