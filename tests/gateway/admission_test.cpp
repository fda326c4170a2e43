#include "gateway/admission.h"

#include "auth/digest.h"

#include <gtest/gtest.h>

namespace sipgw::gateway {
namespace {

using routing::AuthMode;

constexpr std::int64_t kNow = 1'800'000'000;

class Admission : public ::testing::Test {
 protected:
  void SetUp() override {
    add_domain("ip.test", AuthMode::ip);
    add_domain("digest.test", AuthMode::digest);
    add_domain("mixed.test", AuthMode::digest_or_ip);
    s.publishers["pub1"] = {"pub1", "", true, std::nullopt};
    s.publishers["pub2"] = {"pub2", "", true, std::nullopt};
    s.publishers["off"] = {"off", "", false, std::nullopt};
    for (auto realm : {"digest.test", "mixed.test"}) {
      routing::Credential c{"alice", realm, "pub1", auth::ha1(auth::DigestAlgorithm::md5, "alice", realm, "pw"),
                            auth::ha1(auth::DigestAlgorithm::sha256, "alice", realm, "pw")};
      s.credentials[routing::Snapshot::credential_key("alice", realm)] = c;
    }
    s.allowlist.insert(*auth::parse_cidr("192.0.2.0/24"), "pub1");
    s.allowlist.insert(*auth::parse_cidr("198.51.100.7"), "off");
    s.campaigns["c1"] = {"c1", "", 30, {}, std::nullopt};
    s.numbers["+18882223333"] = {"+18882223333", "c1", std::nullopt, true};
    s.numbers["+18882224444"] = {"+18882224444", "c1", std::string("pub2"), true};
    s.numbers["+18882225555"] = {"+18882225555", "c1", std::nullopt, false};
  }
  void add_domain(const std::string& name, AuthMode mode) {
    s.domains[name] = {name, mode, name, {auth::DigestAlgorithm::md5, auth::DigestAlgorithm::sha256}};
  }
  InboundInvite invite(const std::string& host, const std::string& source, const std::string& user = "+18882223333") {
    InboundInvite i;
    i.request_host = host;
    i.request_user = user;
    i.request_uri = "sip:" + user + "@" + host;
    i.source = *auth::parse_ip(source);
    return i;
  }
  // A correct digest answer to a fresh challenge.
  DigestCredentials answer(const InboundInvite& i, const std::string& realm, auth::DigestAlgorithm a,
                           const std::string& password = "pw", const std::string& nc = "00000001",
                           std::int64_t issued = kNow) {
    DigestCredentials c{"alice", realm, digest.issuer.issue(realm, issued), i.request_uri, i.request_uri, "",
                        std::string(auth::to_string(a)), "auth", nc, "cn0nce"};
    c.response = auth::digest_response(a, auth::ha1(a, "alice", realm, password),
                                       {"INVITE", c.uri_as_sent, c.nonce, c.nc, c.cnonce, c.qop});
    return c;
  }
  Rejected rejected(const Decision& d) {
    EXPECT_TRUE(std::holds_alternative<Rejected>(d));
    return std::holds_alternative<Rejected>(d) ? std::get<Rejected>(d) : Rejected{0, "", RejectReason::unknown_domain, "not rejected"};
  }

