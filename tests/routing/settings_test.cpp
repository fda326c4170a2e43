#include "routing/settings.h"

#include <gtest/gtest.h>

namespace sipgw::routing {
namespace {

TEST(SettingsTest, OverloadWaitTakesMillisecondsFromZeroToTenSeconds) {
  Settings s;
  EXPECT_EQ(s.overload_wait_ms, 100);
  ASSERT_TRUE(apply_setting(s, "sip.overload_wait", "0"));
  EXPECT_EQ(setting_value(s, "sip.overload_wait"), "0");
  ASSERT_TRUE(apply_setting(s, "sip.overload_wait", "250"));
  EXPECT_EQ(s.overload_wait_ms, 250);
  auto refused = apply_setting(s, "sip.overload_wait", "10001");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), "setting sip.overload_wait: '10001' is not a whole number of milliseconds from 0 to 10000");
  EXPECT_FALSE(apply_setting(s, "sip.overload_wait", "-1"));
  EXPECT_EQ(s.overload_wait_ms, 250) << "a refused value changes nothing";
}

TEST(SettingsTest, TransactionLifetimeStaysBetweenTheSurgeFloorAndRfc3261) {
  Settings s;
  EXPECT_EQ(s.transaction_lifetime_ms, 32000);
  ASSERT_TRUE(apply_setting(s, "sip.transaction_lifetime", "8000"));
  EXPECT_EQ(setting_value(s, "sip.transaction_lifetime"), "8000");
  EXPECT_FALSE(apply_setting(s, "sip.transaction_lifetime", "3999"));
  EXPECT_FALSE(apply_setting(s, "sip.transaction_lifetime", "32001"));
  EXPECT_EQ(s.transaction_lifetime_ms, 8000);
}

TEST(SettingsTest, EveryKnownKeyReadsBackWhatItWasSetTo) {
  // Each listed key has a reader: a key without one would show as empty in
  // `sipgwctl setting list` whatever it holds.
  Settings s;
  for (const auto& info : known_settings()) {
    const std::string value = setting_value(s, info.key);
    // Empty by default, on purpose: no User-Agent, no front end.
    if (info.key == "sip.user_agent" || info.key == "front_end.addresses") continue;
    EXPECT_FALSE(value.empty()) << info.key;
  }
}

}  // namespace
}  // namespace sipgw::routing
