#include "routing/selection.h"

#include "routing/time_zone.h"

#include <date/tz.h>
#include <gtest/gtest.h>

#include <map>

namespace sipgw::routing {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using date::choose;
using date::day;
using date::local_days;
using date::locate_zone;
using date::month;
using date::sys_days;
using date::year;

TimePoint utc(int y, unsigned m, unsigned d, int h, int min = 0) {
  return sys_days{year{y} / month{m} / day{d}} + hours{h} + minutes{min};
}

TimePoint local(const char* zone, int y, unsigned m, unsigned d, int h, int min = 0) {
  auto z = locate_zone(zone);
  return z->to_sys(local_days{year{y} / month{m} / day{d}} + hours{h} + minutes{min}, choose::earliest);
}

class Selection : public ::testing::Test {
 protected:
  Buyer& add_buyer(const std::string& id, std::int64_t priority, std::int64_t weight) {
    Buyer b;
    b.id = id;
    b.target = "sip:" + id + "@pbx.example.com";
    b.time_zone = locate_zone("UTC");
    s.buyers[id] = b;
    s.campaigns["c"].id = "c";
    auto& routes = s.campaigns["c"].routes;
    routes.push_back({id, priority, weight});
    std::stable_sort(routes.begin(), routes.end(), [](auto& a, auto& b) { return a.priority < b.priority; });
    return s.buyers[id];
  }
  const Buyer* pick(TimePoint now = utc(2026, 6, 1, 12)) {
    return selector.select(s, s.campaigns["c"], ledger, tried, now).buyer;
  }

