// Buyer routing end to end: failover, timeouts, busy, caps, restored caps and
// PSTN through the trunk, with SIPp buyers on their own ports.
#include "harness.h"

namespace sipgw::integration {
namespace {

class Routing : public GatewayTest {
 protected:
  void SetUp() override {
    GatewayTest::SetUp();
    second_port_ = free_port();
    auto a = admin();
    ok(a.add_domain("ip.test", "ip", std::nullopt, std::nullopt));
    ok(a.add_publisher("pub1", "", std::nullopt));
    ASSERT_TRUE(a.add_allowlist("127.0.0.1", "pub1", ""));
    ok(a.add_campaign("camp1", "", 30));
    ok(a.add_number("+18882223333", "camp1", std::nullopt));
  }

  void add_buyer(const std::string& id, int port, std::int64_t priority, db::BuyerChanges b = {}) {
    b.target = "sip:" + id + "@127.0.0.1:" + std::to_string(port);
    b.headers = std::vector<std::string>{"X-Campaign-ID: [campaign_id]"};
    ok(admin().add_buyer(id, b));
    ok(admin().add_route("camp1", id, priority, 1));
  }

  // buyer id -> how many CDRs name it as the answering buyer
  std::map<std::string, int> answered_by(const nlohmann::json& rows) {
    std::map<std::string, int> out;
    for (auto& r : rows) out[r["buyer_id"].is_null() ? "-" : r["buyer_id"].get<std::string>()]++;
    return out;
  }

  std::int64_t json_buyer_calls_today(const std::string& id) {
    auto b = ctl_json({"buyer", "show", id});
    return b["calls_today"].get<std::int64_t>();
  }