  routing::Snapshot s;
  DigestState digest{auth::NonceIssuer::with_random_secret(), {}};
};

TEST_F(Admission, UnknownDomainIsRefusedLikeAnUnknownSourceAndNeverRelayed) {
  auto r = rejected(admit(s, invite("evil.example.com", "192.0.2.1"), digest, kNow));
  EXPECT_EQ(r.status, 403);
  EXPECT_STREQ(r.phrase, "Forbidden");  // no hint of which domains exist
  EXPECT_EQ(to_string(r.reason), "unknown_domain");
  auto ip = rejected(admit(s, invite("ip.test", "203.0.113.99"), digest, kNow));
  EXPECT_EQ(ip.status, r.status);
  EXPECT_STREQ(ip.phrase, r.phrase);
}

TEST_F(Admission, IpDomainUsesTheLongestMatch) {
  auto d = admit(s, invite("IP.TEST", "192.0.2.9"), digest, kNow);
  ASSERT_TRUE(std::holds_alternative<Admitted>(d));
  EXPECT_EQ(std::get<Admitted>(d).publisher_id, "pub1");
  EXPECT_EQ(std::get<Admitted>(d).campaign->id, "c1");
  EXPECT_EQ(rejected(admit(s, invite("ip.test", "203.0.113.1"), digest, kNow)).status, 403);
}

TEST_F(Admission, NumberRules) {
  EXPECT_EQ(rejected(admit(s, invite("ip.test", "192.0.2.9", "18882223333"), digest, kNow)).status, 484);
  EXPECT_EQ(rejected(admit(s, invite("ip.test", "192.0.2.9", "+18880000000"), digest, kNow)).status, 404);
  EXPECT_EQ(to_string(rejected(admit(s, invite("ip.test", "192.0.2.9", "+18882225555"), digest, kNow)).reason), "number_disabled");
  EXPECT_EQ(to_string(rejected(admit(s, invite("ip.test", "192.0.2.9", "+18882224444"), digest, kNow)).reason), "number_restricted");
  EXPECT_EQ(to_string(rejected(admit(s, invite("ip.test", "198.51.100.7"), digest, kNow)).reason), "publisher_disabled");
}

TEST_F(Admission, DigestWithoutCredentialsIsChallengedInDomainOrder) {
  auto d = admit(s, invite("digest.test", "192.0.2.9"), digest, kNow);
  ASSERT_TRUE(std::holds_alternative<Challenge>(d));
  auto headers = challenge_headers(std::get<Challenge>(d), digest, kNow);
  ASSERT_EQ(headers.size(), 2u);
  EXPECT_NE(headers[0].find("algorithm=MD5"), std::string::npos);
  EXPECT_NE(headers[1].find("algorithm=SHA-256"), std::string::npos);
  EXPECT_NE(headers[0].find("qop=\"auth\""), std::string::npos);
  EXPECT_NE(headers[0].find("realm=\"digest.test\""), std::string::npos);
  EXPECT_EQ(headers[0].find("stale"), std::string::npos);
}

TEST_F(Admission, ValidDigestPassesForBothAlgorithms) {
  for (auto a : {auth::DigestAlgorithm::md5, auth::DigestAlgorithm::sha256}) {
    auto i = invite("digest.test", "203.0.113.1");
    i.credentials.push_back(answer(i, "digest.test", a));
    auto d = admit(s, i, digest, kNow);
    ASSERT_TRUE(std::holds_alternative<Admitted>(d)) << auth::to_string(a);
    EXPECT_EQ(std::get<Admitted>(d).publisher_id, "pub1");
  }
}

TEST_F(Admission, WrongPasswordUnknownUserAndWrongUriAre403) {
  auto i = invite("digest.test", "203.0.113.1");
  i.credentials.push_back(answer(i, "digest.test", auth::DigestAlgorithm::md5, "nope"));
  EXPECT_EQ(to_string(rejected(admit(s, i, digest, kNow)).reason), "bad_credentials");

  auto u = invite("digest.test", "203.0.113.1");
  u.credentials.push_back(answer(u, "digest.test", auth::DigestAlgorithm::md5));
  u.credentials[0].username = "mallory";
  EXPECT_EQ(rejected(admit(s, u, digest, kNow)).status, 403);

  auto w = invite("digest.test", "203.0.113.1");
  w.credentials.push_back(answer(w, "digest.test", auth::DigestAlgorithm::md5));
  w.request_uri = "sip:+18882224444@digest.test";  // answer computed for another URI
  EXPECT_EQ(rejected(admit(s, w, digest, kNow)).status, 403);
}

TEST_F(Admission, ExpiredNonceIsChallengedAsStale) {
  auto i = invite("digest.test", "203.0.113.1");
  i.credentials.push_back(answer(i, "digest.test", auth::DigestAlgorithm::md5, "pw", "00000001", kNow - 3600));
  auto d = admit(s, i, digest, kNow);
  ASSERT_TRUE(std::holds_alternative<Challenge>(d));
  EXPECT_TRUE(std::get<Challenge>(d).stale);
  EXPECT_NE(challenge_headers(std::get<Challenge>(d), digest, kNow)[0].find("stale=true"), std::string::npos);
}

TEST_F(Admission, ANonceBuysOneGuess) {
  auto wrong = invite("digest.test", "203.0.113.1");
  wrong.credentials.push_back(answer(wrong, "digest.test", auth::DigestAlgorithm::md5, "guess-1"));
  EXPECT_EQ(to_string(rejected(admit(s, wrong, digest, kNow)).reason), "bad_credentials");
  // The right password on the same nonce is not even weighed: a new challenge.
  auto right = invite("digest.test", "203.0.113.1");
  right.credentials.push_back(answer(right, "digest.test", auth::DigestAlgorithm::md5, "pw", "00000002"));
  right.credentials[0].nonce = wrong.credentials[0].nonce;
  right.credentials[0].response =
      auth::digest_response(auth::DigestAlgorithm::md5, auth::ha1(auth::DigestAlgorithm::md5, "alice", "digest.test", "pw"),
                            {"INVITE", right.request_uri, right.credentials[0].nonce, "00000002", "cn0nce", "auth"});
  auto d = admit(s, right, digest, kNow);
  ASSERT_TRUE(std::holds_alternative<Challenge>(d));
  EXPECT_FALSE(std::get<Challenge>(d).stale);
  // A fresh nonce works.
  auto fresh = invite("digest.test", "203.0.113.1");
  fresh.credentials.push_back(answer(fresh, "digest.test", auth::DigestAlgorithm::md5));
  EXPECT_TRUE(std::holds_alternative<Admitted>(admit(s, fresh, digest, kNow)));
}

TEST_F(Admission, UnknownUserAndWrongPasswordGetTheSameAnswer) {
  auto wrong = invite("digest.test", "203.0.113.1");
  wrong.credentials.push_back(answer(wrong, "digest.test", auth::DigestAlgorithm::md5, "nope"));
  auto unknown = invite("digest.test", "203.0.113.1");
  unknown.credentials.push_back(answer(unknown, "digest.test", auth::DigestAlgorithm::md5));
  unknown.credentials[0].username = "mallory";
  auto a = rejected(admit(s, wrong, digest, kNow));
  auto b = rejected(admit(s, unknown, digest, kNow));
  EXPECT_EQ(a.status, b.status);
  EXPECT_STREQ(a.phrase, b.phrase);
  EXPECT_STREQ(a.phrase, "Forbidden");
}

TEST_F(Admission, TheHashCoversTheUriAsTheClientWroteIt) {
  // The client escaped the '+': Sofia's Request-URI says "+", the client's
  // hash says "%2B". Both the comparison and the hash must hold.
  auto i = invite("digest.test", "203.0.113.1");
  const std::string escaped = "sip:%2B18882223333@digest.test";
  DigestCredentials c = answer(i, "digest.test", auth::DigestAlgorithm::md5);
  c.uri_as_sent = escaped;
  c.response = auth::digest_response(auth::DigestAlgorithm::md5, auth::ha1(auth::DigestAlgorithm::md5, "alice", "digest.test", "pw"),
                                     {"INVITE", escaped, c.nonce, c.nc, c.cnonce, c.qop});
  i.credentials.push_back(c);
  EXPECT_TRUE(std::holds_alternative<Admitted>(admit(s, i, digest, kNow)));
}

TEST_F(Admission, ARepeatedNonceCountGetsAFreshStaleChallenge) {
  auto i = invite("digest.test", "203.0.113.1");
  i.credentials.push_back(answer(i, "digest.test", auth::DigestAlgorithm::md5));
  EXPECT_TRUE(std::holds_alternative<Admitted>(admit(s, i, digest, kNow)));
  auto again = admit(s, i, digest, kNow);
  ASSERT_TRUE(std::holds_alternative<Challenge>(again));
  EXPECT_TRUE(std::get<Challenge>(again).stale);
}

TEST_F(Admission, Sha256OnlyDomainDoesNotAcceptMd5) {
  s.domains["digest.test"].algorithms = {auth::DigestAlgorithm::sha256};
  auto i = invite("digest.test", "203.0.113.1");
  i.credentials.push_back(answer(i, "digest.test", auth::DigestAlgorithm::md5));
  auto d = admit(s, i, digest, kNow);
  ASSERT_TRUE(std::holds_alternative<Challenge>(d));
  auto headers = challenge_headers(std::get<Challenge>(d), digest, kNow);
  ASSERT_EQ(headers.size(), 1u);
  EXPECT_NE(headers[0].find("SHA-256"), std::string::npos);
}

TEST_F(Admission, DigestOrIpSkipsTheChallengeForAllowlistedSources) {
  EXPECT_TRUE(std::holds_alternative<Admitted>(admit(s, invite("mixed.test", "192.0.2.5"), digest, kNow)));
  EXPECT_TRUE(std::holds_alternative<Challenge>(admit(s, invite("mixed.test", "203.0.113.5"), digest, kNow)));
  // A digest-only domain ignores the allowlist.
  EXPECT_TRUE(std::holds_alternative<Challenge>(admit(s, invite("digest.test", "192.0.2.5"), digest, kNow)));
}

}  // namespace
}  // namespace sipgw::gateway

