// RFC 4028 session timers on each leg, against SIPp peers: a publisher that
// refreshes is answered by sipgw itself; peers without timer support are
// refreshed by sipgw (re-INVITE or UPDATE) and their calls complete; a
// Session-Expires below session.min_se gets 422 with Min-SE; and a peer
// that vanishes ends the call by session expiry on the side it vanished
// from, with both slots back and the CDR written at once.
#include "harness.h"

namespace sipgw::integration {
namespace {

class SessionTimers : public GatewayTest {
 protected:
  void start() { start_with_metrics(); }
  bool has_line(const std::string& line) { return GatewayTest::has_line(scrape(), line); }
  void short_timers(int expires, int min_se) {
    ASSERT_EQ(ctl({"setting", "set", "session.expires", std::to_string(expires)}), 0);
    ASSERT_EQ(ctl({"setting", "set", "session.min_se", std::to_string(min_se)}), 0);
  }
  void expect_slots_back() {
    EXPECT_TRUE(eventually([&] { return has_line("sipgw_calls_active 0"); })) << scrape();
    EXPECT_TRUE(has_line("sipgw_buyer_calls_active{buyer=\"buyer1\"} 0")) << scrape();
  }
  // The one call ended by `side`'s session expiring under Session-Expires
  // 4: sipgw ends it 2 s after the answer (2 s before nua's own BYE would
  // go), give or take the 1 s the test allows; its slots are back.
  void expect_expired(const std::string& side) {
    auto rows = calls(1);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0]["hangup_side"], side);
    EXPECT_EQ(rows[0]["hangup_cause"], "session_expired");
    const auto held_ms = rows[0]["end_at"].get<std::int64_t>() - rows[0]["answer_at"].get<std::int64_t>();
    EXPECT_GE(held_ms, 1000);
    EXPECT_LE(held_ms, 3000);
    expect_slots_back();
    EXPECT_TRUE(has_line("sipgw_calls_ended_total{cause=\"session_expired\"} 1")) << scrape();
  }
};

TEST_F(SessionTimers, APublishersRefreshesAreAnsweredBySipgwAndNeverReachTheBuyer) {
  provision_basic();
  start();
  auto b = answering_buyer({"pub1", std::nullopt, "camp1"});  // fails on any request but BYE
  auto p = publisher("publisher_refreshes.xml", {"-s", "+18882223333"});
  EXPECT_EQ(p.wait(), 0) << "publisher";
  EXPECT_EQ(b.wait(), 0) << "buyer";
  auto rows = calls(1);
  EXPECT_EQ(rows[0]["hangup_side"], "publisher");
  EXPECT_EQ(rows[0]["hangup_cause"], "BYE");
  EXPECT_TRUE(has_line("sipgw_session_refreshes_total{result=\"received\"} 2")) << scrape();
}

TEST_F(SessionTimers, PeersWithoutTimerSupportAreRefreshedBySipgwAndCompleteNormally) {
  provision_basic();
  short_timers(8, 2);
  start();
  auto b = buyer("buyer_refreshed.xml");  // expects an UPDATE refresh, then BYE
  auto p = publisher("publisher_refreshed.xml", {"-s", "+18882223333"});  // expects a re-INVITE refresh
  EXPECT_EQ(p.wait(), 0) << "publisher";
  EXPECT_EQ(b.wait(), 0) << "buyer";
  auto rows = calls(1);
  EXPECT_EQ(rows[0]["hangup_side"], "publisher");
  EXPECT_EQ(rows[0]["hangup_cause"], "BYE");
  EXPECT_TRUE(has_line("sipgw_session_refreshes_total{result=\"sent\"} 2")) << scrape();
  EXPECT_TRUE(has_line("sipgw_session_refreshes_total{result=\"failed\"} 0")) << scrape();
  expect_slots_back();
}

