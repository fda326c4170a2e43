#include "gateway/session_timer.h"

#include <algorithm>

namespace sipgw::gateway {

namespace {

enum class Role { any, sipgw, peer };

// Who the message names the refresher, as nua's session_timer_store reads
// it: "uac" is whoever sent the request of this transaction.
Role named_refresher(const SessionTimerHeaders& h, bool sipgw_is_uas) {
  if (h.expires == 0) return Role::any;
  switch (h.refresher) {
    case SessionTimerHeaders::Refresher::uac: return sipgw_is_uas ? Role::peer : Role::sipgw;
    case SessionTimerHeaders::Refresher::uas: return sipgw_is_uas ? Role::sipgw : Role::peer;
    case SessionTimerHeaders::Refresher::unspecified: break;
  }
  // Require: timer without a refresher parameter: nua takes the role.
  return h.required ? Role::sipgw : Role::any;
}

// nua's session_timer_negotiate with sipgw's stack settings.
SessionAgreement negotiate(const SessionTimerHeaders& peer, SessionTimers local, bool sipgw_is_uas) {
  if (local.expires == 0) return {};  // "timer" not in sipgw's Supported: nua runs no timer
  bool sipgw_refreshes;
  const Role named = named_refresher(peer, sipgw_is_uas);
  if (!peer.supported) {
    sipgw_refreshes = true;  // a peer without timers never refreshes
  } else if (named != Role::any) {
    sipgw_refreshes = named == Role::sipgw;
  } else {
    sipgw_refreshes = !sipgw_is_uas;  // a UAS leaves it to the UAC; a UAC does it itself
  }
  unsigned interval = peer.expires != 0 ? peer.expires : local.expires;
  interval = std::min(interval, local.expires);
  interval = std::max({interval, local.min_se, peer.min_se});
  return {std::chrono::seconds(interval), sipgw_refreshes};
}

}  // namespace

std::chrono::seconds SessionAgreement::expiry() const {
  const auto i = interval.count();
  const auto rfc = i - std::min<decltype(i)>(32, i / 3);
  const auto before_nua = i - std::min<decltype(i)>(32, i / 10) - 2;
  return std::chrono::seconds(std::max<decltype(i)>(1, std::min(rfc, before_nua)));
}

SessionAgreement agree_as_uas(const SessionTimerHeaders& request, SessionTimers local) {
  return negotiate(request, local, true);
}

SessionAgreement agree_as_uac(const SessionTimerHeaders& response, SessionTimers local) {
  return negotiate(response, local, false);
}

}  // namespace sipgw::gateway
