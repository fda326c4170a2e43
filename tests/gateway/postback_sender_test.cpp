#include "gateway/postback_sender.h"

#include <gtest/gtest.h>

namespace sipgw::gateway {
namespace {

TEST(PostbackUrl, HttpAndHttpsWithHostPortAndTarget) {
  auto u = parse_postback_url("https://track.example.com/p?x=1");
  ASSERT_TRUE(u.ok);
  EXPECT_TRUE(u.tls);
  EXPECT_EQ(u.host, "track.example.com");
  EXPECT_EQ(u.port, "443");
  EXPECT_EQ(u.target, "/p?x=1");
  u = parse_postback_url("http://127.0.0.1:8080");
  ASSERT_TRUE(u.ok);
  EXPECT_FALSE(u.tls);
  EXPECT_EQ(u.port, "8080");
  EXPECT_EQ(u.target, "/");
  u = parse_postback_url("http://[::1]:9000?q");
  ASSERT_TRUE(u.ok);
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.target, "/?q");
  for (const char* bad : {"ftp://h/", "http://", "http://user:pw@h/", "http://h:99999/", "http://h:x/", "http://h h/",
                          "//h/", "http://[::1/"}) {
    EXPECT_FALSE(parse_postback_url(bad).ok) << bad;
  }
}

TEST(PostbackBackoff, DoublesFromOneSecondUpToTheCap) {
  using std::chrono::seconds;
  EXPECT_EQ(postback_backoff(1, seconds(300)), seconds(1));
  EXPECT_EQ(postback_backoff(2, seconds(300)), seconds(2));
  EXPECT_EQ(postback_backoff(5, seconds(300)), seconds(16));
  EXPECT_EQ(postback_backoff(10, seconds(300)), seconds(300));
  EXPECT_EQ(postback_backoff(100, seconds(300)), seconds(300));
}

}  // namespace
}  // namespace sipgw::gateway
