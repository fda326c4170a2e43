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
  // A buyer that answers and also checks these (header, regexp) pairs and
  // that none of `absent` appears in the INVITE.
  Process checking_buyer(const BuyerExpectations& e, const std::vector<std::pair<std::string, std::string>>& matches,
                         const std::vector<std::string>& absent = {}) {
    std::string xml = buyer_answer_xml(e), checks, vars;
    auto attribute = [](std::string text) {  // the regexp goes into an XML attribute
      std::string out;
      for (char c : text) {
        out += c == '"' ? "&quot;" : c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '&' ? "&amp;" : std::string(1, c);
      }
      return out;
    };
    for (std::size_t i = 0; i < matches.size(); ++i) {
      const std::string var = "m" + std::to_string(i);
      checks += "<ereg regexp=\"" + attribute(matches[i].second) + "\" search_in=\"hdr\" header=\"" + matches[i].first +
                ":\" check_it=\"true\" assign_to=\"" + var + "\"/>\n";
      vars += (vars.empty() ? "" : ",") + var;
    }
    for (std::size_t i = 0; i < absent.size(); ++i) {
      const std::string var = "a" + std::to_string(i);
      checks += "<ereg regexp=\"" + attribute(absent[i]) + "\" search_in=\"msg\" check_it_inverse=\"true\" assign_to=\"" + var + "\"/>\n";
      vars += (vars.empty() ? "" : ",") + var;
    }
    xml.replace(xml.find("<ereg regexp=\"^v=0\""), 0, checks);
    if (!vars.empty()) xml.replace(xml.find("<Reference variables=\""), 0, "<Reference variables=\"" + vars + "\"/>\n");
    return buyer(write_scenario("buyer-checks-" + std::to_string(++checked_) + ".xml", xml));
  }
  int second_port_ = 0;
  int checked_ = 0;
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

// The limit, pinned down: Sofia's nua answers a 5xx to a re-INVITE with a
// BYE of its own (RFC 5057 "graceful termination"), so the call ends; sipgw
// relays the 500, hangs up the publisher and records the buyer's side as
// the one that ended (not as a session expiry).
TEST_F(Interop, AReinviteRefused500EndsTheCallCleanlyOnBothLegs) {
  provision_basic();
  start_gateway();
  auto b = buyer("buyer_refuses_reinvite_500.xml");
  auto p = publisher("publisher_reinvite_refused_500.xml", {"-s", "+18882223333"});
  EXPECT_EQ(p.wait(), 0) << "publisher";
  EXPECT_EQ(b.wait(), 0) << "buyer";
  auto rows = calls(1);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["hangup_side"], "buyer");
  EXPECT_EQ(rows[0]["hangup_cause"], "terminated");
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
  // From carries the number once decoded, never "%252B"; no empty X-Sub.
  // ... and buyers are not offered 100rel (only publishers are).
  auto b = checking_buyer(e, {{"From", "sip:\\+15551230000@"}, {"Supported", "^ *timer$"}}, {"X-Sub:", "100rel"});
  PublisherPlan plan;
  plan.caller = "%2B15551230000";
  auto p = place(plan);
  EXPECT_EQ(p.wait(), 0) << "publisher";
  EXPECT_EQ(b.wait(), 0) << "buyer";
  auto rows = calls(1);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["caller"], "+15551230000");
}

