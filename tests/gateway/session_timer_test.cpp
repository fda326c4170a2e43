// The session-timer agreement a leg works out must be the one nua makes
// (nua_session.c, session_timer_negotiate) and what RFC 4028 asks for.
#include "gateway/session_timer.h"

#include <gtest/gtest.h>

namespace sipgw::gateway {
namespace {

using namespace std::chrono_literals;
using Refresher = SessionTimerHeaders::Refresher;

const SessionTimers kDefaults{1800, 90};

SessionTimerHeaders supporting(unsigned expires, Refresher refresher = Refresher::unspecified) {
  SessionTimerHeaders h;
  h.supported = true;
  h.expires = expires;
  h.refresher = refresher;
  return h;
}

TEST(SessionTimer, APublisherThatAsksAndNamesItselfRefreshes) {
  auto a = agree_as_uas(supporting(600, Refresher::uac), kDefaults);
  EXPECT_EQ(a.interval, 600s);
  EXPECT_FALSE(a.sipgw_refreshes);
}

TEST(SessionTimer, APublisherThatSupportsTimersButNamesNobodyIsLeftToRefresh) {
  auto a = agree_as_uas(supporting(0), kDefaults);  // RFC 4028 9: the UAS picks; nua picks the UAC
  EXPECT_EQ(a.interval, 1800s);
  EXPECT_FALSE(a.sipgw_refreshes);
}

TEST(SessionTimer, APublisherWithoutTimersIsRefreshedBySipgwAtSipgwsInterval) {
  auto a = agree_as_uas({}, kDefaults);
  EXPECT_EQ(a.interval, 1800s);
  EXPECT_TRUE(a.sipgw_refreshes);
}

TEST(SessionTimer, APublisherAskingSipgwToRefreshGetsIt) {
  EXPECT_TRUE(agree_as_uas(supporting(900, Refresher::uas), kDefaults).sipgw_refreshes);
}

TEST(SessionTimer, ALongerIntervalThanSipgwsIsCutAndAShorterOneKeptAboveMinSe) {
  EXPECT_EQ(agree_as_uas(supporting(7200, Refresher::uac), kDefaults).interval, 1800s);
  auto peer = supporting(100, Refresher::uac);
  peer.min_se = 120;  // the peer's own floor
  EXPECT_EQ(agree_as_uas(peer, kDefaults).interval, 120s);
}

TEST(SessionTimer, ABuyerThatTakesTheRoleRefreshes) {
  auto a = agree_as_uac(supporting(900, Refresher::uas), kDefaults);
  EXPECT_EQ(a.interval, 900s);
  EXPECT_FALSE(a.sipgw_refreshes);
}

TEST(SessionTimer, SipgwRefreshesABuyerThatLeavesItOrHasNoTimers) {
  EXPECT_TRUE(agree_as_uac(supporting(900, Refresher::uac), kDefaults).sipgw_refreshes);
  EXPECT_TRUE(agree_as_uac(supporting(900), kDefaults).sipgw_refreshes);
  auto none = agree_as_uac({}, kDefaults);  // a 2xx without Session-Expires: nua keeps sipgw's interval
  EXPECT_EQ(none.interval, 1800s);
  EXPECT_TRUE(none.sipgw_refreshes);
}

TEST(SessionTimer, ARefresherNamedByABuyerWithoutSupportedTimerIsNotTrusted) {
  // nua ignores the parameter when the 2xx does not say Supported: timer,
  // and refreshes itself; the leg must agree with it.
  SessionTimerHeaders h;
  h.expires = 900;
  h.refresher = Refresher::uas;
  EXPECT_TRUE(agree_as_uac(h, kDefaults).sipgw_refreshes);
}

TEST(SessionTimer, NoTimersWhenSessionExpiresIsZero) {
  EXPECT_FALSE(agree_as_uas(supporting(600, Refresher::uac), {0, 90}).active());
  EXPECT_FALSE(agree_as_uac(supporting(600, Refresher::uas), {0, 90}).active());
}

TEST(SessionTimer, ExpiryComesBeforeNuasOwnByeAndAtRfc4028sTimeWhenThatIsEarlier) {
  // RFC 4028 10: interval - min(32, interval / 3); nua: interval - min(32, interval / 10).
  EXPECT_EQ((SessionAgreement{1800s, false}.expiry()), 1766s);  // nua's 1768, less 2
  EXPECT_EQ((SessionAgreement{90s, false}.expiry()), 60s);
  EXPECT_EQ((SessionAgreement{4s, false}.expiry()), 2s);
  EXPECT_EQ((SessionAgreement{2s, false}.expiry()), 1s);  // never under 1 s
}

}  // namespace
}  // namespace sipgw::gateway
