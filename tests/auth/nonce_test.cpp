#include "auth/nonce.h"

#include <gtest/gtest.h>

namespace sipgw::auth {
namespace {

NonceIssuer::Secret issuer_secret(unsigned char fill) {
  NonceIssuer::Secret s{};
  s.fill(fill);
  return s;
}

NonceIssuer issuer(unsigned char fill) {
  NonceIssuer::Secret s{};
  s.fill(fill);
  return NonceIssuer(s);
}

TEST(Nonce, FreshNonceVerifies) {
  auto i = issuer(1);
  auto n = i.issue("realm", 1000);
  EXPECT_EQ(n.size(), 64u);
  EXPECT_EQ(i.verify(n, "realm", 1000, 300), NonceVerdict::valid);
  EXPECT_EQ(i.verify(n, "realm", 1300, 300), NonceVerdict::valid);
}

TEST(Nonce, ASharedSecretVerifiesEverywhereAndTheReplacedOneUntilTheNextRotation) {
  auto a = issuer(1), b = issuer(2);  // two gateways, each with its own secret
  auto shared = NonceIssuer::secret_from_hex(std::string(64, '7'));
  ASSERT_TRUE(shared);
  const std::string before = a.issue("realm", 1000);
  a.use_secrets(*shared, issuer_secret(1));
  b.use_secrets(*shared, issuer_secret(2));
  const std::string n = a.issue("realm", 1000);
  EXPECT_EQ(b.verify(n, "realm", 1000, 300), NonceVerdict::valid);  // issued by a, verified by b
  EXPECT_EQ(a.verify(before, "realm", 1000, 300), NonceVerdict::valid);  // the replaced secret still verifies
  auto next = NonceIssuer::secret_from_hex(std::string(64, '8'));
  a.use_secrets(*next, shared);
  EXPECT_EQ(a.verify(before, "realm", 1000, 300), NonceVerdict::invalid);  // two rotations ago
  EXPECT_EQ(a.verify(n, "realm", 1000, 300), NonceVerdict::valid);
}

TEST(Nonce, SecretsAreSixtyFourHexCharacters) {
  EXPECT_TRUE(NonceIssuer::secret_from_hex(std::string(32, 'a') + std::string(32, 'B')));
  EXPECT_FALSE(NonceIssuer::secret_from_hex(std::string(62, 'a')));
  EXPECT_FALSE(NonceIssuer::secret_from_hex(std::string(63, 'a') + "x"));
  EXPECT_FALSE(NonceIssuer::secret_from_hex(std::string(62, 'a') + "-1"));
}

TEST(Nonce, ExpiredNonceIsStaleNotInvalid) {
  auto i = issuer(1);
  auto n = i.issue("realm", 1000);
  EXPECT_EQ(i.verify(n, "realm", 1301, 300), NonceVerdict::stale);
}

TEST(Nonce, ForgedOtherRealmOrOtherSecretIsInvalid) {
  auto i = issuer(1);
  auto n = i.issue("realm", 1000);
  EXPECT_EQ(i.verify(n, "other", 1000, 300), NonceVerdict::invalid);
  EXPECT_EQ(issuer(2).verify(n, "realm", 1000, 300), NonceVerdict::invalid);
  std::string tampered = n;
  tampered[3] = tampered[3] == '0' ? '1' : '0';  // change the timestamp
  EXPECT_EQ(i.verify(tampered, "realm", 1000, 300), NonceVerdict::invalid);
  EXPECT_EQ(i.verify("", "realm", 1000, 300), NonceVerdict::invalid);
  EXPECT_EQ(i.verify(n.substr(1), "realm", 1000, 300), NonceVerdict::invalid);
}

TEST(Nonce, NoncesDiffer) {
  auto i = NonceIssuer::with_random_secret();
  EXPECT_NE(i.issue("r", 5), i.issue("r", 5));
}

TEST(NonceCount, RepeatedOrLowerCountIsRefused) {
  NonceCountTracker t;
  EXPECT_TRUE(t.accept("n1", 1, 100, 300));
  EXPECT_FALSE(t.accept("n1", 1, 100, 300));
  EXPECT_TRUE(t.accept("n1", 2, 101, 300));
  EXPECT_FALSE(t.accept("n1", 1, 101, 300));
  EXPECT_TRUE(t.accept("n2", 1, 101, 300));
}

TEST(NonceCount, ForgetsExpiredNonces) {
  NonceCountTracker t;
  t.accept("n1", 1, 100, 300);
  EXPECT_EQ(t.size(), 1u);
  t.accept("n2", 1, 1000, 300);
  EXPECT_EQ(t.size(), 1u);
}

}  // namespace
}  // namespace sipgw::auth