// A carrier trusted to assert the caller (--caller-from pai) sends Privacy:
// id: an untrusted buyer gets an anonymous From and nothing of the number;
// a buyer trusted with it (--asserted-identity pass) gets it, with the
// display name, in P-Asserted-Identity plus Privacy: id; without privacy the
// display name and number are in From. Diversion passes as configured.
TEST_F(Interop, PrivacyAndAssertedIdentityFollowWhoIsTrusted) {
  provision_basic();
  ASSERT_EQ(ctl({"publisher", "update", "pub1", "--caller-from", "pai"}), 0);
  ASSERT_EQ(ctl({"setting", "set", "outbound.pass_headers", "Diversion"}), 0);
  db::BuyerChanges headers;
  headers.headers = std::vector<std::string>{"X-Campaign-ID: [campaign_id]", "X-Caller: [caller_number]"};
  ok(admin().update_buyer("buyer1", headers));
  start_with_metrics();
  PublisherPlan plan;
  plan.caller = "+15551230000";
  const std::string identity = "P-Asserted-Identity: \"Real Caller\" <sip:+15557654321@carrier.example>\n";
  const std::string diversion = "Diversion: <sip:+15550001111@carrier.example>;reason=unconditional\n";
  plan.extra_headers = identity + "Privacy: id\n" + diversion;
  const std::string anonymous = "^ *.Anonymous. <sip:anonymous@anonymous\\.invalid>;tag=";
  {
    BuyerExpectations e{"pub1", std::nullopt, "camp1"};
    e.headers = {{"X-Caller", "anonymous"}, {"Diversion", "<sip:+15550001111@carrier.example>;reason=unconditional"}};
    auto b = checking_buyer(e, {{"From", anonymous}}, {"P-Asserted-Identity", "7654321", "1230000", "Real Caller"});
    auto p = place(plan);
    EXPECT_EQ(p.wait(), 0) << "publisher";
    EXPECT_EQ(b.wait(), 0) << "untrusted buyer";
  }
  ASSERT_EQ(ctl({"buyer", "update", "buyer1", "--asserted-identity", "pass"}), 0);
  ASSERT_TRUE(eventually([&] { return has_line(scrape(), "sipgw_provisioning_reloads_total 1"); }));
  {
    BuyerExpectations e{"pub1", std::nullopt, "camp1"};
    e.headers = {{"X-Caller", "+15557654321"}, {"Privacy", "id"}};
    auto b = checking_buyer(e, {{"From", anonymous},
                                {"P-Asserted-Identity", "^ *.Real Caller. <sip:\\+15557654321@127\\.0\\.0\\.1:[0-9]+>$"}});
    auto p = place(plan);
    EXPECT_EQ(p.wait(), 0) << "publisher";
    EXPECT_EQ(b.wait(), 0) << "trusted buyer";
  }
  plan.extra_headers = identity;  // no privacy asked
  {
    BuyerExpectations e{"pub1", std::nullopt, "camp1"};
    e.headers = {{"X-Caller", "+15557654321"}};
    auto b = checking_buyer(e, {{"From", "^ *.Real Caller. <sip:\\+15557654321@127\\.0\\.0\\.1:[0-9]+>;tag="}},
                            {"Privacy:"});
    auto p = place(plan);
    EXPECT_EQ(p.wait(), 0) << "publisher";
    EXPECT_EQ(b.wait(), 0) << "trusted buyer, no privacy";
  }
  auto rows = calls(3);
  ASSERT_EQ(rows.size(), 3u);
  for (const auto& row : rows) EXPECT_EQ(row["caller"], "+15557654321");  // the record keeps the asserted caller
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

// sipgw keeps a buyer's INVITE on the transport its target names; one past
// the UDP-safe 1,300 bytes is logged with its size (estimated within 10 %
// of what the buyer received).
TEST_F(Interop, ALargeInviteToAUdpBuyerIsLoggedWithItsSize) {
  provision_basic();
  db::BuyerChanges headers;
  headers.headers = std::vector<std::string>{"X-Campaign-ID: [campaign_id]", "X-Lead-Notes: " + std::string(900, 'n')};
  ok(admin().update_buyer("buyer1", headers));
  start_gateway();
  auto b = answering_buyer({"pub1", std::nullopt, "camp1"});
  auto p = place({});
  EXPECT_EQ(p.wait(), 0) << "publisher";
  EXPECT_EQ(b.wait(), 0) << "buyer";
  const std::string log = gateway_.log();
  const auto at = log.find("bytes over UDP");
  ASSERT_NE(at, std::string::npos) << log;
  const auto about = log.rfind("is about ", at);
  const long estimated = std::atol(log.c_str() + about + 9);
  const std::string messages = slurp(dir_.file("buyer_messages.log"));
  const auto received = messages.find("message received [");
  ASSERT_NE(received, std::string::npos);
  const long actual = std::atol(messages.c_str() + received + 18);
  EXPECT_GT(actual, 1300);
  EXPECT_NEAR(static_cast<double>(estimated), static_cast<double>(actual), actual * 0.1) << "estimated " << estimated;
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
