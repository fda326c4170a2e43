#include "routing/screening.h"

#include "routing/provisioning.h"
#include "routing/selection.h"

#include <gtest/gtest.h>

namespace sipgw::routing {
namespace {

auth::Caller caller(const std::string& user) { return auth::identify_caller({user, std::nullopt, false, false}); }

TEST(BlockEntry, ParsedAndNormalized) {
  EXPECT_EQ(parse_block_entry("+15551234567")->text(), "+15551234567");
  EXPECT_EQ(parse_block_entry(" +1800* ")->text(), "+1800*");
  EXPECT_EQ(parse_block_entry("+0044*")->text(), "+0044*");
  EXPECT_EQ(parse_block_entry("Anonymous")->text(), "anonymous");
  EXPECT_EQ(parse_block_entry("+1800*")->kind, BlockEntry::Kind::prefix);
  for (const char* bad : {"", "+", "+*", "15551234567", "+1555x", "+1234567890123456", "*", "anon"}) {
    EXPECT_FALSE(parse_block_entry(bad)) << bad;
  }
}

TEST(BlockList, NumbersPrefixesAndAnonymousByScope) {
  BlockList blocks;
  blocks.add("", *parse_block_entry("+15551234567"));
  blocks.add("", *parse_block_entry("+1900*"));
  blocks.add("c1", *parse_block_entry("anonymous"));
  blocks.add("c1", *parse_block_entry("+44*"));
  blocks.add("c1", *parse_block_entry("+4420*"));
  EXPECT_EQ(blocks.size(), 5u);

  EXPECT_EQ(blocks.match("c2", caller("+15551234567").usable), ScreenReason::blocked_number);  // global
  EXPECT_EQ(blocks.match("c2", caller("15551234567").usable), ScreenReason::blocked_number);   // no plus: same digits
  EXPECT_FALSE(blocks.match("c2", caller("+15551234568").usable));
  EXPECT_EQ(blocks.match("c2", caller("+19005550000").usable), ScreenReason::blocked_number);  // global prefix
  EXPECT_EQ(blocks.match("c2", caller("+1900").usable), ScreenReason::blocked_number);  // the prefix itself
  EXPECT_FALSE(blocks.match("c2", caller("+190").usable));
  EXPECT_FALSE(blocks.match("c2", caller("+447700900123").usable));  // c1's prefix only
  EXPECT_EQ(blocks.match("c1", caller("+447700900123").usable), ScreenReason::blocked_number);
  EXPECT_FALSE(blocks.match("c2", caller("anonymous").usable));  // c1 blocks anonymous, c2 does not
  EXPECT_EQ(blocks.match("c1", caller("anonymous").usable), ScreenReason::anonymous);
  EXPECT_EQ(blocks.match("c1", caller("").usable), ScreenReason::anonymous);
}

TEST(CallerHistory, RemembersTheLatestAndForgetsTheOld) {
  CallerHistory history(3);
  const auto a = *auth::parse_caller_number("+15550000001");
  const auto b = *auth::parse_caller_number("+15550000002");
  history.seen("c1", a, 1000);
  history.seen("c1", a, 5000);
  history.seen("c1", a, 3000);  // an older record restored late changes nothing
  EXPECT_EQ(history.last_seen("c1", a), 5000);
  EXPECT_FALSE(history.last_seen("c2", a));
  history.seen("c1", b, 6000);
  history.prune(10000, 4500);  // forget what is older than 5.5 s
  EXPECT_FALSE(history.last_seen("c1", a));
  EXPECT_EQ(history.last_seen("c1", b), 6000);
}

TEST(CallerHistory, BoundedOldestFirst) {
  CallerHistory history(2);
  for (int i = 1; i <= 5; ++i) history.seen("c", *auth::parse_caller_number("+1555000000" + std::to_string(i)), i);
  EXPECT_EQ(history.size(), 2u);
  EXPECT_FALSE(history.last_seen("c", *auth::parse_caller_number("+15550000003")));
  EXPECT_EQ(history.last_seen("c", *auth::parse_caller_number("+15550000005")), 5);
  // One caller over and over stays one entry.
  for (int i = 0; i < 10000; ++i) history.seen("c", *auth::parse_caller_number("+15550000005"), 10 + i);
  EXPECT_EQ(history.size(), 2u);
}

TEST(PublisherRates, ATokenBucketPerPublisher) {
  PublisherRates rates;
  int passed = 0;
  for (int i = 0; i < 10; ++i) passed += rates.admit("p", 3, 1000);
  EXPECT_EQ(passed, 3);  // a burst of cps
  EXPECT_TRUE(rates.admit("q", 3, 1000));  // its own bucket
  EXPECT_FALSE(rates.admit("p", 3, 1100));  // 0.3 tokens back
  EXPECT_TRUE(rates.admit("p", 3, 1400));   // one whole token after 1/3 s
}

class Screening : public ::testing::Test {
 protected:
  Screening() {
    s.publishers["p"] = Publisher{"p", "", true, std::nullopt};
    s.campaigns["c"].id = "c";
  }
  std::variant<Cleared, Screened> screen(const std::string& from, std::int64_t now_ms,
                                         auth::Attestation attestation = auth::Attestation::none) {
    const auto who = caller(from);
    auto verdict = screener.screen({s, s.publishers["p"], s.campaigns["c"], who, attestation, now_ms});
    if (std::holds_alternative<Cleared>(verdict)) screener.admitted(s.campaigns["c"], who, now_ms);
    return verdict;
  }
  static std::optional<ScreenReason> reason(const std::variant<Cleared, Screened>& v) {
    if (auto* sc = std::get_if<Screened>(&v)) return sc->reason;
    return std::nullopt;
  }

