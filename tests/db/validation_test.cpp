#include "db/validation.h"

#include <gtest/gtest.h>

namespace sipgw::db {
namespace {

std::string why(const AdminResult<void>& r) { return r ? "" : r.error().message; }

TEST(Validation, Ids) {
  EXPECT_TRUE(check_id("buyer", "b-1.x"));
  EXPECT_EQ(why(check_id("buyer", "")), "buyer id must be 1 to 128 characters");
  EXPECT_EQ(why(check_id("buyer", std::string(129, 'x'))), "buyer id must be 1 to 128 characters");
  for (auto bad : {"a b", "a[1]", "tab\tid", "nl\n"}) {
    EXPECT_EQ(why(check_id("publisher", bad)),
              "publisher id '" + std::string(bad) + "' may not contain spaces, control characters or brackets");
  }
}

TEST(Validation, UsernamesInAndOut) {
  // Inbound: HA1 = H(user:realm:password), so no colon.
  EXPECT_TRUE(check_inbound_user("alice"));
  EXPECT_FALSE(check_inbound_user("al:ice"));
  EXPECT_FALSE(check_inbound_user("al\"ice"));
  EXPECT_FALSE(check_inbound_user(""));
  // Outbound: sipgw computes the digest itself, so a colon is fine.
  EXPECT_TRUE(check_outbound_user("gw:user name"));
  EXPECT_EQ(why(check_outbound_user("a\"b")), "auth user is empty or has a quote, backslash or control character");
  EXPECT_FALSE(check_outbound_user("a\\b"));
  EXPECT_FALSE(check_outbound_user("a\rb"));
  EXPECT_TRUE(check_password("p:a ss\"w\\rd"));
  EXPECT_EQ(why(check_password("")), "password is empty");
  EXPECT_EQ(why(check_password("a\nb")), "password has a control character");
}

TEST(Validation, RealmsHostsRangesCaps) {
  EXPECT_TRUE(check_realm("sip.example.com"));
  EXPECT_EQ(why(check_realm("a\"b")), "realm 'a\"b' is empty or has a quote or control character");
  EXPECT_TRUE(check_host("domain", "[2001:db8::1]"));
  EXPECT_EQ(why(check_host("domain", "x y")), "domain 'x y' is not a host name");
  EXPECT_TRUE(check_range("ring timeout", 600, 1, 600, "seconds"));
  EXPECT_EQ(why(check_range("ring timeout", 0, 1, 600, "seconds")), "ring timeout must be 1 to 600 seconds");
  EXPECT_EQ(why(check_range("weight", 0, 1, 1000000)), "weight must be 1 to 1000000");
  EXPECT_TRUE(check_cap("daily cap", CapChange{}));
  EXPECT_TRUE(check_cap("daily cap", CapChange{std::optional<std::int64_t>{}}));
  EXPECT_EQ(why(check_cap("daily cap", CapChange{std::optional<std::int64_t>{-1}})), "daily cap must not be negative");
  EXPECT_EQ(lower("SIP.Example.COM"), "sip.example.com");
}

}  // namespace
}  // namespace sipgw::db
