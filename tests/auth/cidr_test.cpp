#include "auth/cidr.h"

#include <gtest/gtest.h>

namespace sipgw::auth {
namespace {

IpAddress ip(const char* text) {
  auto a = parse_ip(text);
  EXPECT_TRUE(a) << text;
  return a.value_or(IpAddress{});
}

Cidr cidr(const char* text) {
  auto c = parse_cidr(text);
  EXPECT_TRUE(c) << text << ": " << (c ? "" : c.error());
  return c.value_or(Cidr{});
}

TEST(Cidr, ParsesAndNormalizesText) {
  EXPECT_EQ(to_string(cidr("10.0.0.0/8")), "10.0.0.0/8");
  EXPECT_EQ(to_string(cidr("192.0.2.7")), "192.0.2.7/32");
  EXPECT_EQ(to_string(cidr("2001:DB8:0:0::/32")), "2001:db8::/32");
  EXPECT_EQ(to_string(cidr("2001:db8::1")), "2001:db8::1/128");
  EXPECT_EQ(to_string(cidr("0.0.0.0/0")), "0.0.0.0/0");
  EXPECT_EQ(to_string(cidr("::/0")), "::/0");
  EXPECT_EQ(to_string(cidr("[2001:db8::]/48")), "2001:db8::/48");
}

TEST(Cidr, MappedIpv6PrefixIsIpv4) {
  EXPECT_EQ(to_string(cidr("::ffff:10.0.0.0/104")), "10.0.0.0/8");
  EXPECT_EQ(to_string(cidr("::ffff:192.0.2.1")), "192.0.2.1/32");
  EXPECT_FALSE(parse_cidr("::ffff:0.0.0.0/80"));
}

TEST(Cidr, RefusesHostBitsNamingTheNormalizedPrefix) {
  auto c = parse_cidr("10.1.2.3/8");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("did you mean 10.0.0.0/8"), std::string::npos) << c.error();
  auto v6 = parse_cidr("2001:db8::1/32");
  ASSERT_FALSE(v6);
  EXPECT_NE(v6.error().find("2001:db8::/32"), std::string::npos) << v6.error();
}

TEST(Cidr, RefusesMalformed) {
  for (const char* bad : {"", "10.0.0/8", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8x", "2001:db8::/129",
                          "300.0.0.1", "example.com", "10.0.0.0/08/1", " 10.0.0.1", "::g"}) {
    EXPECT_FALSE(parse_cidr(bad)) << bad;
  }
}

TEST(Cidr, MappedSourceAddressIsIpv4) {
  EXPECT_EQ(ip("::ffff:192.0.2.1"), ip("192.0.2.1"));
  EXPECT_EQ(ip("::ffff:192.0.2.1").family, IpFamily::v4);
  EXPECT_EQ(to_string(ip("::1")), "::1");
}

TEST(PrefixTable, LongestMatchWinsAcrossOverlaps) {
  PrefixTable<std::string> t;
  EXPECT_TRUE(t.insert(cidr("10.0.0.0/8"), "wide"));
  EXPECT_TRUE(t.insert(cidr("10.1.0.0/16"), "mid"));
  EXPECT_TRUE(t.insert(cidr("10.1.2.3/32"), "host"));
  EXPECT_TRUE(t.insert(cidr("2001:db8::/32"), "v6wide"));
  EXPECT_TRUE(t.insert(cidr("2001:db8:1::/48"), "v6narrow"));
  EXPECT_TRUE(t.insert(cidr("2001:db8:1::5/128"), "v6host"));
  EXPECT_FALSE(t.insert(cidr("10.0.0.0/8"), "dup"));
  EXPECT_EQ(t.size(), 6u);

  EXPECT_EQ(*t.find(ip("10.9.9.9")), "wide");
  EXPECT_EQ(*t.find(ip("10.1.9.9")), "mid");
  EXPECT_EQ(*t.find(ip("10.1.2.3")), "host");
  EXPECT_EQ(*t.find(ip("10.1.2.4")), "mid");
  EXPECT_EQ(t.find(ip("11.0.0.1")), nullptr);
  EXPECT_EQ(*t.find(ip("2001:db8:ffff::1")), "v6wide");
  EXPECT_EQ(*t.find(ip("2001:db8:1::1")), "v6narrow");
  EXPECT_EQ(*t.find(ip("2001:db8:1::5")), "v6host");
  EXPECT_EQ(t.find(ip("2001:db9::1")), nullptr);
  // IPv4-mapped sources match IPv4 entries.
  EXPECT_EQ(*t.find(ip("::ffff:10.1.2.3")), "host");
}

TEST(PrefixTable, DefaultRoutesAreFamilySpecific) {
  PrefixTable<int> t;
  t.insert(cidr("0.0.0.0/0"), 4);
  EXPECT_EQ(*t.find(ip("203.0.113.9")), 4);
  EXPECT_EQ(t.find(ip("2001:db8::1")), nullptr);
  t.insert(cidr("::/0"), 6);
  EXPECT_EQ(*t.find(ip("2001:db8::1")), 6);
  EXPECT_EQ(*t.find(ip("255.255.255.255")), 4);
}

TEST(Cidr, ContainsChecksFamilyAndPrefix) {
  EXPECT_TRUE(contains(cidr("192.0.2.0/24"), ip("192.0.2.200")));
  EXPECT_FALSE(contains(cidr("192.0.2.0/24"), ip("192.0.3.1")));
  EXPECT_FALSE(contains(cidr("::/0"), ip("192.0.2.1")));
}

}  // namespace
}  // namespace sipgw::auth
