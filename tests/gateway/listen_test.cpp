#include "gateway/listen.h"

#include <gtest/gtest.h>

namespace sipgw::gateway {
namespace {

TEST(Listen, GroupsTransportsOfTheAddress) {
  auto plan = plan_listen({"udp:127.0.0.1:5060", "tcp:127.0.0.1:5060"});
  ASSERT_TRUE(plan) << plan.error();
  EXPECT_EQ(plan->bind_urls, std::vector<std::string>{"sip:127.0.0.1:5060;transport=udp,tcp"});
  EXPECT_EQ(plan->first_host, "127.0.0.1:5060");
  auto v6 = plan_listen({"tcp:[::1]:5070"});
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->bind_urls, std::vector<std::string>{"sip:[::1]:5070;transport=tcp"});
  auto any = plan_listen({"udp:*:5060"});
  ASSERT_TRUE(any);
  EXPECT_EQ(any->bind_urls, std::vector<std::string>{"sip:*:5060;transport=udp"});
}

TEST(Listen, DefaultsToLoopback) {
  auto plan = plan_listen({});
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->bind_urls, std::vector<std::string>{"sip:127.0.0.1:5060;transport=udp,tcp"});
}

TEST(Listen, RefusesBadFlags) {
  for (auto bad : {"sctp:127.0.0.1:5060", "udp:127.0.0.1", "udp:example.com:5060", "udp:127.0.0.1:0",
                   "udp:127.0.0.1:99999", "udp:127.0.0.1:50x"}) {
    EXPECT_FALSE(plan_listen({bad})) << bad;
  }
  auto both = plan_listen({"udp:127.0.0.1:5060", "udp:[::1]:5060", "tcp:[::1]:5060"});
  ASSERT_TRUE(both);
  EXPECT_EQ(both->bind_urls, (std::vector<std::string>{"sip:127.0.0.1:5060;transport=udp", "sip:[::1]:5060;transport=udp,tcp"}));
}

}  // namespace
}  // namespace sipgw::gateway

namespace sipgw::gateway {
namespace {

TEST(Listen, PublicAddressIsAdvertisedWhileTheListenAddressIsBound) {
  auto plan = plan_listen({"udp:10.0.0.5:5060", "tcp:10.0.0.5:5060"}, "203.0.113.7");
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->bind_urls, std::vector<std::string>{"sip:203.0.113.7:5060;maddr=10.0.0.5;transport=udp,tcp"});
  auto with_port = plan_listen({"udp:10.0.0.5:5060"}, "gw.example.com:15060");
  ASSERT_TRUE(with_port);
  EXPECT_EQ(with_port->bind_urls, std::vector<std::string>{"sip:gw.example.com:15060;maddr=10.0.0.5;transport=udp"});
}

}  // namespace
}  // namespace sipgw::gateway