namespace sipgw::gateway {
namespace {

TEST_F(Admission, FrontEndHeaderIsTrustedOnlyFromAFrontEnd) {
  ASSERT_TRUE(routing::apply_setting(s.settings, "front_end.addresses", "10.9.0.0/16, 2001:db8::1"));
  // Through the front end: judged by the publisher's address it names.
  auto via_lb = invite("ip.test", "10.9.0.5");
  via_lb.forwarded_source = "192.0.2.9";
  auto d = admit(s, via_lb, digest, kNow);
  ASSERT_TRUE(std::holds_alternative<Admitted>(d));
  EXPECT_EQ(std::get<Admitted>(d).publisher_id, "pub1");
  // The front end itself is not a publisher.
  EXPECT_EQ(to_string(rejected(admit(s, invite("ip.test", "10.9.0.5"), digest, kNow)).reason), "ip_not_allowed");
  // A forged header from anyone else is ignored.
  auto forged = invite("ip.test", "203.0.113.1");
  forged.forwarded_source = "192.0.2.9";
  EXPECT_EQ(to_string(rejected(admit(s, forged, digest, kNow)).reason), "ip_not_allowed");
  EXPECT_EQ(auth::to_string(publisher_address(s, forged)), "203.0.113.1");
  // A front end naming garbage leaves the front end's own address.
  via_lb.forwarded_source = "not-an-ip";
  EXPECT_EQ(to_string(rejected(admit(s, via_lb, digest, kNow)).reason), "ip_not_allowed");
  // IPv6 front end.
  auto v6 = invite("ip.test", "2001:db8::1");
  v6.forwarded_source = "192.0.2.77";
  EXPECT_TRUE(std::holds_alternative<Admitted>(admit(s, v6, digest, kNow)));
}

TEST_F(Admission, WithoutFrontEndsTheHeaderChangesNothing) {
  auto i = invite("ip.test", "203.0.113.1");
  i.forwarded_source = "192.0.2.9";
  EXPECT_EQ(rejected(admit(s, i, digest, kNow)).status, 403);
}

}  // namespace
}  // namespace sipgw::gateway

