// SIP interop with carriers, SBCs and PBXes beyond SIPp's happy path, each
// case played by SIPp on the peer's side: a delayed offer (INVITE without
// SDP) and a re-INVITE without SDP, in-dialog OPTIONS probes on both legs, a
// refused re-INVITE that leaves the call up, ringing and early media relayed
// as they change, local ringing on failover, and the resync that gives the
// publisher the answering buyer's media after a failover past early media,
// and reliable provisionals (100rel, PRACK) toward a publisher that asks.
#include "harness.h"

namespace sipgw::integration {
namespace {

class Interop : public GatewayTest {
 protected:
  void SetUp() override {
    GatewayTest::SetUp();
    second_port_ = free_port();
  }
  // Two buyers on camp1, tried first then second.
  void two_buyers() {
    provision_basic();
    db::BuyerChanges b;
    b.target = "sip:second@127.0.0.1:" + std::to_string(second_port_);
    ok(admin().add_buyer("second", b));
    ok(admin().add_route("camp1", "second", 1, 1));
  }
  void expect_one_call(const std::string& hangup_side, const std::string& buyer = "buyer1") {
    auto rows = calls(1);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0]["final_status"], 200);
    EXPECT_EQ(rows[0]["buyer_id"], buyer);
    EXPECT_EQ(rows[0]["hangup_side"], hangup_side);
    EXPECT_EQ(rows[0]["hangup_cause"], "BYE");
  }
  int second_port_ = 0;
};

TEST_F(Interop, ADelayedOfferAndAReinviteWithoutSdpCarryOfferAndAnswerAcrossBothLegs) {
  provision_basic();
  start_gateway();
  auto b = buyer("buyer_delayed_offer.xml");
  auto p = publisher("publisher_delayed_offer.xml", {"-s", "+18882223333"});
  EXPECT_EQ(p.wait(), 0) << "publisher";
  EXPECT_EQ(b.wait(), 0) << "buyer";
  expect_one_call("publisher");
}

TEST_F(Interop, InDialogOptionsAreAnsweredOnBothLegsAndARefusedReinviteLeavesTheCallUp) {
  provision_basic();
  start_gateway();
  auto b = buyer("buyer_probes_dialog.xml");
  auto p = publisher("publisher_probes_dialog.xml", {"-s", "+18882223333"});
  EXPECT_EQ(p.wait(), 0) << "publisher";
  EXPECT_EQ(b.wait(), 0) << "buyer";
  expect_one_call("publisher");
}

TEST_F(Interop, EarlyMediaAfterRingingIsRelayedAndAFailoverPastItEndsInOneSession) {
  two_buyers();
  start_gateway();
  auto first = buyer("buyer_early_media_fails.xml");
  auto second = buyer("buyer_answers_then_resyncs.xml", {}, second_port_);
  auto p = publisher("publisher_early_media.xml", {"-s", "+18882223333"});
  EXPECT_EQ(p.wait(), 0) << "publisher";
  EXPECT_EQ(first.wait(), 0) << "first buyer";
  EXPECT_EQ(second.wait(), 0) << "second buyer";
  expect_one_call("publisher", "second");
}

TEST_F(Interop, ThePublisherHearsRingingWhileTheNextBuyerIsTried) {
  two_buyers();
  start_gateway();
  auto first = buyer("buyer_busy.xml");
  auto second = buyer("buyer_answers_silently.xml", {}, second_port_);
  auto p = publisher("publisher_needs_ringing.xml", {"-s", "+18882223333"});
  EXPECT_EQ(p.wait(), 0) << "publisher";
  EXPECT_EQ(first.wait(), 0) << "first buyer";
  EXPECT_EQ(second.wait(), 0) << "second buyer";
  expect_one_call("publisher", "second");
}

