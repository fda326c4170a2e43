// What the public internet does to a SIP port, done to sipgw: a digest
// brute force over INVITE that answers every challenge correctly (SIPVicious'
// svcrack cannot: it sends REGISTER, and with -m INVITE it puts the domain
// in the digest uri), from 127.0.0.2, another "host" on loopback. It must
// never get in, its source must be banned, the ban must survive a restart
// and `sipgwctl ban` must show and lift it while sipgw runs; the allowlisted
// publisher on 127.0.0.1 keeps placing calls throughout.
#include "harness.h"

#include <map>

#include "auth/digest.h"

namespace sipgw::integration {
namespace {

constexpr const char* kCracker = "127.0.0.2";

class Security : public GatewayTest {
 protected:
  bool has_line(const std::string& line) { return GatewayTest::has_line(scrape(), line); }

  // One guess: INVITE, the 407's nonce, INVITE again with a correct digest
  // answer for `password`. The final status of the last INVITE (403 at once
  // when sipgw refuses before challenging; 0 when nothing answers, as for a
  // banned source by default). No password: only the first INVITE (407 when
  // sipgw would listen).
  int guess(const std::string& password, std::chrono::milliseconds limit = 3s) {
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
    auto challenge = probe.final_response(invite(1, ""), limit);
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
  // A banned source hears nothing (security.ban_response drop): past the
  // ban each guess waits out a short limit.
  for (int i = 0; i < 50; ++i) ++statuses[guess("wrong-" + std::to_string(i), statuses[0] > 0 ? 300ms : 3s)];
  const int right = guess("alice-secret", 1s);  // the right password, after 50 wrong ones
  EXPECT_EQ(right, 0) << "the cracker got an answer";
  EXPECT_EQ(statuses[403], 5);  // wrong passwords, answered
  EXPECT_EQ(statuses[0], 45);   // banned: dropped by the kernel, never answered
  EXPECT_EQ(statuses[407], 0);
  EXPECT_TRUE(has_line("sipgw_auto_bans_total 1")) << scrape();
  EXPECT_TRUE(has_line("sipgw_auth_failures_total{domain=\"digest.test\",reason=\"bad_credentials\"} 5")) << scrape();
  // Counted, though sipgw never saw them: the kernel's count at the socket.
  EXPECT_TRUE(eventually([&] { return GatewayTest::metric(scrape(), "sipgw_packets_dropped_total") >= 46; })) << scrape();
  EXPECT_FALSE(has_line("sipgw_requests_refused_total{cause=\"banned\"} 1")) << scrape();
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

  // The ban is stored: after a restart the cracker is still dropped.
  gateway_.signal(SIGTERM);
  ASSERT_EQ(gateway_.wait(20s), 0);
  start_with_metrics();
  EXPECT_EQ(guess("alice-secret", 1s), 0);
  EXPECT_TRUE(eventually([&] { return GatewayTest::metric(scrape(), "sipgw_packets_dropped_total") >= 1; })) << scrape();

  // Lifted while sipgw runs: challenged again, and the right password works.
  ASSERT_EQ(ctl({"ban", "remove", "127.0.0.2/32"}), 0);
  EXPECT_TRUE(eventually([&] { return guess("") == 407; }));
  EXPECT_TRUE(has_line("sipgw_bans_active 0")) << scrape();
}

// With security.ban_response 403 a banned source is answered, as any
// refused caller is.
TEST_F(Security, AnAdminBanTakesEffectWhileSipgwRunsAndNeverShadowsTheAllowlistSilently) {
  provision_basic();
  ASSERT_EQ(ctl({"setting", "set", "security.ban_response", "403"}), 0);
  start_with_metrics();
  EXPECT_NE(ctl({"ban", "add", "127.0.0.0/8"}), 0);  // covers pub1's 127.0.0.1: refused without the override
  ASSERT_EQ(ctl({"ban", "add", "127.0.0.2", "--seconds", "600", "--note", "scanner"}), 0);
  // Challenged (407) until the daemon has read the ban - or 403 at once when
  // it reads it first (it did under ASan in CI): either way one 403 ends it.
  EXPECT_TRUE(eventually([&] { return guess("") == 403; })) << scrape();
  EXPECT_TRUE(has_line("sipgw_bans_active 1")) << scrape();
  EXPECT_TRUE(has_line("sipgw_requests_refused_total{cause=\"banned\"} 1")) << scrape();
  // Forced over the allowlist, a ban applies to the allowlisted publisher too.
  ASSERT_EQ(ctl({"ban", "add", "127.0.0.1", "--override-allowlist"}), 0);
  PublisherPlan plan;
  plan.expect = 403;
  EXPECT_TRUE(eventually([&] { return place(plan).wait() == 0; }, 5s));
}

// Request rate limits per source: over the rate a new request gets 503 with
// Retry-After; refused twice the rate within a second, the source is banned
// as a flood and the kernel drops it. The allowlisted publisher is never
// limited and keeps calling.
TEST_F(Security, ASourceOverItsRateGets503AndAFloodIsDroppedWhileThePublisherCallsOn) {
  provision_basic();
  ASSERT_EQ(ctl({"setting", "set", "security.new_request_rate", "5"}), 0);  // bursts of 10
  start_with_metrics();
  SipEndpoint gateway{"127.0.0.1", sip_port_, false};
  std::map<int, int> statuses;
  std::optional<std::string> refused;
  {
    SipProbe probe(gateway, "127.0.0.3");
    for (int i = 0; i < 15; ++i) {
      auto reply = probe.final_response(sip_request("OPTIONS", gateway, probe.local_port()), 3s);
      const int status = reply ? status_of(*reply) : 0;
      ++statuses[status];
      if (status == 503 && !refused) refused = reply;
    }
  }
  EXPECT_GE(statuses[200], 10);
  EXPECT_LE(statuses[200], 12);
  EXPECT_GE(statuses[503], 3);
  ASSERT_TRUE(refused);
  EXPECT_EQ(header_of(*refused, "Retry-After").value_or(""), "1") << *refused;
  EXPECT_GE(GatewayTest::metric(scrape(), "sipgw_requests_refused_total{cause=\"rate_limited\"}"), 3) << scrape();

  // The allowlisted publisher's own address is never limited.
  {
    SipProbe probe(gateway, "127.0.0.1");
    int answered = 0;
    for (int i = 0; i < 40; ++i) {
      auto reply = probe.final_response(sip_request("OPTIONS", gateway, probe.local_port()), 3s);
      answered += reply && status_of(*reply) == 200;
    }
    EXPECT_EQ(answered, 40);
  }

  // A flood: 200 OPTIONS within 100 ms from 127.0.0.4. What is already in
  // the socket's receive buffer when the ban starts is still answered; the
  // kernel drops the rest.
  {
    SipProbe flooder(gateway, "127.0.0.4");
    for (int i = 0; i < 200; ++i) {
      flooder.send(sip_request("OPTIONS", gateway, flooder.local_port()));
      if (i % 10 == 9) std::this_thread::sleep_for(5ms);
    }
    int answers = 0;
    while (flooder.receive(500ms)) ++answers;
    EXPECT_LT(answers, 150);
    EXPECT_TRUE(has_line("sipgw_requests_refused_total{cause=\"flood\"} 1")) << scrape();
    EXPECT_TRUE(eventually([&] {
      auto bans = ctl_json({"ban", "list"});
      return bans.size() == 1 && bans[0]["cidr"] == "127.0.0.4/32" && bans[0]["note"] == "request flood";
    })) << ctl_json({"ban", "list"}).dump();
    // From now on nothing from it is answered.
    EXPECT_FALSE(flooder.final_response(sip_request("OPTIONS", gateway, flooder.local_port()), 1s));
  }
  auto b = answering_buyer({"pub1", std::nullopt, "camp1"});
  auto p = place({});
  EXPECT_EQ(p.wait(), 0);
  EXPECT_EQ(b.wait(), 0);
}

// A spoofed flood from ever-changing sources cannot be banned source by
// source; each refused INVITE would otherwise be a transaction kept 32 s,
// its answer retransmitted 11 times to whoever the source claims to be.
// Past security.surge_refusals a second, the stacks keep transactions 4 s
// (those already waiting too), and go back to 32 s after 10 calm seconds.
TEST_F(Security, ASurgeOfRefusalsKeepsTransactionsFourSecondsInsteadOfThirtyTwo) {
  provision_basic();
  ASSERT_EQ(ctl({"setting", "set", "security.surge_refusals", "20"}), 0);
  start_with_metrics();
  SipEndpoint gateway{"127.0.0.1", sip_port_, false};
  SipProbe spoofed(gateway, "127.0.0.9");  // not allowlisted; never ACKs
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 30; ++i) spoofed.send(sip_request("INVITE", gateway, spoofed.local_port()));
  std::map<std::string, int> answers;  // 403s by Call-ID
  std::chrono::milliseconds last{0};
  while (auto message = spoofed.receive(6s)) {
    const int status = status_of(*message);
    if (status == 100) continue;  // nua sends 100 Trying to every INVITE before sipgw sees it, once
    EXPECT_EQ(status, 403) << *message;
    ++answers[header_of(*message, "Call-ID").value_or("")];
    last = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  }
  // 32 s transactions would still be answering at 7.5 s (and go on to 11 answers each).
  EXPECT_EQ(answers.size(), 30u);
  for (const auto& [call_id, n] : answers) EXPECT_LE(n, 5) << call_id;
  EXPECT_LT(last, 5s) << "a refused INVITE was still answered after " << last.count() << " ms";
  EXPECT_EQ(GatewayTest::metric(scrape(), "sipgw_refusal_surge"), 1) << scrape();
  EXPECT_TRUE(eventually([&] { return GatewayTest::metric(scrape(), "sipgw_refusal_surge") == 0; }, 8s)) << scrape();
  EXPECT_NE(gateway_.log().find("refusal surge: shedding -> calm"), std::string::npos) << gateway_.log();
}

// Sofia's parser (Debian builds it with assertions on) checks the whole
// header chain at every header it adds: a request with 2,000 header fields
// costs sipgw 18 ms of its one SIP thread, an ordinary one 0.2 ms. No real
// peer sends hundreds: past sip.max_headers (200) the request gets 400 and
// its source is banned like a flood, so the kernel drops what follows.
TEST_F(Security, ARequestWithHundredsOfHeadersIsRefusedAndItsSourceBanned) {
  provision_basic();
  start_with_metrics();
  SipEndpoint gateway{"127.0.0.1", sip_port_, false};
  auto with_headers = [&](const SipProbe& probe, int n) {
    std::string extra;
    for (int i = 0; i < n; ++i) extra += "X-Pad-" + std::to_string(i) + ": y\r\n";
    return sip_request("OPTIONS", gateway, probe.local_port(), "", extra);
  };
  {
    SipProbe ordinary(gateway, "127.0.0.7");
    auto reply = ordinary.final_response(with_headers(ordinary, 150), 3s);
    ASSERT_TRUE(reply);
    EXPECT_EQ(status_of(*reply), 200) << *reply;
  }
  SipProbe attacker(gateway, "127.0.0.6");
  auto reply = attacker.final_response(with_headers(attacker, 1000), 3s);
  ASSERT_TRUE(reply);
  EXPECT_EQ(status_of(*reply), 400) << *reply;
  EXPECT_NE(reply->find("Too Many Headers"), std::string::npos) << *reply;
  EXPECT_TRUE(eventually([&] {
    auto bans = ctl_json({"ban", "list"});
    return bans.size() == 1 && bans[0]["cidr"] == "127.0.0.6/32" && bans[0]["note"] == "too many headers";
  })) << ctl_json({"ban", "list"}).dump();
  // From now on the kernel drops it, even an ordinary request.
  EXPECT_FALSE(attacker.final_response(sip_request("OPTIONS", gateway, attacker.local_port()), 1s));
  EXPECT_TRUE(has_line("sipgw_requests_refused_total{cause=\"too_many_headers\"} 1")) << scrape();
}

}  // namespace
}  // namespace sipgw::integration