  Snapshot s;
  BuyerLedger ledger;
  Screener screener{ledger};
};

TEST_F(Screening, BlockedCallersGetTheConfiguredStatus) {
  s.blocks.add("", *parse_block_entry("+15551234567"));
  s.blocks.add("", *parse_block_entry("anonymous"));
  auto v = screen("+15551234567", 0);
  ASSERT_EQ(reason(v), ScreenReason::blocked_number);
  EXPECT_EQ(std::get<Screened>(v).status, 603);
  s.settings.blocked_status = 486;
  EXPECT_EQ(std::get<Screened>(screen("anonymous", 0)).status, 486);
  EXPECT_EQ(reason(screen("anonymous", 0)), ScreenReason::anonymous);
  EXPECT_FALSE(reason(screen("+15551234568", 0)));
}

TEST_F(Screening, MinimumAttestation) {
  s.campaigns["c"].screening.min_attestation = auth::Attestation::B;
  EXPECT_EQ(reason(screen("+15551230001", 0, auth::Attestation::C)), ScreenReason::attestation);
  EXPECT_EQ(reason(screen("+15551230001", 0, auth::Attestation::none)), ScreenReason::attestation);
  EXPECT_FALSE(reason(screen("+15551230001", 0, auth::Attestation::B)));
  EXPECT_FALSE(reason(screen("+15551230001", 0, auth::Attestation::A)));
}

TEST_F(Screening, RepeatCallersInsideTheWindowOnly) {
  s.campaigns["c"].screening.repeat_window_seconds = 60;
  EXPECT_FALSE(reason(screen("+15551230001", 1000)));
  auto again = screen("+15551230001", 30000);
  ASSERT_EQ(reason(again), ScreenReason::repeat_caller);
  EXPECT_EQ(std::get<Screened>(again).status, 486);
  EXPECT_FALSE(reason(screen("+15551230002", 30000)));  // someone else
  EXPECT_FALSE(reason(screen("+15551230001", 61001)));  // the window is over
  // With a repeat route the caller goes to that buyer only.
  s.campaigns["c"].screening.repeat_route = "b9";
  auto routed = screen("+15551230001", 62000);
  ASSERT_TRUE(std::holds_alternative<Cleared>(routed));
  EXPECT_EQ(std::get<Cleared>(routed).only_buyer, "b9");
}

TEST_F(Screening, RepeatAfterConnectedCountsAnswersOnly) {
  auto& rules = s.campaigns["c"].screening;
  rules.repeat_window_seconds = 60;
  rules.repeat_after = RepeatAfter::connected;
  EXPECT_FALSE(reason(screen("+15551230001", 1000)));
  EXPECT_FALSE(reason(screen("+15551230001", 2000)));  // never answered: welcome
  screener.connected(s.campaigns["c"], "+15551230001", 3000);
  EXPECT_EQ(reason(screen("+15551230001", 4000)), ScreenReason::repeat_caller);
}

TEST_F(Screening, RepeatAfterConvertedCountsConversionsOnly) {
  auto& rules = s.campaigns["c"].screening;
  rules.repeat_window_seconds = 60;
  rules.repeat_after = RepeatAfter::converted;
  EXPECT_FALSE(reason(screen("+15551230001", 1000)));
  screener.connected(s.campaigns["c"], "+15551230001", 1500);  // answered, never converted
  EXPECT_FALSE(reason(screen("+15551230001", 2000)));
  screener.converted(s.campaigns["c"], "+15551230001", 3000);
  EXPECT_EQ(reason(screen("+15551230001", 4000)), ScreenReason::repeat_caller);
  // Rebuilt from records: a converted call counts from its conversion.
  Screener fresh{ledger};
  fresh.restore(s.campaigns["c"], "+15551230002", 1000, 1500, std::nullopt);
  fresh.restore(s.campaigns["c"], "+15551230003", 1000, 1500, 2500);
  EXPECT_FALSE(fresh.history().last_seen("c", *auth::parse_caller_number("+15551230002")));
  EXPECT_EQ(fresh.history().last_seen("c", *auth::parse_caller_number("+15551230003")), 2500);
}

TEST_F(Screening, PublisherCapsAndRate) {
  auto& p = s.publishers["p"];
  p.hourly_cap = 2;
  const std::int64_t now = 1'700'000'000'000;
  ledger.publisher_connected("p", TimePoint{std::chrono::milliseconds(now - 1000)});
  EXPECT_FALSE(reason(screen("+15551230001", now)));
  ledger.publisher_connected("p", TimePoint{std::chrono::milliseconds(now - 500)});
  auto capped = screen("+15551230001", now);
  ASSERT_EQ(reason(capped), ScreenReason::publisher_cap);
  EXPECT_EQ(std::get<Screened>(capped).status, 486);
  p.hourly_cap.reset();
  p.cps = 1;
  EXPECT_FALSE(reason(screen("+15551230001", now)));
  auto fast = screen("+15551230001", now + 10);
  ASSERT_EQ(reason(fast), ScreenReason::publisher_rate);
  EXPECT_EQ(std::get<Screened>(fast).status, 503);
  EXPECT_EQ(std::get<Screened>(fast).retry_after, 1);
}

}  // namespace
}  // namespace sipgw::routing
