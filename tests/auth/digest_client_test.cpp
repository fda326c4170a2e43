#include "auth/digest_client.h"

#include "auth/digest.h"

#include <gtest/gtest.h>

namespace sipgw::auth {
namespace {

std::string param(const std::string& header, const std::string& name) {
  auto at = header.find(name + "=");
  if (at == std::string::npos) return "<absent>";
  at += name.size() + 1;
  if (header[at] == '"') {
    auto end = header.find('"', at + 1);
    while (header[end - 1] == '\\') end = header.find('"', end + 1);
    return header.substr(at + 1, end - at - 1);
  }
  return header.substr(at, header.find(',', at) - at);
}

TEST(DigestClient, AnswersTheRfc2617Example) {
  auto c = parse_digest_challenge("Digest", {"realm=\"testrealm@host.com\"", "qop=\"auth,auth-int\"",
                                             "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\"",
                                             "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""});
  ASSERT_TRUE(c) << c.error();
  auto h = digest_authorization(*c, "Mufasa", "Circle Of Life", {"GET", "/dir/index.html", "0a4f113b"});
  ASSERT_TRUE(h) << h.error();
  EXPECT_EQ(param(*h, "response"), "6629fae49393a05397450978507c4ef1");
  EXPECT_EQ(param(*h, "qop"), "auth");
  EXPECT_EQ(param(*h, "nc"), "00000001");
  EXPECT_EQ(param(*h, "cnonce"), "0a4f113b");
  EXPECT_EQ(param(*h, "opaque"), "5ccc069c403ebaf9f0171e9517f40e41");
  EXPECT_EQ(param(*h, "uri"), "/dir/index.html");
  EXPECT_EQ(param(*h, "algorithm"), "<absent>");  // only echoed when challenged with one
  EXPECT_EQ(h->find("Circle"), std::string::npos);
}

TEST(DigestClient, AnswersTheRfc7616Sha256Example) {
  auto c = parse_digest_challenge("digest", {"realm=\"http-auth@example.org\"", "qop=\"auth, auth-int\"",
                                             "algorithm=SHA-256",
                                             "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\"",
                                             "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""});
  ASSERT_TRUE(c) << c.error();
  auto h = digest_authorization(*c, "Mufasa", "Circle of Life",
                                {"GET", "/dir/index.html", "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"});
  ASSERT_TRUE(h) << h.error();
  EXPECT_EQ(param(*h, "response"), "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
  EXPECT_EQ(param(*h, "algorithm"), "SHA-256");
}

TEST(DigestClient, ColonsAndQuotesInCredentialsAreCarriedWhole) {
  // NUTAG_AUTH would cut "pa:ss" at the colon; the hash must cover all of it.
  auto c = parse_digest_challenge("Digest", {"realm=\"buyer.test\"", "nonce=\"abc\""});
  ASSERT_TRUE(c);
  const std::string user = "gw:user", password = "pa:ss w\"o\\rd:";
  auto h = digest_authorization(*c, user, password, {"INVITE", "sip:agent@127.0.0.1:5070", ""});
  ASSERT_TRUE(h) << h.error();
  // RFC 2069 form (no qop): H(HA1:nonce:HA2).
  auto expected = hex_hash(DigestAlgorithm::md5, ha1(DigestAlgorithm::md5, user, "buyer.test", password) + ":abc:" +
                                                     hex_hash(DigestAlgorithm::md5, "INVITE:sip:agent@127.0.0.1:5070"));
  EXPECT_EQ(param(*h, "response"), expected);
  EXPECT_EQ(param(*h, "username"), "gw:user");
  EXPECT_EQ(param(*h, "qop"), "<absent>");
  EXPECT_EQ(h->find("pa:ss"), std::string::npos);
}

TEST(DigestClient, SessionAlgorithmHashesTheNonceIntoHa1) {
  auto c = parse_digest_challenge("Digest", {"realm=r", "nonce=n", "qop=auth", "algorithm=MD5-sess"});
  ASSERT_TRUE(c);
  auto h = digest_authorization(*c, "u", "p", {"INVITE", "sip:x@y", "cn"});
  ASSERT_TRUE(h);
  auto sess = hex_hash(DigestAlgorithm::md5, ha1(DigestAlgorithm::md5, "u", "r", "p") + ":n:cn");
  auto expected = digest_response(DigestAlgorithm::md5, sess, {"INVITE", "sip:x@y", "n", "00000001", "cn", "auth"});
  EXPECT_EQ(param(*h, "response"), expected);
  EXPECT_EQ(param(*h, "algorithm"), "MD5-sess");
}

TEST(DigestClient, RefusesWhatItCannotAnswer) {
  EXPECT_FALSE(parse_digest_challenge("Basic", {"realm=\"r\""}));
  EXPECT_FALSE(parse_digest_challenge("Digest", {"realm=\"r\""}));  // no nonce
  EXPECT_FALSE(parse_digest_challenge("Digest", {"nonce=\"n\""}));  // no realm
  auto int_only = parse_digest_challenge("Digest", {"realm=r", "nonce=n", "qop=\"auth-int\""});
  ASSERT_TRUE(int_only);
  EXPECT_FALSE(digest_authorization(*int_only, "u", "p", {"INVITE", "sip:x@y", "c"}));
  auto unknown = parse_digest_challenge("Digest", {"realm=r", "nonce=n", "algorithm=SHA-512-256"});
  ASSERT_TRUE(unknown);
  EXPECT_FALSE(digest_authorization(*unknown, "u", "p", {"INVITE", "sip:x@y", "c"}));
}

TEST(DigestClient, APeersValuesCannotBreakTheHeader) {
  auto c = parse_digest_challenge("Digest", {"realm=\"a\\\"b\"", "nonce=\"n\r\nX-Evil: 1\""});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->realm, "a\"b");
  auto h = digest_authorization(*c, "u", "p", {"INVITE", "sip:x@y", ""});
  ASSERT_TRUE(h);
  EXPECT_EQ(h->find('\r'), std::string::npos);
  EXPECT_EQ(h->find('\n'), std::string::npos);
  EXPECT_NE(h->find("realm=\"a\\\"b\""), std::string::npos);
}

}  // namespace
}  // namespace sipgw::auth
