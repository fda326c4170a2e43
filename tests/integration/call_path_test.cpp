// The call path end to end: the real sipgw on loopback, SIPp publishers and
// buyers, a temporary database. Every test checks SIPp's exit code on both
// sides (0 = every call went as its scenario says).
#include "auth/digest.h"
#include "harness.h"

namespace sipgw::integration {
namespace {

class CallPath : public GatewayTest {
 protected:
  std::vector<std::string> digest_uri(const PublisherPlan& plan) {
    return {"-auth_uri", plan.number + "@" + plan.domain};  // SIPp prepends "sip:"
  }
};

TEST_F(CallPath, IpAuthenticatedCallCompletesWithStandardHeadersAndCdr) {
  provision_basic();
  start_gateway();
  auto b = answering_buyer({"pub1", std::string("sub-42"), "camp1"});
  PublisherPlan plan;
  plan.sub_id = "sub-42";
  expect_calls({&b}, plan, {"-d", "100"});

  auto rows = calls(1);
  ASSERT_EQ(rows.size(), 1u);
  auto call = ctl_json({"calls", "show", rows[0]["uuid"]});
  EXPECT_EQ(call["publisher_id"], "pub1");
  EXPECT_EQ(call["sub_id"], "sub-42");
  EXPECT_EQ(call["number"], "+18882223333");
  EXPECT_EQ(call["caller"], "+15551230000");
  EXPECT_EQ(call["campaign_id"], "camp1");
  EXPECT_EQ(call["buyer_id"], "buyer1");
  EXPECT_EQ(call["final_status"], 200);
  EXPECT_EQ(call["hangup_side"], "publisher");
  EXPECT_FALSE(call["answer_at"].is_null());
  EXPECT_EQ(call["postback_key"].get<std::string>().size(), 32u);
  ASSERT_EQ(call["attempts"].size(), 1u);
  EXPECT_EQ(call["attempts"][0]["status"], 200);
  EXPECT_EQ(call["attempts"][0]["target"], "sip:agentqueue@127.0.0.1:" + std::to_string(buyer_port_));
  // The exact UUID and key the buyer received are the CDR's.
  auto buyer_messages = gateway_.log();
  EXPECT_NE(buyer_messages.find(call["uuid"].get<std::string>()), std::string::npos);
}

TEST_F(CallPath, DigestAuthenticatedCallCompletes) {
  provision_basic();
  start_gateway();
  auto b = answering_buyer({"pub1", std::string("sub-7"), "camp1"});
  PublisherPlan plan;
  plan.domain = "digest.test";
  plan.digest_password = "alice-secret";
  plan.sub_id = "sub-7";
  auto p = place(plan, [&] {
    auto a = digest_uri(plan);
    a.insert(a.end(), {"-d", "100"});
    return a;
  }());
  EXPECT_EQ(p.wait(), 0);
  EXPECT_EQ(b.wait(), 0);
  EXPECT_EQ(calls(1)[0]["final_status"], 200);
  // Neither the password nor its HA1 reaches the log.
  auto log = gateway_.log();
  EXPECT_EQ(log.find("alice-secret"), std::string::npos);
  EXPECT_EQ(log.find(auth::ha1(auth::DigestAlgorithm::md5, "alice", "digest.test", "alice-secret")), std::string::npos);
}

TEST_F(CallPath, DigestOrIpLetsAnAllowlistedSourceInWithoutChallenge) {
  provision_basic();
  start_gateway();
  auto b = answering_buyer({"pub1", std::string("s"), "camp1"});
  PublisherPlan plan;
  plan.domain = "mixed.test";
  plan.sub_id = "s";
  expect_calls({&b}, plan, {"-d", "50"});
}

TEST_F(CallPath, RejectionsCarryTheirStatus) {
  provision_basic();
  start_gateway();
  struct Case {
    std::string name;
    int expect;
    std::string domain = "ip.test";
    std::string number = "+18882223333";
    std::optional<std::string> password{};  // digest answer with this password
    std::string from_ip = "127.0.0.1";
  };
  const std::vector<Case> cases = {
      {"403 source not allowlisted", 403, "ip.test", "+18882223333", std::nullopt, "127.0.0.2"},
      {"403 wrong password", 403, "digest.test", "+18882223333", std::string("wrong")},
      {"403 unknown domain, like any refusal before authentication", 403, "elsewhere.example.com"},
      {"484 not E.164", 484, "ip.test", "18882223333"},
      {"404 unknown number", 404, "ip.test", "+18880000000"},
      {"404 disabled number", 404, "ip.test", "+18882229999"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    PublisherPlan plan;
    plan.expect = c.expect;
    plan.domain = c.domain;
    plan.number = c.number;
    plan.digest_password = c.password;
    auto p = place(plan, plan.digest_password ? digest_uri(plan) : std::vector<std::string>{}, c.from_ip);
    EXPECT_EQ(p.wait(), 0) << c.name;
  }
  // Nothing was relayed: no CDR, and the gateway never sent an INVITE out.
  EXPECT_TRUE(ctl_json({"calls", "list"}).empty());
  EXPECT_EQ(gateway_.log().find(" -> buyer "), std::string::npos);
}

TEST_F(CallPath, CancelWhileRingingCancelsTheBuyerLeg) {
  provision_basic();
  start_gateway();
  auto b = buyer("buyer_ring.xml");
  PublisherPlan plan;
  plan.cancel_after_ringing = true;
  expect_calls({&b}, plan);
  auto rows = calls(1);
  EXPECT_EQ(rows[0]["final_status"], 487);
  EXPECT_EQ(rows[0]["hangup_side"], "publisher");
  EXPECT_EQ(rows[0]["hangup_cause"], "CANCEL");
}

TEST_F(CallPath, ByeFromTheBuyerReachesThePublisher) {
  provision_basic();
  start_gateway();
  auto b = buyer("buyer_hangs_up.xml");
  PublisherPlan plan;
  plan.buyer_hangs_up = true;
  expect_calls({&b}, plan);
  auto rows = calls(1);
  EXPECT_EQ(rows[0]["hangup_side"], "buyer");
  EXPECT_EQ(rows[0]["final_status"], 200);
}

TEST_F(CallPath, BuyerChallengeIsAnsweredWithConfiguredCredentials) {
  provision_basic();
  set_buyer_credentials("gw-user", "gw-pass");
  start_gateway();
  auto b = buyer("buyer_challenges.xml", {"-key", "auth_user", "gw-user", "-key", "auth_password", "gw-pass"});
  PublisherPlan plan;
  expect_calls({&b}, plan, {"-d", "50"});
  EXPECT_NE(slurp(dir_.file("buyer_messages.log")).find("username=\"gw-user\""), std::string::npos);
  EXPECT_EQ(gateway_.log().find("gw-pass"), std::string::npos);
}

TEST_F(CallPath, BuyerChallengeWithoutCredentialsFailsTheCall) {
  provision_basic();
  start_gateway();
  // No credentials configured: none are derived from the target URI (whose
  // user part is "agentqueue"), no Authorization is ever sent, and the
  // publisher hears 480 rather than a challenge that is not theirs.
  auto b = buyer("buyer_challenges.xml", {"-key", "auth_user", "agentqueue", "-key", "auth_password", "x"});
  PublisherPlan plan;
  plan.expect = 480;
  auto p = place(plan);
  EXPECT_EQ(p.wait(), 0);
  b.kill_now();
  auto rows = calls(1);
  EXPECT_EQ(rows[0]["final_status"], 480);
  auto call = ctl_json({"calls", "show", rows[0]["uuid"]});
  EXPECT_EQ(call["attempts"][0]["status"], 401);
  EXPECT_EQ(slurp(dir_.file("buyer_messages.log")).find("Authorization:"), std::string::npos);
}

TEST_F(CallPath, RingTimeoutGives480) {
  provision_basic(/*ring_timeout=*/1);
  start_gateway();
  auto b = buyer("buyer_ring.xml");
  PublisherPlan plan;
  plan.expect = 480;
  expect_calls({&b}, plan);
  auto rows = calls(1);
  EXPECT_EQ(rows[0]["final_status"], 480);
  EXPECT_EQ(rows[0]["hangup_cause"], "ring_timeout");
}

TEST_F(CallPath, AllowlistRemovedWhileRunningRefusesTheNextCall) {
  provision_basic();
  start_gateway();
  {
    auto b = answering_buyer({"pub1", std::string("x"), "camp1"});
    PublisherPlan plan;
    plan.sub_id = "x";
    auto p = place(plan, {"-d", "10"});
    EXPECT_EQ(p.wait(), 0);
    EXPECT_EQ(b.wait(), 0);
  }
  ASSERT_EQ(ctl({"allowlist", "remove", "127.0.0.1/32"}), 0);
  ASSERT_TRUE(eventually([&] { return gateway_.log().find("provisioning generation 2 loaded") != std::string::npos; }));
  PublisherPlan plan;
  plan.expect = 403;
  auto p = place(plan);
  EXPECT_EQ(p.wait(), 0);
}

TEST_F(CallPath, OptionsToOurDomainIsAnswered) {
  provision_basic();
  start_gateway();
  auto file = write_scenario("options.xml", R"(<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="options">
<send><![CDATA[
OPTIONS sip:ip.test SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:probe@[local_ip]>;tag=[call_number]
To: <sip:ip.test>
Call-ID: [call_id]
CSeq: 1 OPTIONS
Max-Forwards: 70
Content-Length: 0
]]></send>
<recv response="200"/>
</scenario>
)");
  auto p = publisher(file, {});
  EXPECT_EQ(p.wait(), 0);
}

TEST_F(CallPath, SigtermDrainsACallInProgressThenExitsZero) {
  provision_basic();
  start_gateway({"--drain-timeout", "20"});
  auto b = answering_buyer({"pub1", std::string("d"), "camp1"});
  PublisherPlan plan;
  plan.sub_id = "d";
  auto p = place(plan, {"-d", "1500"});
  ASSERT_TRUE(eventually([&] { return gateway_.log().find("answered by buyer") != std::string::npos; }));
  gateway_.signal(SIGTERM);
  ASSERT_TRUE(eventually([&] { return gateway_.log().find("draining") != std::string::npos; }));
  // A new call while draining is turned away with 503 and Retry-After.
  publisher_port_ = free_port();
  PublisherPlan late;
  late.expect = 503;
  late.expect_retry_after = true;
  auto refused = place(late);
  EXPECT_EQ(refused.wait(), 0);
  // The call in progress ends normally; then sipgw exits 0 with its CDR written.
  EXPECT_EQ(p.wait(), 0);
  EXPECT_EQ(b.wait(), 0);
  EXPECT_EQ(gateway_.wait(), 0);
  auto rows = ctl_json({"calls", "list"});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["final_status"], 200);
}

TEST_F(CallPath, SigtermHangsUpWhatOutlivesTheDrainTimeout) {
  provision_basic();
  start_gateway({"--drain-timeout", "1"});
  auto b = answering_buyer({"pub1", std::string("d"), "camp1"});
  PublisherPlan plan;
  plan.sub_id = "d";
  plan.buyer_hangs_up = true;  // the publisher waits for a BYE, which sipgw sends at the drain timeout
  auto p = place(plan);
  ASSERT_TRUE(eventually([&] { return gateway_.log().find("answered by buyer") != std::string::npos; }));
  gateway_.signal(SIGTERM);
  EXPECT_EQ(p.wait(), 0);
  EXPECT_EQ(b.wait(), 0);
  EXPECT_EQ(gateway_.wait(), 0);
  auto rows = ctl_json({"calls", "list"});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["hangup_cause"], "drain");
}

}  // namespace
}  // namespace sipgw::integration