  int second_port_ = 0;
};

TEST_F(Routing, BusyBuyerFailsOverToTheNextAndTheCdrListsBothAttempts) {
  add_buyer("first", buyer_port_, 0);
  add_buyer("second", second_port_, 1);
  start_gateway();
  auto busy = buyer("buyer_busy.xml");
  auto good = answering_buyer({"pub1", std::nullopt, "camp1"}, second_port_);
  expect_calls({&busy, &good}, {}, {"-d", "50"});
  auto rows = calls(1);
  auto call = ctl_json({"calls", "show", rows[0]["uuid"]});
  EXPECT_EQ(call["buyer_id"], "second");
  EXPECT_EQ(call["attempts"].size(), 2u);
  EXPECT_EQ(call["attempts"][0]["buyer_id"], "first");
  EXPECT_EQ(call["attempts"][0]["status"], 486);
  EXPECT_EQ(call["attempts"][1]["buyer_id"], "second");
  EXPECT_EQ(call["attempts"][1]["status"], 200);
}

TEST_F(Routing, BuyerThatNeverAnswersIsAbandonedAtTheRingTimeout) {
  auto c = db::Connection::open(db_path_, db::Connection::Mode::read_write);
  ASSERT_TRUE(c && c->execute_script("UPDATE campaigns SET ring_timeout = 1 WHERE id = 'camp1'"));
  add_buyer("silent", buyer_port_, 0);
  add_buyer("answers", second_port_, 1);
  start_gateway();
  auto silent = buyer("buyer_ring_abandoned.xml");  // its CANCEL says "completed elsewhere"
  auto good = answering_buyer({"pub1", std::nullopt, "camp1"}, second_port_);
  auto p = place({}, {"-d", "50"});
  EXPECT_EQ(p.wait(), 0);
  EXPECT_EQ(silent.wait(), 0);  // it got its CANCEL
  EXPECT_EQ(good.wait(), 0);
  auto call = ctl_json({"calls", "show", calls(1)[0]["uuid"]});
  EXPECT_EQ(call["buyer_id"], "answers");
  EXPECT_EQ(call["attempts"][0]["reason"], "ring timeout");
}

TEST_F(Routing, BuyerWithoutAProvisionalIsAbandonedAtItsConnectTimeout) {
  db::BuyerChanges slow;
  slow.connect_timeout = 1;
  add_buyer("mute", buyer_port_, 0, slow);
  add_buyer("answers", second_port_, 1);
  start_gateway();
  auto mute = buyer("buyer_mute.xml");
  auto good = answering_buyer({"pub1", std::nullopt, "camp1"}, second_port_);
  expect_calls({&good}, {}, {"-d", "50"});
  mute.kill_now();
  auto call = ctl_json({"calls", "show", calls(1)[0]["uuid"]});
  EXPECT_EQ(call["buyer_id"], "answers");
  EXPECT_EQ(call["attempts"][0]["buyer_id"], "mute");
  EXPECT_EQ(call["attempts"][0]["reason"], "connect timeout");
}

TEST_F(Routing, UnreachableBuyerFailsOverAtOnce) {
  add_buyer("gone", buyer_port_, 0);  // nobody listens there
  add_buyer("answers", second_port_, 1);
  start_gateway();
  auto good = answering_buyer({"pub1", std::nullopt, "camp1"}, second_port_);
  expect_calls({&good}, {}, {"-d", "50"});
  auto call = ctl_json({"calls", "show", calls(1)[0]["uuid"]});
  EXPECT_EQ(call["buyer_id"], "answers");
  // Sofia reports the transport error as its own 503.
  EXPECT_EQ(call["attempts"][0]["status"], 503);
}

TEST_F(Routing, EveryBuyerBusyGives486) {
  add_buyer("first", buyer_port_, 0);
  add_buyer("second", second_port_, 1);
  start_gateway();
  auto b1 = buyer("buyer_busy.xml");
  auto b2 = buyer("buyer_busy.xml", {}, second_port_);
  PublisherPlan plan;
  plan.expect = 486;
  expect_calls({&b1, &b2}, plan);
  auto rows = calls(1);
  EXPECT_EQ(rows[0]["final_status"], 486);
  EXPECT_EQ(rows[0]["attempts"], 2);
}

TEST_F(Routing, ConcurrencyCapSendsTheOverflowToTheNextBuyer) {
  db::BuyerChanges capped;
  capped.concurrency_cap = std::optional<std::int64_t>{3};
  add_buyer("capped", buyer_port_, 0, capped);
  add_buyer("overflow", second_port_, 1);
  start_gateway();
  auto b1 = answering_buyer({"pub1", std::nullopt, "camp1"}, buyer_port_, {"-m", "3"});
  auto b2 = answering_buyer({"pub1", std::nullopt, "camp1"}, second_port_, {"-m", "7"});
  // Ten calls, each held 3 s, all up at once.
  expect_calls({&b1, &b2}, {}, {"-m", "10", "-r", "20", "-l", "10", "-d", "3000"});
  auto by = answered_by(calls(10));
  EXPECT_EQ(by["capped"], 3);
  EXPECT_EQ(by["overflow"], 7);
}

TEST_F(Routing, DailyCapSendsTheThirdCallElsewhereAndSurvivesARestart) {
  db::BuyerChanges capped;
  capped.daily_cap = std::optional<std::int64_t>{2};
  capped.time_zone = "America/New_York";
  add_buyer("capped", buyer_port_, 0, capped);
  add_buyer("other", second_port_, 1);
  start_gateway();
  {
    auto b1 = answering_buyer({"pub1", std::nullopt, "camp1"}, buyer_port_, {"-m", "2"});
    auto b2 = answering_buyer({"pub1", std::nullopt, "camp1"}, second_port_, {"-m", "1"});
    auto p = place({}, {"-m", "3", "-l", "1", "-r", "5", "-d", "20"});  // one after another
    EXPECT_EQ(p.wait(), 0);
    EXPECT_EQ(b1.wait(), 0);
    EXPECT_EQ(b2.wait(), 0);
    auto by = answered_by(calls(3));
    EXPECT_EQ(by["capped"], 2);
    EXPECT_EQ(by["other"], 1);
  }
  // A restart reads today's connections back from the CDRs.
  gateway_.signal(SIGTERM);
  ASSERT_EQ(gateway_.wait(), 0);
  start_gateway();
  auto b2 = answering_buyer({"pub1", std::nullopt, "camp1"}, second_port_, {"-m", "1"});
  expect_calls({&b2}, {}, {"-d", "20"});
  EXPECT_EQ(answered_by(calls(4))["other"], 2);
  EXPECT_EQ(json_buyer_calls_today("capped"), 2);
}

TEST_F(Routing, PstnTargetGoesThroughTheTrunkWithItsCredentials) {
  ok(admin().set_trunk({"sip:127.0.0.1:" + std::to_string(buyer_port_), std::string("trunk-user"),
                        std::string("trunk-pass"), std::string("gw.trunk.test")}));
  db::BuyerChanges pstn;
  pstn.target = "+18885551234";
  ok(admin().add_buyer("pstn", pstn));
  ok(admin().add_route("camp1", "pstn", 0, 1));
  start_gateway();
  auto carrier = buyer("carrier.xml", {"-key", "auth_user", "trunk-user", "-key", "auth_password", "trunk-pass"});
  expect_calls({&carrier}, {}, {"-d", "50"});
  auto call = ctl_json({"calls", "show", calls(1)[0]["uuid"]});
  EXPECT_EQ(call["attempts"][0]["target"], "sip:+18885551234@127.0.0.1:" + std::to_string(buyer_port_));
  EXPECT_EQ(gateway_.log().find("trunk-pass"), std::string::npos);
}

}  // namespace
}  // namespace sipgw::integration
