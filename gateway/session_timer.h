// RFC 4028 session timers on one leg, as sipgw's SIP stack negotiates them.
// nua (Sofia) writes the headers and refreshes the leg when sipgw is its
// refresher; it also sends a BYE of its own when a peer's refresh is late,
// but says nothing until that BYE is answered (32 s to a vanished peer).
// So the leg works out the same agreement from the headers it sees and
// keeps its own expiry timer, which fires first: the call then ends at once
// on both legs, with the CDR saying which side's session expired.
//
// Sofia-free and pure: the unit tests check it against RFC 4028 and against
// what nua 1.12.11 does (nua_session.c, session_timer_negotiate).
#pragma once

#include <chrono>

namespace sipgw::gateway {

// The settings session.expires and session.min_se, given to every stack.
struct SessionTimers {
  unsigned expires = 1800;  // seconds asked of buyers, the most a publisher gets; 0: no timers at all
  unsigned min_se = 90;     // seconds; a peer asking less gets 422
  bool operator==(const SessionTimers&) const = default;
};

// The RFC 4028 headers of one request or response.
struct SessionTimerHeaders {
  enum class Refresher { unspecified, uac, uas };
  bool supported = false;  // Supported: timer
  bool required = false;   // Require: timer
  unsigned expires = 0;    // Session-Expires delta-seconds; 0: absent
  Refresher refresher = Refresher::unspecified;
  unsigned min_se = 0;  // Min-SE; 0: absent
};

// What a leg's session runs on: no timer (interval 0), or an interval with
// sipgw or the peer refreshing.
struct SessionAgreement {
  std::chrono::seconds interval{0};
  bool sipgw_refreshes = false;

  bool active() const { return interval.count() > 0; }
  // How long after the last refresh sipgw ends the session when no refresh
  // has come: RFC 4028 10's BYE time (interval - min(32 s, interval / 3)),
  // and always 2 s before nua's own (interval - min(32 s, interval / 10),
  // checked once a second), never under 1 s.
  std::chrono::seconds expiry() const;
};

// sipgw as the UAS of `request`: a publisher's INVITE or any peer's refresh.
SessionAgreement agree_as_uas(const SessionTimerHeaders& request, SessionTimers local);
// sipgw as the UAC, from the 2xx to its INVITE or refresh.
SessionAgreement agree_as_uac(const SessionTimerHeaders& response, SessionTimers local);

}  // namespace sipgw::gateway