namespace sipgw::integration {
namespace {

TEST_F(CallPath, InfoAndReInviteAreRelayedWithTheirBodies) {
  provision_basic();
  start_gateway();
  auto b = buyer("buyer_in_dialog.xml");
  auto p = publisher("publisher_in_dialog.xml", {"-s", "+18882223333"});
  EXPECT_EQ(p.wait(), 0);
  EXPECT_EQ(b.wait(), 0);
  EXPECT_EQ(calls(1)[0]["final_status"], 200);
}

TEST_F(CallPath, CallsArriveOverTcpToo) {
  provision_basic();
  start_gateway();
  auto b = buyer("buyer_hangs_up.xml");
  PublisherPlan plan;
  plan.buyer_hangs_up = true;
  auto file = write_scenario("publisher-tcp.xml", publisher_xml(plan));
  auto p = publisher(file, {"-t", "t1"});
  EXPECT_EQ(p.wait(), 0);
  EXPECT_EQ(b.wait(), 0);
  EXPECT_EQ(calls(1)[0]["final_status"], 200);
}

}  // namespace
}  // namespace sipgw::integration

namespace sipgw::integration {
namespace {

TEST_F(CallPath, Ipv6PublisherAndIpv4BuyerOnOneGateway) {
  provision_basic();
  ASSERT_TRUE(admin().add_allowlist("::1", "pub1", "v6 loopback"));
  start_gateway({"--listen", "udp:[::1]:" + std::to_string(sip_port_)});
  // The IPv4 buyer hangs up: sipgw must send that BYE to the IPv6 publisher
  // from an IPv6 socket.
  auto b = buyer("buyer_hangs_up.xml");
  PublisherPlan plan;
  plan.buyer_hangs_up = true;
  auto file = write_scenario("publisher-mixed.xml", publisher_xml(plan));
  auto p = sipp("publisher", {"[::1]:" + std::to_string(sip_port_), "-sf", file, "-p", std::to_string(publisher_port_), "-m", "1"},
                "::1");
  EXPECT_EQ(p.wait(), 0);
  EXPECT_EQ(b.wait(), 0);
  EXPECT_NE(gateway_.log().find("from publisher pub1 (::1)"), std::string::npos);
  EXPECT_EQ(calls(1)[0]["hangup_side"], "buyer");
}

TEST_F(CallPath, Ipv6OnlyGatewayBridgesIpv6PublisherAndBuyer) {
  provision_basic();
  ASSERT_TRUE(admin().add_allowlist("::1", "pub1", "v6 loopback"));
  ok(admin().add_domain("[::1]", "ip", std::nullopt, std::nullopt));
  db::BuyerChanges v6;
  v6.target = "sip:agentqueue@[::1]:" + std::to_string(buyer_port_);
  ok(admin().update_buyer("buyer1", v6));
  start_gateway({}, "[::1]");
  // The buyer hangs up: a request sipgw originates toward an IPv6 peer.
  auto b = sipp("buyer", {"-sf", scenario("buyer_hangs_up.xml"), "-p", std::to_string(buyer_port_), "-m", "1"}, "::1");
  std::this_thread::sleep_for(200ms);
  PublisherPlan plan;
  plan.domain = "ip.test";
  plan.buyer_hangs_up = true;
  auto file = write_scenario("publisher-v6.xml", publisher_xml(plan));
  auto p = sipp("publisher", {"[::1]:" + std::to_string(sip_port_), "-sf", file, "-p", std::to_string(publisher_port_), "-m", "1"},
                "::1");
  EXPECT_EQ(p.wait(), 0);
  EXPECT_EQ(b.wait(), 0);
  EXPECT_NE(gateway_.log().find("from publisher pub1 (::1)"), std::string::npos);
  EXPECT_EQ(calls(1)[0]["hangup_side"], "buyer");
}

}  // namespace
}  // namespace sipgw::integration