TEST_F(SessionTimers, ARefreshAnswered481EndsTheCallAtOnceOnTheBuyersSide) {
  provision_basic();
  short_timers(10, 2);  // sipgw refreshes the buyer after about 5 s; the publisher refreshes itself
  start();
  auto b = buyer("buyer_forgets_call.xml");
  PublisherPlan plan;
  plan.buyer_hangs_up = true;  // waits for sipgw's BYE
  plan.extra_headers = "Supported: timer\nSession-Expires: 10;refresher=uac\n";
  auto p = place(plan);
  EXPECT_EQ(p.wait(20s), 0) << "the publisher got no BYE";
  EXPECT_EQ(b.wait(), 0);
  auto rows = calls(1);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["hangup_side"], "buyer");
  EXPECT_EQ(rows[0]["hangup_cause"], "session_expired");
  // At the refresh (5 s), not at the publisher leg's expiry (7 s).
  const auto held_ms = rows[0]["end_at"].get<std::int64_t>() - rows[0]["answer_at"].get<std::int64_t>();
  EXPECT_LE(held_ms, 6500);
  EXPECT_TRUE(has_line("sipgw_session_refreshes_total{result=\"failed\"} 1")) << scrape();
  expect_slots_back();
}

TEST_F(SessionTimers, ASessionIntervalBelowMinSeGets422WithMinSe) {
  provision_basic();
  start();  // session.min_se 90
  auto b = answering_buyer({"pub1", std::nullopt, "camp1"});
  PublisherPlan plan;
  plan.expect = 422;
  plan.extra_headers = "Supported: timer\nSession-Expires: 30\n";
  plan.check_headers = {{"Min-SE", "90"}};
  auto p = place(plan);
  EXPECT_EQ(p.wait(), 0);
  // Asking for the minimum gets the call through.
  plan.expect = 200;
  plan.extra_headers = "Supported: timer\nSession-Expires: 90\n";
  plan.check_headers = {{"Session-Expires", "90;refresher=uac"}, {"Require", "timer"}};
  auto again = place(plan);
  EXPECT_EQ(again.wait(), 0);
  EXPECT_EQ(b.wait(), 0);
}

TEST_F(SessionTimers, ANewSessionExpiresReachesTheRunningStack) {
  provision_basic();
  start();
  ASSERT_EQ(ctl({"setting", "set", "session.expires", "600"}), 0);
  EXPECT_TRUE(eventually([&] { return has_line("sipgw_provisioning_reloads_total 1"); })) << scrape();
  auto b = answering_buyer({"pub1", std::nullopt, "camp1"});
  PublisherPlan plan;
  plan.extra_headers = "Supported: timer\nSession-Expires: 900;refresher=uac\n";
  plan.check_headers = {{"Session-Expires", "600;refresher=uac"}};  // cut to the new setting
  auto p = place(plan);
  EXPECT_EQ(p.wait(), 0);
  EXPECT_EQ(b.wait(), 0);
}

TEST_F(SessionTimers, AVanishedPublisherEndsTheCallBySessionExpiryAndFreesItsSlots) {
  provision_basic();
  short_timers(1800, 2);
  start();
  auto b = answering_buyer({"pub1", std::nullopt, "camp1"});
  PublisherPlan plan;
  plan.extra_headers = "Supported: timer\nSession-Expires: 4;refresher=uac\n";  // it refreshes, then it is gone
  vanishing_publisher(plan);
  EXPECT_EQ(b.wait(15s), 0) << "the buyer got no BYE";
  expect_expired("publisher");
}

TEST_F(SessionTimers, AVanishedBuyerEndsTheCallBySessionExpiryOnTheBuyerSide) {
  provision_basic();
  short_timers(1800, 2);
  start();
  // A buyer that takes the refresher role, then is gone.
  auto b = buyer(write_scenario("buyer-refresher.xml",
                                buyer_answer_xml({"pub1", std::nullopt, "camp1"},
                                                 "Supported: timer\nRequire: timer\nSession-Expires: 4;refresher=uas\n")));
  PublisherPlan plan;
  plan.buyer_hangs_up = true;  // waits for sipgw's BYE
  auto p = place(plan);
  EXPECT_TRUE(eventually([&] { return gateway_.log().find("answered by buyer") != std::string::npos; }));
  std::this_thread::sleep_for(200ms);
  b.kill_now();
  black_hole(buyer_port_);
  EXPECT_EQ(p.wait(15s), 0) << "the publisher got no BYE";
  expect_expired("buyer");
}

}  // namespace
}  // namespace sipgw::integration