TEST_F(Interop, APublisherThatRequires100relGetsEachRelayed18xReliablyAndPracksIt) {
  provision_basic();
  start_gateway();
  auto b = buyer("buyer_rings_with_early_media.xml");
  auto p = publisher("publisher_100rel.xml", {"-s", "+18882223333"});
  EXPECT_EQ(p.wait(), 0) << "publisher";
  EXPECT_EQ(b.wait(), 0) << "buyer";
  expect_one_call("publisher");
}

TEST_F(Interop, AnEscapedCallerIsEscapedOnceAndAHeaderOfEmptyTokensIsLeftOut) {
  provision_basic();
  db::BuyerChanges headers;
  headers.headers = std::vector<std::string>{"X-Campaign-ID: [campaign_id]", "X-Caller: [caller_number]", "X-Sub: [sub_id]"};
  ok(admin().update_buyer("buyer1", headers));
  start_gateway();
  BuyerExpectations e{"pub1", std::nullopt, "camp1"};
  e.headers = {{"X-Caller", "+15551230000"}};
  std::string xml = buyer_answer_xml(e);
  // From carries the number once decoded, never "%252B"; no empty X-Sub.
  xml.replace(xml.find("<ereg regexp=\"^v=0\""), 0,
              "<ereg regexp=\"sip:\\+15551230000@\" search_in=\"hdr\" header=\"From:\" check_it=\"true\" assign_to=\"from\"/>\n"
              "<ereg regexp=\"X-Sub:\" search_in=\"msg\" check_it_inverse=\"true\" assign_to=\"no_sub\"/>\n");
  xml.replace(xml.find("<Reference variables=\""), 0, "<Reference variables=\"from,no_sub\"/>\n");
  auto b = buyer(write_scenario("buyer-escaped.xml", xml));
  PublisherPlan plan;
  plan.caller = "%2B15551230000";
  auto p = place(plan);
  EXPECT_EQ(p.wait(), 0) << "publisher";
  EXPECT_EQ(b.wait(), 0) << "buyer";
  auto rows = calls(1);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["caller"], "+15551230000");
}

TEST_F(Interop, ABuyerThatChallengesWithSha256FirstIsAnsweredWithSha256) {
  provision_basic();
  set_buyer_credentials("gw-user", "gw-pass");
  start_gateway();
  auto b = buyer("buyer_challenges_sha256.xml");
  auto p = place({});
  EXPECT_EQ(p.wait(), 0) << "publisher";
  EXPECT_EQ(b.wait(), 0) << "buyer";
  expect_one_call("publisher");
}

TEST_F(Interop, APublisherThatEscapesTheNumberAuthenticatesWithTheRightPassword) {
  provision_basic();
  start_gateway();
  auto b = answering_buyer({"pub1", std::nullopt, "camp1"});
  PublisherPlan plan;
  plan.number = "%2B18882223333";  // RFC 3261 allows it; Sofia reads it as "+"
  plan.domain = "digest.test";
  plan.digest_password = "alice-secret";
  auto p = place(plan, {"-auth_uri", plan.number + "@" + plan.domain});  // the hash covers the escaped form
  EXPECT_EQ(p.wait(), 0) << "publisher";
  EXPECT_EQ(b.wait(), 0) << "buyer";
  auto rows = calls(1);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["number"], "+18882223333");
}

TEST_F(Interop, InDialogRequestsForNoDialogGet481) {
  provision_basic();
  start_gateway();
  SipEndpoint gateway{"127.0.0.1", sip_port_, false};
  for (const std::string method : {"INFO", "UPDATE", "PRACK", "BYE"}) {
    for (const std::string to_tag : {"", "no-such-dialog"}) {
      SipProbe probe(gateway);
      auto reply = probe.final_response(
          sip_request(method, gateway, probe.local_port(), to_tag, method == "PRACK" ? "RAck: 1 1 INVITE\r\n" : ""), 3s);
      ASSERT_TRUE(reply) << method << " " << to_tag;
      EXPECT_EQ(status_of(*reply), 481) << method << " " << to_tag << "\n" << *reply;
    }
  }
}

}  // namespace
}  // namespace sipgw::integration
