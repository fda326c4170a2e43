#include "auth/digest.h"

#include <gtest/gtest.h>

namespace sipgw::auth {
namespace {

// RFC 7616 section 3.9.1: the worked example, once per algorithm.
constexpr const char* kUser = "Mufasa";
constexpr const char* kRealm = "http-auth@example.org";
constexpr const char* kPassword = "Circle of Life";
constexpr DigestAnswer kAnswer{"GET",
                               "/dir/index.html",
                               "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
                               "00000001",
                               "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
                               "auth"};

TEST(Digest, Rfc7616Md5Response) {
  auto h = ha1(DigestAlgorithm::md5, kUser, kRealm, kPassword);
  EXPECT_EQ(digest_response(DigestAlgorithm::md5, h, kAnswer), "8ca523f5e9506fed4657c9700eebdbec");
}

TEST(Digest, Rfc7616Sha256Response) {
  auto h = ha1(DigestAlgorithm::sha256, kUser, kRealm, kPassword);
  EXPECT_EQ(digest_response(DigestAlgorithm::sha256, h, kAnswer),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

TEST(Digest, Ha1IsHashOfUserRealmPassword) {
  EXPECT_EQ(ha1(DigestAlgorithm::md5, "u", "r", "p"), hex_hash(DigestAlgorithm::md5, "u:r:p"));
  EXPECT_EQ(hex_hash(DigestAlgorithm::md5, ""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(hex_hash(DigestAlgorithm::sha256, "abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Digest, WithoutQopUsesRfc2069Form) {
  DigestAnswer a{"INVITE", "sip:+18882223333@example.com", "abc", "", "", ""};
  auto h = ha1(DigestAlgorithm::md5, "u", "r", "p");
  auto ha2 = hex_hash(DigestAlgorithm::md5, "INVITE:sip:+18882223333@example.com");
  EXPECT_EQ(digest_response(DigestAlgorithm::md5, h, a), hex_hash(DigestAlgorithm::md5, h + ":abc:" + ha2));
}

TEST(Digest, AlgorithmNames) {
  EXPECT_EQ(parse_digest_algorithm("md5"), DigestAlgorithm::md5);
  EXPECT_EQ(parse_digest_algorithm("SHA-256"), DigestAlgorithm::sha256);
  EXPECT_FALSE(parse_digest_algorithm("SHA-512-256"));
  EXPECT_EQ(to_string(DigestAlgorithm::sha256), "SHA-256");
}

TEST(Digest, AlgorithmListKeepsOrderAndRefusesJunk) {
  auto list = parse_algorithm_list("MD5, SHA-256");
  ASSERT_TRUE(list);
  EXPECT_EQ(*list, (std::vector{DigestAlgorithm::md5, DigestAlgorithm::sha256}));
  EXPECT_EQ(format_algorithm_list(*parse_algorithm_list("SHA-256")), "SHA-256");
  EXPECT_FALSE(parse_algorithm_list(""));
  EXPECT_FALSE(parse_algorithm_list("MD5,MD5"));
  EXPECT_FALSE(parse_algorithm_list("MD5,SHA1"));
}

TEST(Digest, ConstantTimeEqual) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
}

}  // namespace
}  // namespace sipgw::auth