namespace sipgw::integration {
namespace {

TEST_F(CallPath, PublicAddressIsWhatTheBuyerSees) {
  provision_basic();
  start_gateway({"--public-address", "127.0.0.5"});
  auto b = answering_buyer({"pub1", std::nullopt, "camp1"});
  expect_calls({&b}, {}, {"-d", "20"});
  auto seen = slurp(dir_.file("buyer_messages.log"));
  EXPECT_NE(seen.find("Contact: <sip:127.0.0.5:" + std::to_string(sip_port_)), std::string::npos) << seen;
  EXPECT_NE(seen.find("Via: SIP/2.0/UDP 127.0.0.5:" + std::to_string(sip_port_)), std::string::npos) << seen;
  EXPECT_NE(seen.find("@127.0.0.5>"), std::string::npos) << seen;  // From
}

// Topology hiding both ways: what the buyer's PBX says about itself (Server,
// User-Agent, Record-Route, P-*, X-*, Warning, Reason, its Contact) never
// reaches the publisher, and the publisher's own headers and Contact never
// reach the buyer: each side sees sipgw only. The SDP passes as is.
TEST_F(CallPath, NeitherSideLearnsTheOthersTopology) {
  provision_basic();
  start_gateway();
  const std::string publisher_port = std::to_string(publisher_port_);
  const std::string reply = "[last_Via:]\n[last_From:]\n[last_To:];tag=[pid]b[call_number]\n[last_Call-ID:]\n[last_CSeq:]\n"
                            "Contact: <sip:agent7-secret@[local_ip]:[local_port]>\n"
                            "Record-Route: <sip:[local_ip]:[local_port];lr;rr-secret>\nServer: BuyerPBX 9.9\n"
                            "User-Agent: BuyerPBX 9.9\nX-Buyer-Internal: 10.1.2.3\nP-Asserted-Identity: <sip:agent7@10.1.2.3>\n"
                            "Warning: 399 pbx-internal \"queue 7\"\nReason: Q.850;cause=16\n";
  const std::string buyer_xml =
      "<?xml version=\"1.0\" encoding=\"ISO-8859-1\" ?>\n<scenario name=\"noisy buyer\">\n<recv request=\"INVITE\"><action>"
      "<ereg regexp=\"PubDialer|X-Pub-Secret|P-Pub-Custom|pub-contact-secret|:" + publisher_port +
      "\" search_in=\"msg\" check_it_inverse=\"true\" assign_to=\"leak\"/>"
      "<ereg regexp=\"o=pub 1 1\" search_in=\"body\" check_it=\"true\" assign_to=\"sdp\"/></action></recv>\n"
      "<send><![CDATA[\nSIP/2.0 180 Ringing\n" + reply + "Content-Length: 0\n]]></send>\n"
      "<send retrans=\"500\"><![CDATA[\nSIP/2.0 200 OK\n" + reply +
      "Content-Type: application/sdp\nContent-Length: [len]\n\nv=0\no=buyer 1 1 IN IP4 [local_ip]\ns=-\n"
      "c=IN IP4 [local_ip]\nt=0 0\nm=audio 50000 RTP/AVP 0\n]]></send>\n"
      "<recv request=\"ACK\"/>\n<Reference variables=\"leak,sdp\"/>\n<recv request=\"BYE\"/>\n"
      "<send><![CDATA[\nSIP/2.0 200 OK\n[last_Via:]\n[last_From:]\n[last_To:]\n[last_Call-ID:]\n[last_CSeq:]\n"
      "Content-Length: 0\n]]></send>\n</scenario>\n";
  auto b = buyer(write_scenario("noisy-buyer.xml", buyer_xml));
  PublisherPlan plan;
  plan.extra_headers = "User-Agent: PubDialer 3.1\nX-Pub-Secret: s3cret\nP-Pub-Custom: 1\n";
  plan.must_not_see = "BuyerPBX|X-Buyer-Internal|P-Asserted-Identity|agent7|rr-secret|Warning:|Reason:|10\\.1\\.2\\.3";
  plan.check_headers = {{"Contact", ".*sip:127\\.0\\.0\\.1:" + std::to_string(sip_port_) + "[;>].*"}};  // sipgw's own
  expect_calls({&b}, plan);
}
}  // namespace
}  // namespace sipgw::integration
