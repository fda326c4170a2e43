#include "gateway/listen.h"

#include <gtest/gtest.h>

namespace sipgw::gateway {
namespace {

using Urls = std::vector<std::string>;

// Every URL names exactly one transport: a list (";transport=udp,tcp")
// crashes Sofia 1.12.11 at start.
void expect_no_transport_list(const ListenPlan& plan) {
  for (const auto& address : plan.addresses) {
    for (const auto& url : address.bind_urls) EXPECT_EQ(url.find(','), std::string::npos) << url;
  }
}

TEST(Listen, OneUrlPerTransportOfTheAddress) {
  auto plan = plan_listen({"udp:127.0.0.1:5060", "tcp:127.0.0.1:5060"});
  ASSERT_TRUE(plan) << plan.error();
  ASSERT_EQ(plan->addresses.size(), 1u);
  EXPECT_EQ(plan->addresses[0].bind_urls, (Urls{"sip:127.0.0.1:5060;transport=udp", "sip:127.0.0.1:5060;transport=tcp"}));
  EXPECT_EQ(plan->addresses[0].from_host, "127.0.0.1:5060");
  expect_no_transport_list(*plan);
  auto v6 = plan_listen({"tcp:[::1]:5070"});
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->addresses[0].bind_urls, Urls{"sip:[::1]:5070;transport=tcp"});
  EXPECT_TRUE(v6->addresses[0].ipv6);
  EXPECT_EQ(v6->addresses[0].from_host, "[::1]:5070");
}

TEST(Listen, WildcardLeavesTheFromHostToTheSipLayer) {
  auto any = plan_listen({"udp:*:5060", "tcp:*:5060"});
  ASSERT_TRUE(any);
  ASSERT_EQ(any->addresses.size(), 1u);
  EXPECT_EQ(any->addresses[0].bind_urls, (Urls{"sip:*:5060;transport=udp", "sip:*:5060;transport=tcp"}));
  EXPECT_TRUE(any->addresses[0].wildcard);
  EXPECT_EQ(any->addresses[0].from_host, "");  // never "*"
  EXPECT_EQ(any->addresses[0].port, "5060");
}

TEST(Listen, DefaultsToUdpAndTcpOnLoopback) {
  auto plan = plan_listen({});
  ASSERT_TRUE(plan);
  ASSERT_EQ(plan->addresses.size(), 1u);
  EXPECT_EQ(plan->addresses[0].bind_urls, (Urls{"sip:127.0.0.1:5060;transport=udp", "sip:127.0.0.1:5060;transport=tcp"}));
  expect_no_transport_list(*plan);
}

TEST(Listen, RefusesBadFlags) {
  for (auto bad : {"sctp:127.0.0.1:5060", "udp:127.0.0.1", "udp:example.com:5060", "udp:127.0.0.1:0",
                   "udp:127.0.0.1:99999", "udp:127.0.0.1:50x", "udp,tcp:127.0.0.1:5060"}) {
    EXPECT_FALSE(plan_listen({bad})) << bad;
  }
  auto both = plan_listen({"udp:127.0.0.1:5060", "udp:[::1]:5060", "tcp:[::1]:5060", "udp:[::1]:5060"});
  ASSERT_TRUE(both);
  ASSERT_EQ(both->addresses.size(), 2u);
  EXPECT_EQ(both->addresses[0].bind_urls, Urls{"sip:127.0.0.1:5060;transport=udp"});
  EXPECT_EQ(both->addresses[1].bind_urls, (Urls{"sip:[::1]:5060;transport=udp", "sip:[::1]:5060;transport=tcp"}));
}

TEST(Listen, PublicAddressIsAdvertisedWhileTheListenAddressIsBound) {
  auto plan = plan_listen({"udp:10.0.0.5:5060", "tcp:10.0.0.5:5060"}, "203.0.113.7");
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->addresses[0].bind_urls, (Urls{"sip:203.0.113.7:5060;maddr=10.0.0.5;transport=udp",
                                                "sip:203.0.113.7:5060;maddr=10.0.0.5;transport=tcp"}));
  EXPECT_EQ(plan->addresses[0].from_host, "203.0.113.7");
  auto with_port = plan_listen({"udp:10.0.0.5:5060"}, "gw.example.com:15060");
  ASSERT_TRUE(with_port);
  EXPECT_EQ(with_port->addresses[0].bind_urls, Urls{"sip:gw.example.com:15060;maddr=10.0.0.5;transport=udp"});
  auto wildcard = plan_listen({"udp:*:5060"}, "203.0.113.7");
  ASSERT_TRUE(wildcard);
  EXPECT_EQ(wildcard->addresses[0].bind_urls, Urls{"sip:203.0.113.7:5060;maddr=0.0.0.0;transport=udp"});
  EXPECT_EQ(wildcard->addresses[0].from_host, "203.0.113.7");
}

}  // namespace
}  // namespace sipgw::gateway
