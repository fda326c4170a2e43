// What the public internet does to a SIP port, done to sipgw: a digest
// brute force over INVITE that answers every challenge correctly (SIPVicious'
// svcrack cannot: it sends REGISTER, and with -m INVITE it puts the domain
// in the digest uri), from 127.0.0.2, another "host" on loopback. It must
// never get in, its source must be banned, the ban must survive a restart
// and `sipgwctl ban` must show and lift it while sipgw runs; the allowlisted
// publisher on 127.0.0.1 keeps placing calls throughout.
#include "harness.h"

#include "auth/digest.h"

namespace sipgw::integration {
namespace {

constexpr const char* kCracker = "127.0.0.2";

class Security : public GatewayTest {
 protected:
  bool has_line(const std::string& line) { return GatewayTest::has_line(scrape(), line); }

  // One guess: INVITE, the 407's nonce, INVITE again with a correct digest
  // answer for `password`. The final status of the last INVITE (403 at once
  // when sipgw refuses before challenging). No password: only the first
  // INVITE (407 when sipgw would listen, 403 when the source is banned).
  int guess(const std::string& password) {
    SipEndpoint gateway{"127.0.0.1", sip_port_, false};
    SipProbe probe(gateway, kCracker);
    const std::string uri = "sip:+18882223333@digest.test";
    const std::string id = std::to_string(++guesses_);
    auto invite = [&](int cseq, const std::string& authorization) {
      return "INVITE " + uri + " SIP/2.0\r\nVia: SIP/2.0/UDP " + std::string(kCracker) + ":" +
             std::to_string(probe.local_port()) + ";rport;branch=z9hG4bK-crack-" + id + "-" + std::to_string(cseq) +
             "\r\nFrom: <sip:alice@digest.test>;tag=c" + id + "\r\nTo: <" + uri + ">\r\nCall-ID: crack-" + id +
             "\r\nCSeq: " + std::to_string(cseq) + " INVITE\r\nContact: <sip:alice@" + kCracker + ":" +
             std::to_string(probe.local_port()) + ">\r\nMax-Forwards: 70\r\n" + authorization + "Content-Length: 0\r\n\r\n";
    };
    auto challenge = probe.final_response(invite(1, ""), 3s);
    if (password.empty()) return challenge ? status_of(*challenge) : 0;  // only knocking
    if (!challenge) return 0;
    if (status_of(*challenge) != 407) return status_of(*challenge);
    const std::string header = header_of(*challenge, "Proxy-Authenticate").value_or("");
    auto param = [&](const std::string& name) {
      auto at = header.find(name + "=\"");
      if (at == std::string::npos) return std::string();
      at += name.size() + 2;
      return header.substr(at, header.find('"', at) - at);
    };
    const std::string realm = param("realm"), nonce = param("nonce");
    const auto md5 = auth::DigestAlgorithm::md5;
    const std::string response = auth::digest_response(md5, auth::ha1(md5, "alice", realm, password),
                                                       {"INVITE", uri, nonce, "00000001", "crackcn", "auth"});
    auto answer = probe.final_response(
        invite(2, "Proxy-Authorization: Digest username=\"alice\", realm=\"" + realm + "\", nonce=\"" + nonce +
                      "\", uri=\"" + uri + "\", response=\"" + response +
                      "\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"crackcn\"\r\n"),
        3s);
    return answer ? status_of(*answer) : 0;
  }

  int guesses_ = 0;
};

TEST_F(Security, ABruteForceNeverGetsInAndItsSourceIsBannedAcrossARestart) {
  provision_basic();  // alice / alice-secret on digest.test; 127.0.0.1 allowlisted for pub1
  start_with_metrics();
  std::map<int, int> statuses;
  for (int i = 0; i < 50; ++i) ++statuses[guess("wrong-" + std::to_string(i))];
  const int right = guess("alice-secret");  // the right password, after 50 wrong ones
  EXPECT_EQ(right, 403) << "the cracker got in";
  EXPECT_EQ(statuses[403], 50);
  EXPECT_EQ(statuses[407], 0);
  EXPECT_TRUE(has_line("sipgw_auto_bans_total 1")) << scrape();
  EXPECT_TRUE(has_line("sipgw_auth_failures_total{domain=\"digest.test\",reason=\"bad_credentials\"} 5")) << scrape();
  EXPECT_TRUE(has_line("sipgw_requests_refused_total{cause=\"banned\"} 46")) << scrape();  // guesses 6 to 51
  EXPECT_TRUE(eventually([&] { return has_line("sipgw_bans_active 1"); })) << scrape();
  auto bans = ctl_json({"ban", "list"});
  ASSERT_EQ(bans.size(), 1u) << bans.dump();
  EXPECT_EQ(bans[0]["cidr"], "127.0.0.2/32");
  EXPECT_EQ(bans[0]["origin"], "auto");
  // The allowlisted publisher is not touched by any of it.
  auto b = answering_buyer({"pub1", std::nullopt, "camp1"});
  auto p = place({});
  EXPECT_EQ(p.wait(), 0);
  EXPECT_EQ(b.wait(), 0);

  // The ban is stored: after a restart the cracker is refused before any challenge.
  gateway_.signal(SIGTERM);
  ASSERT_EQ(gateway_.wait(20s), 0);
  start_with_metrics();
  EXPECT_EQ(guess("alice-secret"), 403);
  EXPECT_TRUE(has_line("sipgw_requests_refused_total{cause=\"banned\"} 1")) << scrape();

  // Lifted while sipgw runs: challenged again, and the right password works.
  ASSERT_EQ(ctl({"ban", "remove", "127.0.0.2/32"}), 0);
  EXPECT_TRUE(eventually([&] { return guess("") == 407; }));
  EXPECT_TRUE(has_line("sipgw_bans_active 0")) << scrape();
}

TEST_F(Security, AnAdminBanTakesEffectWhileSipgwRunsAndNeverShadowsTheAllowlistSilently) {
  provision_basic();
  start_with_metrics();
  EXPECT_NE(ctl({"ban", "add", "127.0.0.0/8"}), 0);  // covers pub1's 127.0.0.1: refused without the override
  ASSERT_EQ(ctl({"ban", "add", "127.0.0.2", "--seconds", "600", "--note", "scanner"}), 0);
  EXPECT_EQ(guess(""), 407);
  EXPECT_TRUE(eventually([&] { return guess("") == 403; })) << scrape();
  EXPECT_TRUE(has_line("sipgw_bans_active 1")) << scrape();
  // Forced over the allowlist, a ban applies to the allowlisted publisher too.
  ASSERT_EQ(ctl({"ban", "add", "127.0.0.1", "--override-allowlist"}), 0);
  PublisherPlan plan;
  plan.expect = 403;
  EXPECT_TRUE(eventually([&] { return place(plan).wait() == 0; }, 5s));
}

}  // namespace
}  // namespace sipgw::integration
