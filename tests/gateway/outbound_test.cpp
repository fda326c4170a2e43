#include "gateway/outbound.h"

#include <gtest/gtest.h>

#include <regex>

namespace sipgw::gateway {
namespace {

routing::CallFacts facts() {
  return {"0b6c1d9e-6a3f-4c7e-9a55-4c2f1b8e7d10", "00112233445566778899aabbccddeeff", "pub1", "sub 9", "camp1", "b1",
          "+18882223333", "+15551230000"};
}

routing::Buyer sip_buyer() {
  routing::Buyer b;
  b.id = "b1";
  b.target = "sip:[number]@pbx.example.com";
  b.headers = {{"X-Campaign-ID", "[campaign_id]"}, {"X-Caller", "[caller_number]"}};
  return b;
}

TEST(Outbound, StandardHeadersThenBuyerHeadersWithTokens) {
  routing::Snapshot s;
  auto out = build_outbound_invite(s, sip_buyer(), facts(), "gw.example.com:5060");
  ASSERT_TRUE(out) << out.error();
  EXPECT_EQ(out->request_uri, "sip:+18882223333@pbx.example.com");
  EXPECT_EQ(out->from, "<sip:+15551230000@gw.example.com:5060>");
  EXPECT_EQ(out->to, "<sip:+18882223333@pbx.example.com>");
  EXPECT_EQ(out->extra_headers,
            "X-PH-RetreaverUUID: 0b6c1d9e-6a3f-4c7e-9a55-4c2f1b8e7d10\r\n"
            "X-PH-RetreaverKey: 00112233445566778899aabbccddeeff\r\n"
            "X-PH-RetreaverAFID: pub1\r\n"
            "X-PH-RetreaverSID: sub 9\r\n"
            "X-Campaign-ID: camp1\r\n"
            "X-Caller: +15551230000");
  EXPECT_FALSE(out->credentials);
}

TEST(Outbound, TheIdentityHeaderPassesUnlessTheBuyerStripsIt) {
  routing::Snapshot s;
  auto f = facts();
  f.identity = "eyJhbGciOiJFUzI1NiJ9.eyJhdHRlc3QiOiJBIn0.c2ln;info=<https://cert.example.org/a.pem>;alg=ES256;ppt=shaken";
  auto buyer = sip_buyer();
  auto out = build_outbound_invite(s, buyer, f, "gw.example.com");
  ASSERT_TRUE(out);
  EXPECT_NE(out->extra_headers.find("\r\nIdentity: " + f.identity + "\r\n"), std::string::npos) << out->extra_headers;
  buyer.pass_identity = false;
  out = build_outbound_invite(s, buyer, f, "gw.example.com");
  ASSERT_TRUE(out);
  EXPECT_EQ(out->extra_headers.find("Identity"), std::string::npos);
}

TEST(Outbound, NoSubIdMeansNoSidHeaderAndNamesFollowSettings) {
  routing::Snapshot s;
  s.settings.header_uuid = "X-Call-UUID";
  auto f = facts();
  f.sub_id.clear();
  auto out = build_outbound_invite(s, sip_buyer(), f, "gw");
  ASSERT_TRUE(out);
  EXPECT_EQ(out->extra_headers.find("SID"), std::string::npos);
  EXPECT_EQ(out->extra_headers.rfind("X-Call-UUID: ", 0), 0u);
}

TEST(Outbound, AHeaderWhoseTokensExpandToNothingIsLeftOut) {
  routing::Snapshot s;
  auto f = facts();
  f.sub_id.clear();
  auto buyer = sip_buyer();
  buyer.headers = {{"X-Sub", "[sub_id]"}, {"X-Sub-Pair", " [sub_id] [sub_id] "}, {"X-Tagged", "sub=[sub_id]"}};
  auto out = build_outbound_invite(s, buyer, f, "gw");
  ASSERT_TRUE(out);
  EXPECT_EQ(out->extra_headers.find("X-Sub"), std::string::npos) << out->extra_headers;
  EXPECT_NE(out->extra_headers.find("\r\nX-Tagged: sub="), std::string::npos) << out->extra_headers;  // text of its own
}

TEST(Outbound, TheCallersNumberIsEscapedOnce) {
  routing::Snapshot s;
  auto f = facts();
  f.caller_number = "+1555#123";
  auto out = build_outbound_invite(s, sip_buyer(), f, "gw");
  ASSERT_TRUE(out);
  EXPECT_EQ(out->from, "<sip:+1555%23123@gw>");
}

TEST(Outbound, APrivateCallerIsAnonymousToEveryBuyerAndAssertedOnlyToATrustedOne) {
  routing::Snapshot s;
  auto f = facts();
  f.caller_name = "Bob Smith";
  f.caller_known = true;
  auto untrusted = sip_buyer();
  auto out = build_outbound_invite(s, untrusted, f, "gw");
  ASSERT_TRUE(out);
  EXPECT_EQ(out->from, "\"Bob Smith\" <sip:+15551230000@gw>");  // the display name passes
  EXPECT_EQ(out->extra_headers.find("P-Asserted-Identity"), std::string::npos);
  f.caller_private = true;
  out = build_outbound_invite(s, untrusted, f, "gw");
  ASSERT_TRUE(out);
  EXPECT_EQ(out->from, "\"Anonymous\" <sip:anonymous@anonymous.invalid>");
  EXPECT_NE(out->extra_headers.find("X-Caller: anonymous"), std::string::npos) << out->extra_headers;
  EXPECT_EQ(out->extra_headers.find("+15551230000"), std::string::npos) << out->extra_headers;
  auto trusted = sip_buyer();
  trusted.pass_asserted_identity = true;
  out = build_outbound_invite(s, trusted, f, "gw");
  ASSERT_TRUE(out);
  EXPECT_EQ(out->from, "\"Anonymous\" <sip:anonymous@anonymous.invalid>");
  EXPECT_NE(out->extra_headers.find("\r\nP-Asserted-Identity: \"Bob Smith\" <sip:+15551230000@gw>\r\nPrivacy: id\r\n"),
            std::string::npos)
      << out->extra_headers;
  EXPECT_NE(out->extra_headers.find("X-Caller: +15551230000"), std::string::npos) << out->extra_headers;
}

TEST(Outbound, ConfiguredInboundHeadersPassEveryInstance) {
  routing::Snapshot s;
  auto f = facts();
  f.passed_headers = {{"Diversion", "<sip:+15550001111@c>;reason=unconditional"}, {"Diversion", "<sip:+15550002222@c>"}};
  auto out = build_outbound_invite(s, sip_buyer(), f, "gw");
  ASSERT_TRUE(out);
  EXPECT_NE(out->extra_headers.find("\r\nDiversion: <sip:+15550001111@c>;reason=unconditional\r\nDiversion: <sip:+15550002222@c>"),
            std::string::npos)
      << out->extra_headers;
}

TEST(Outbound, ARequestGoesOverUdpUnlessItsUriNamesTcp) {
  OutboundInvite r;
  r.request_uri = "sip:+1555@pbx.example.com:5060";
  EXPECT_TRUE(over_udp(r));
  r.request_uri = "sip:+1555@pbx.example.com;lr;Transport=TCP";
  EXPECT_FALSE(over_udp(r));
  r.request_uri = "sip:+1555@pbx.example.com;transport=udp";
  EXPECT_TRUE(over_udp(r));
}

TEST(Outbound, InjectedCrLfNeverReachesAHeader) {
  routing::Snapshot s;
  auto f = facts();
  f.sub_id = "a\r\nVia: SIP/2.0/UDP evil";
  f.caller_number = "x\r\ny";
  auto out = build_outbound_invite(s, sip_buyer(), f, "gw");
  ASSERT_TRUE(out);
  // Every line is one of ours: exactly six header lines.
  EXPECT_EQ(std::count(out->extra_headers.begin(), out->extra_headers.end(), '\n'), 5);
  EXPECT_EQ(out->extra_headers.find("\nVia"), std::string::npos);
  EXPECT_EQ(out->from.find('\r'), std::string::npos);
}

TEST(Outbound, CredentialsAreOnlyTheConfiguredOnes) {
  routing::Snapshot s;
  auto b = sip_buyer();
  b.target = "sip:user:secret@pbx.example.com";
  auto out = build_outbound_invite(s, b, facts(), "gw");
  ASSERT_TRUE(out);
  EXPECT_FALSE(out->credentials);
  b.auth_user = "u";
  b.auth_password = "p";
  out = build_outbound_invite(s, b, facts(), "gw");
  ASSERT_TRUE(out->credentials);
  EXPECT_EQ(out->credentials->username, "u");
  EXPECT_EQ(out->credentials->password, "p");
}

TEST(Outbound, PstnTargetsGoThroughTheTrunk) {
  routing::Snapshot s;
  routing::Buyer b;
  b.id = "pstn";
  b.target = "+18885551234";
  b.target_kind = routing::TargetKind::pstn;
  EXPECT_FALSE(build_outbound_invite(s, b, facts(), "gw"));
  s.trunk = routing::Trunk{"sip:carrier.example.com:5060", std::string("tu"), std::string("tp"), std::string("gw.example.net")};
  auto out = build_outbound_invite(s, b, facts(), "gw");
  ASSERT_TRUE(out);
  EXPECT_EQ(out->request_uri, "sip:+18885551234@carrier.example.com:5060");
  EXPECT_EQ(out->from, "<sip:+15551230000@gw.example.net>");
  ASSERT_TRUE(out->credentials);
  EXPECT_EQ(out->credentials->username, "tu");
}

TEST(Outbound, IdentifiersHaveTheirShape) {
  std::regex uuid("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  EXPECT_TRUE(std::regex_match(new_call_uuid(), uuid));
  EXPECT_NE(new_call_uuid(), new_call_uuid());
  std::regex key("^[0-9a-f]{32}$");
  EXPECT_TRUE(std::regex_match(new_postback_key(), key));
  EXPECT_NE(new_postback_key(), new_postback_key());
}

}  // namespace
}  // namespace sipgw::gateway