  Snapshot s;
  BuyerLedger ledger;
  BuyerSelector selector{42};
  std::unordered_set<std::string> tried;
};

TEST_F(Selection, LowestPriorityFirstThenFailoverInOrder) {
  add_buyer("second", 5, 1);
  add_buyer("first", 1, 1);
  add_buyer("third", 9, 1);
  EXPECT_EQ(pick()->id, "first");
  tried.insert("first");
  EXPECT_EQ(pick()->id, "second");
  tried.insert("second");
  EXPECT_EQ(pick()->id, "third");
  tried.insert("third");
  EXPECT_EQ(pick(), nullptr);
}

TEST_F(Selection, WeightsAreHonoredWithinThreePercent) {
  add_buyer("a", 0, 1);
  add_buyer("b", 0, 3);
  add_buyer("c", 0, 6);
  add_buyer("later", 1, 100);
  std::map<std::string, int> counts;
  constexpr int kDraws = 100000;
  for (int i = 0; i < kDraws; ++i) ++counts[pick()->id];
  EXPECT_EQ(counts["later"], 0);
  EXPECT_NEAR(counts["a"] / double(kDraws), 0.1, 0.1 * 0.03);
  EXPECT_NEAR(counts["b"] / double(kDraws), 0.3, 0.3 * 0.03);
  EXPECT_NEAR(counts["c"] / double(kDraws), 0.6, 0.6 * 0.03);
}

TEST_F(Selection, DisabledBuyersAndPstnWithoutTrunkAreSkipped) {
  add_buyer("off", 0, 1).enabled = false;
  auto& pstn = add_buyer("pstn", 1, 1);
  pstn.target = "+18885551234";
  pstn.target_kind = TargetKind::pstn;
  add_buyer("on", 2, 1);
  auto result = selector.select(s, s.campaigns["c"], ledger, tried, utc(2026, 6, 1, 12));
  ASSERT_NE(result.buyer, nullptr);
  EXPECT_EQ(result.buyer->id, "on");
  ASSERT_EQ(result.skipped.size(), 2u);
  EXPECT_EQ(result.skipped[0].second, SkipReason::disabled);
  EXPECT_EQ(result.skipped[1].second, SkipReason::no_trunk);
  s.trunk = Trunk{"sip:carrier.example.com", {}, {}, {}};
  EXPECT_EQ(pick()->id, "pstn");
}

TEST_F(Selection, ConcurrencyCapCountsCallsInProgress) {
  add_buyer("capped", 0, 1).concurrency_cap = 2;
  add_buyer("spare", 1, 1);
  ledger.attempt_started("capped");
  EXPECT_EQ(pick()->id, "capped");
  ledger.attempt_started("capped");
  EXPECT_EQ(pick()->id, "spare");
  ledger.attempt_ended("capped");
  EXPECT_EQ(pick()->id, "capped");
}

TEST_F(Selection, HourlyAndDailyCapsCountConnectionsInTheBuyersZone) {
  auto& ny = add_buyer("ny", 0, 1);
  ny.time_zone = locate_zone("America/New_York");
  ny.daily_cap = 2;
  add_buyer("spare", 1, 1);
  // 23:30 New York time the day before: not today's.
  ledger.connected("ny", local("America/New_York", 2026, 6, 1, 23, 30));
  auto morning = local("America/New_York", 2026, 6, 2, 9);
  ledger.connected("ny", morning - minutes(60));
  EXPECT_EQ(ledger.connected_today("ny", morning, ny.time_zone), 1);
  EXPECT_EQ(pick(morning)->id, "ny");
  ledger.connected("ny", morning - minutes(1));
  EXPECT_EQ(pick(morning)->id, "spare");
  // Past local midnight the day starts over, though UTC's day did not.
  EXPECT_EQ(pick(local("America/New_York", 2026, 6, 3, 0, 5))->id, "ny");

  ny.daily_cap.reset();
  ny.hourly_cap = 1;
  // 08:00 and 08:59 were in the previous local hour; at 09:00 the hour is fresh.
  EXPECT_EQ(ledger.connected_this_hour("ny", morning, ny.time_zone), 0);
  EXPECT_EQ(pick(morning)->id, "ny");
  ledger.connected("ny", morning + minutes(5));
  EXPECT_EQ(pick(morning + minutes(10))->id, "spare");
}

TEST_F(Selection, HoursAcrossMidnightInTheBuyersZone) {
  auto& b = add_buyer("night", 0, 1);
  b.time_zone = locate_zone("Europe/London");
  b.hours = *parse_hours("fri 22:00-02:00");
  EXPECT_NE(pick(local("Europe/London", 2026, 7, 3, 23)), nullptr);  // Friday 23:00
  EXPECT_NE(pick(local("Europe/London", 2026, 7, 4, 1, 30)), nullptr);  // Saturday 01:30
  EXPECT_EQ(pick(local("Europe/London", 2026, 7, 4, 2, 30)), nullptr);
  EXPECT_EQ(pick(local("Europe/London", 2026, 7, 3, 21)), nullptr);
  // 22:30 UTC on that Friday is 23:30 in London (BST): open; in winter,
  // 22:30 UTC is 22:30 in London: open too; 21:30 UTC in summer is 22:30: open.
  EXPECT_NE(pick(utc(2026, 7, 3, 21, 30)), nullptr);
  EXPECT_EQ(pick(utc(2026, 1, 9, 21, 30)), nullptr);  // winter Friday 21:30 London
}

TEST_F(Selection, HoursFollowDaylightSavingChangesInTwoZones) {
  auto& ny = add_buyer("ny", 0, 1);
  ny.time_zone = locate_zone("America/New_York");
  ny.hours = *parse_hours("daily 09:00-17:00");
  // 13:30 UTC is 08:30 in New York in winter (EST) and 09:30 in summer (EDT).
  EXPECT_EQ(pick(utc(2026, 3, 7, 13, 30)), nullptr);   // Saturday before the change
  EXPECT_NE(pick(utc(2026, 3, 9, 13, 30)), nullptr);   // Monday after (DST began March 8)

  ny.enabled = false;
  auto& london = add_buyer("london", 1, 1);
  london.time_zone = locate_zone("Europe/London");
  london.hours = *parse_hours("daily 09:00-17:00");
  // 08:30 UTC: 08:30 in London before March 29, 09:30 after.
  EXPECT_EQ(pick(utc(2026, 3, 27, 8, 30)), nullptr);
  EXPECT_EQ(pick(utc(2026, 3, 30, 8, 30))->id, "london");
  // On the spring-forward day the local day is 23 hours long and still
  // starts at local midnight.
  london.daily_cap = 1;
  ledger.connected("london", utc(2026, 3, 29, 0, 30));  // 00:30 GMT = that day's first half hour
  EXPECT_EQ(ledger.connected_today("london", utc(2026, 3, 29, 12), london.time_zone), 1);
  EXPECT_EQ(ledger.connected_today("london", utc(2026, 3, 30, 12), london.time_zone), 0);
}

TEST_F(Selection, PublisherConcurrencyIsCounted) {
  ledger.publisher_call_started("p");
  ledger.publisher_call_started("p");
  EXPECT_EQ(ledger.publisher_calls("p"), 2);
  ledger.publisher_call_ended("p");
  EXPECT_EQ(ledger.publisher_calls("p"), 1);
}

TEST_F(Selection, CapsRestoredFromRecordsAndPruned) {
  auto& b = add_buyer("b", 0, 1);
  b.daily_cap = 2;
  add_buyer("spare", 1, 1);
  auto now = utc(2026, 6, 2, 12);
  // Restored out of order, as a CDR query may return them.
  ledger.connected("b", now - hours(1));
  ledger.connected("b", now - hours(3));
  EXPECT_EQ(pick(now)->id, "spare");
  ledger.prune(now + hours(72));
  EXPECT_EQ(ledger.connected_today("b", now + hours(72), b.time_zone), 0);
}

}  // namespace
}  // namespace sipgw::routing