namespace sipgw::gateway {
namespace {

// The steps that do not depend on the publisher's identity come first and
// cost no digest work; the publisher's cap comes last.
class AdmissionDoor : public ::testing::Test {
 protected:
  AdmissionDoor() {
    s.domains["ip.test"] = routing::Domain{"ip.test", routing::AuthMode::ip, "ip.test", {auth::DigestAlgorithm::md5}};
    s.publishers["p"] = routing::Publisher{"p", "P", true, std::nullopt};
    s.allowlist.insert(*auth::parse_cidr("192.0.2.0/24"), "p");
    s.campaigns["c"].id = "c";
    s.numbers["+18882223333"] = routing::Number{"+18882223333", "c", std::nullopt, true};
  }
  InboundInvite invite(std::optional<unsigned long> max_forwards = std::nullopt) {
    InboundInvite i;
    i.request_host = "ip.test";
    i.request_user = "+18882223333";
    i.source = *auth::parse_ip("192.0.2.9");
    i.max_forwards = max_forwards;
    return i;
  }
  routing::Snapshot s;
  DigestState digest{auth::NonceIssuer::with_random_secret(), {}};
};

TEST_F(AdmissionDoor, DrainingRefusesWith503AndRetryAfter) {
  Door door{true, 7, {}};
  auto d = admit(s, invite(), digest, 0, door);
  auto* r = std::get_if<Rejected>(&d);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->reason, RejectReason::draining);
  EXPECT_EQ(r->retry_after, 7);
  EXPECT_TRUE(std::holds_alternative<Admitted>(admit(s, invite(), digest, 0, Door{})));
}

TEST_F(AdmissionDoor, MaxForwardsOfOneOrLessIs483) {
  for (unsigned long hops : {0ul, 1ul}) {
    auto d = admit(s, invite(hops), digest, 0);
    ASSERT_TRUE(std::holds_alternative<Rejected>(d)) << hops;
    EXPECT_EQ(std::get<Rejected>(d).status, 483);
    EXPECT_EQ(std::get<Rejected>(d).reason, RejectReason::too_many_hops);
  }
  EXPECT_TRUE(std::holds_alternative<Admitted>(admit(s, invite(2), digest, 0)));
}

TEST_F(AdmissionDoor, APublisherAtItsCapGets486) {
  s.publishers["p"].concurrency_cap = 2;
  std::int64_t calls = 2;
  Door door{false, 0, [&](const std::string& id) { return id == "p" ? calls : 0; }};
  auto d = admit(s, invite(), digest, 0, door);
  ASSERT_TRUE(std::holds_alternative<Rejected>(d));
  EXPECT_EQ(std::get<Rejected>(d).status, 486);
  EXPECT_EQ(std::get<Rejected>(d).reason, RejectReason::publisher_at_cap);
  EXPECT_FALSE(is_auth_failure(RejectReason::publisher_at_cap));
  calls = 1;
  EXPECT_TRUE(std::holds_alternative<Admitted>(admit(s, invite(), digest, 0, door)));
}

}  // namespace
}  // namespace sipgw::gateway
