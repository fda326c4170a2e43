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
  EXPECT_EQ(setting_value(s, "sip.overload_response"), "503+drop");
  ASSERT_TRUE(apply_setting(s, "sip.overload_response", "503"));
  EXPECT_FALSE(s.overload_drops);
  auto unknown = apply_setting(s, "sip.overload_response", "drop");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error(), "setting sip.overload_response: 'drop' is neither 503+drop nor 503");
  EXPECT_EQ(setting_value(s, "sip.overload_response"), "503");
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

TEST(SettingsTest, ScreeningStatusesAreRefusalsACallerCanActOn) {
  Settings s;
  EXPECT_EQ(s.blocked_status, 603);
  EXPECT_EQ(s.repeat_status, 486);
  ASSERT_TRUE(apply_setting(s, "screening.blocked_status", "433"));
  EXPECT_EQ(setting_value(s, "screening.blocked_status"), "433");
  for (const char* bad : {"200", "302", "500", "487", "abc", ""}) {
    EXPECT_FALSE(apply_setting(s, "screening.attestation_status", bad)) << bad;
  }
  EXPECT_EQ(s.attestation_status, 603);
}

TEST(SettingsTest, TokenHeadersAreHeaderNames) {
  Settings s;
  ASSERT_TRUE(apply_setting(s, "inbound.token_headers", "X-Zip, X-State,X-Lead-Id"));
  EXPECT_EQ(s.token_headers, (std::vector<std::string>{"X-Zip", "X-State", "X-Lead-Id"}));
  EXPECT_EQ(setting_value(s, "inbound.token_headers"), "X-Zip,X-State,X-Lead-Id");
  EXPECT_FALSE(apply_setting(s, "inbound.token_headers", "X-Zip,Bad Name"));
  EXPECT_EQ(s.token_headers.size(), 3u) << "a refused value changes nothing";
  ASSERT_TRUE(apply_setting(s, "inbound.token_headers", ""));
  EXPECT_TRUE(s.token_headers.empty());
}

TEST(SettingsTest, PassedHeadersAreNamesSipgwDoesNotSetItself) {
  Settings s;
  ASSERT_TRUE(apply_setting(s, "outbound.pass_headers", "Diversion, History-Info"));
  EXPECT_EQ(s.pass_headers, (std::vector<std::string>{"Diversion", "History-Info"}));
  EXPECT_EQ(setting_value(s, "outbound.pass_headers"), "Diversion,History-Info");
  for (const char* own : {"Via", "Contact", "P-Asserted-Identity", "privacy", "Identity"}) {
    auto refused = apply_setting(s, "outbound.pass_headers", std::string("Diversion,") + own);
    ASSERT_FALSE(refused) << own;
    EXPECT_NE(refused.error().find("sipgw sets itself"), std::string::npos) << refused.error();
  }
  EXPECT_EQ(s.pass_headers.size(), 2u) << "a refused value changes nothing";
}

TEST(SettingsTest, EveryKnownKeyReadsBackWhatItWasSetTo) {
  // Each listed key has a reader: a key without one would show as empty in
  // `sipgwctl setting list` whatever it holds.
  Settings s;
  for (const auto& info : known_settings()) {
    const std::string value = setting_value(s, info.key);
    // Empty by default, on purpose: no User-Agent, no front end.
    if (info.key == "sip.user_agent" || info.key == "front_end.addresses" || info.key == "inbound.token_headers" ||
        info.key == "outbound.pass_headers") {
      continue;
    }
    EXPECT_FALSE(value.empty()) << info.key;
  }
}

}  // namespace
}  // namespace sipgw::routing
