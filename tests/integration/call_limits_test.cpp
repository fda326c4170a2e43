// Every call ends: at its campaign's maximum duration even when the
// publisher vanished without a BYE, when the publisher has waited
// call.max_setup seconds, and at a drain whatever the peers do - and each
// time its slots come back and its CDR is written at once.
#include "harness.h"

namespace sipgw::integration {
namespace {

class CallLimits : public GatewayTest {
 protected:
  void start() { start_with_metrics(); }
  bool has_line(const std::string& line) { return GatewayTest::has_line(scrape(), line); }
};

TEST_F(CallLimits, MaxDurationEndsACallWhosePublisherVanishedAndFreesItsSlots) {
  provision_basic();
  ASSERT_EQ(ctl({"campaign", "update", "camp1", "--max-duration", "2"}), 0);
  start();
  auto b = answering_buyer({"pub1", std::nullopt, "camp1"});
  vanishing_publisher({});
  EXPECT_EQ(b.wait(10s), 0) << "the buyer got no BYE";
  auto rows = calls(1);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["hangup_side"], "gateway");
  EXPECT_EQ(rows[0]["hangup_cause"], "max_duration");
  const auto held_ms = rows[0]["end_at"].get<std::int64_t>() - rows[0]["answer_at"].get<std::int64_t>();
  EXPECT_GE(held_ms, 1000);  // the limit, +/- 1 s
  EXPECT_LE(held_ms, 3000);
  EXPECT_TRUE(eventually([&] { return has_line("sipgw_calls_active 0"); }));
  EXPECT_TRUE(has_line("sipgw_buyer_calls_active{buyer=\"buyer1\"} 0")) << scrape();
  EXPECT_TRUE(has_line("sipgw_calls_ended_total{cause=\"max_duration\"} 1")) << scrape();
}

TEST_F(CallLimits, ThePublisherWaitsNoLongerThanMaxSetup) {
  provision_basic();  // ring timeout 30 s
  ASSERT_EQ(ctl({"setting", "set", "call.max_setup", "2"}), 0);
  start();
  auto b = buyer("buyer_ring.xml");  // rings, never answers, expects CANCEL
  PublisherPlan plan;
  plan.expect = 480;
  auto p = place(plan);
  EXPECT_EQ(p.wait(10s), 0);
  EXPECT_EQ(b.wait(10s), 0);
  auto rows = calls(1);
  EXPECT_EQ(rows[0]["final_status"], 480);
  EXPECT_EQ(rows[0]["hangup_cause"], "max_setup");
  const auto waited_ms = rows[0]["end_at"].get<std::int64_t>() - rows[0]["invite_at"].get<std::int64_t>();
  EXPECT_GE(waited_ms, 1000);
  EXPECT_LE(waited_ms, 3000);
}

TEST_F(CallLimits, DrainWithAVanishedPublisherStopsWellInsideTheUnitsStopTimeout) {
  provision_basic();
  start_with_metrics({"--drain-timeout", "1"});
  auto b = answering_buyer({"pub1", std::nullopt, "camp1"});
  vanishing_publisher({});
  gateway_.signal(SIGTERM);
  // deploy/systemd/sipgw.service has TimeoutStopSec=45; a BYE to the
  // vanished publisher alone takes 32 s to time out.
  EXPECT_EQ(gateway_.wait(10s), 0) << gateway_.log();
  EXPECT_EQ(b.wait(10s), 0) << "the buyer got no BYE";
  auto rows = calls(1);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["hangup_cause"], "drain");
}

}  // namespace
}  // namespace sipgw::integration

namespace sipgw::integration {
namespace {

// What was acknowledged survives kill -9: a finished call's CDR is in the
// database within its 100 ms batch (SQLite WAL, synchronous=FULL), and a
// connected call's row is stored at the answer and closed at the next start.
class CdrDurability : public GatewayTest {};

TEST_F(CdrDurability, EveryCallThatEndedBeforeAKill9HasItsCdr) {
  provision_basic();
  start_gateway();
  constexpr int kCalls = 200;
  auto b = answering_buyer({"pub1", std::nullopt, "camp1"}, 0, {"-m", std::to_string(kCalls)});
  expect_calls({&b}, {}, {"-m", std::to_string(kCalls), "-r", "20", "-d", "100"});
  std::this_thread::sleep_for(1s);
  gateway_.kill_now();  // SIGKILL: no drain, no flush
  start_gateway();      // the next run closes what the last one left open
  auto rows = ctl_json({"calls", "list", "--limit", "1000"});
  ASSERT_TRUE(rows.is_array());
  EXPECT_EQ(rows.size(), static_cast<std::size_t>(kCalls));
  int finished = 0;
  for (const auto& row : rows) finished += row["hangup_cause"] == "BYE" && row["final_status"] == 200 ? 1 : 0;
  EXPECT_EQ(finished, kCalls);
}

TEST_F(CdrDurability, ACallConnectedAtTheKillIsRecordedAtTheNextStart) {
  provision_basic();
  start_gateway();
  auto b = answering_buyer({"pub1", std::nullopt, "camp1"});
  PublisherPlan plan;
  plan.buyer_hangs_up = true;  // stays connected, waiting for a BYE
  auto p = place(plan);
  nlohmann::json rows;
  ASSERT_TRUE(eventually([&] {
    rows = ctl_json({"calls", "list"});
    return rows.is_array() && rows.size() == 1;
  })) << "no row for the connected call";
  EXPECT_TRUE(rows[0]["hangup_cause"].is_null());  // in progress
  EXPECT_FALSE(rows[0]["answer_at"].is_null());
  gateway_.kill_now();
  start_gateway();
  rows = ctl_json({"calls", "list"});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["hangup_side"], "gateway");
  EXPECT_EQ(rows[0]["hangup_cause"], "gateway_restart");
  EXPECT_EQ(rows[0]["final_status"], 200);
  EXPECT_EQ(rows[0]["buyer_id"], "buyer1");
  EXPECT_TRUE(rows[0]["end_at"].is_null());  // when it really ended is unknown
  EXPECT_NE(gateway_.log().find("recorded as gateway_restart"), std::string::npos);
  p.kill_now();
  b.kill_now();
}

}  // namespace
}  // namespace sipgw::integration
