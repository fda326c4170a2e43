// The Sofia adapter of one leg: one nua handle (its magic is this object),
// the saved events of requests waiting for the other leg, and nua events
// turned into LegListener calls. Protocol mechanics live here: ACK of a 2xx
// to our re-INVITE, the challenge of a buyer kept for authenticate(), which
// sends the INVITE again with sipgw's own digest (auth/digest_client.h).
//
// RFC 4028 session timers, per leg: nua negotiates them (Session-Expires,
// Min-SE, 422 both ways, the refresher) and runs the leg's timer; the leg
// makes the rest work for a B2BUA without media:
// - a peer's refresh is answered here with the leg's own last SDP and never
//   crosses to the other leg (a re-INVITE whose o= line is unchanged, an
//   UPDATE without a body); a re-INVITE without SDP is relayed, since only
//   the far side can make the fresh offer it asks for (delayed offer: the
//   2xx offer's ACK waits for the other leg's answer, see ack());
// - as refresher nua sends UPDATE when the peer's Allow lists it (set per
//   handle from the peer's INVITE or 2xx), else a re-INVITE: on a UAC leg
//   its last INVITE again, on a UAS leg one without SDP, whose 2xx offer
//   the leg answers in the ACK with its last SDP;
// - the leg works out the agreement nua made (session_timer.h) and runs its
//   own expiry timer, restarted by every successful refresh, which fires
//   before nua's own BYE (nua reports that BYE only once it is answered);
//   that, a refresh of ours failing with 408/481, or a connected dialog the
//   stack ends without a BYE from either side is on_session_expired().
#pragma once

#include "gateway/clock.h"
#include "gateway/leg.h"
#include "gateway/session_timer.h"
#include "gateway/sofia.h"

#include <deque>
#include <optional>
#include <unordered_set>
#include <vector>

namespace sipgw::gateway {

// Handles a leg let go of while their last transaction still runs (a BYE
// to a peer that may have vanished). The pump destroys each when nua
// reports it terminated, and all that are left when it shuts down, since
// nua_shutdown waits up to 30 s for pending requests.
class FinishingHandles {
 public:
  void add(nua_handle_t* nh) { handles_.insert(nh); }
  // True when nh was one of them (the caller destroys it).
  bool ended(nua_handle_t* nh) { return handles_.erase(nh) > 0; }
  void destroy_all() {
    for (auto* nh : handles_) nua_handle_destroy(nh);
    handles_.clear();
  }

 private:
  std::unordered_set<nua_handle_t*> handles_;
};

// The dialog as this leg knows it; SofiaLeg::transition logs every change:
//   early       the INVITE is out (buyer) or in (publisher), no 2xx yet on our side
//   answered    a buyer's 2xx came (ACKed; nua reports "ready" next)
//   confirmed   nua reported "ready": 2xx and ACK done; the session timer runs
//   ending      a BYE went or came, the session expired, or a relayed request
//               lost the dialog (408/481); no session timer any more
//   terminated  nua reported the dialog gone
enum class DialogState { early, answered, confirmed, ending, terminated };
std::string_view to_string(DialogState state);

class SofiaLeg final : public Leg {
 public:
  // A publisher leg over the handle nua made for `invite`; finishing takes
  // its handle if the leg is released mid-transaction.
  SofiaLeg(nua_t* nua, nua_handle_t* nh, sip_t const* invite, FinishingHandles& finishing, Clock& clock,
           SessionTimers timers, SessionRefreshObserver& refreshes);
  // A buyer leg on stack `nua`; invite() makes its handle.
  SofiaLeg(nua_t* nua, Clock& clock, SessionTimers timers, SessionRefreshObserver& refreshes);
  ~SofiaLeg() override;
  SofiaLeg(const SofiaLeg&) = delete;
  SofiaLeg& operator=(const SofiaLeg&) = delete;

  void bind(LegListener& listener) override { listener_ = &listener; }
  void respond(int status, const char* phrase, const Body& body, const std::string& headers) override;
  bool invite(const OutboundInvite& request, const std::string& max_forwards, const Body& offer) override;
  bool authenticate(const OutboundCredentials& credentials) override;
  void ack(const Body& answer) override;
  void bye() override;
  void cancel(const std::string& reason) override;
  void send_request(InDialogMethod method, const Body& body) override;
  void answer_request(InDialogMethod method, int status, const Body& body) override;
  void release() override;

  // Every nua event on this leg's handle, from the pump.
  void handle(nua_event_t event, int status, char const* phrase, nua_t* nua, sip_t const* sip, tagi_t tags[]);

 private:
  // A buyer's 401/407: its challenges (scheme, params) and the dialog
  // identity the authorized INVITE repeats.
  struct Challenge {
    bool proxy = false;
    std::vector<std::pair<std::string, std::vector<std::string>>> offers;
    std::string call_id;
    std::string from_tag;
    std::uint32_t cseq = 0;
  };
  struct Authorization {
    bool proxy = false;
    std::string value;
  };
  bool send_invite(const Authorization* authorization);
  void drop_handle();
  void on_invite_response(int status, char const* phrase, sip_t const* sip);
  void on_refresh_response(int status, sip_t const* sip);
  void on_update_response(int status, sip_t const* sip);
  void on_state(int callstate);
  void transition(DialogState to, std::string_view cause);
  void save_challenge(int status, sip_t const* sip);
  // The peer's Allow lists UPDATE: nua refreshes this leg with UPDATE.
  void learn_peer_methods(sip_t const* sip);
  void remember_remote(const Body& body);
  void remember_local(const Body& body);
  bool is_refresh(const Body& offer) const;
  // The session was refreshed (or set up) under `agreement`: the expiry
  // clock starts again.
  void refreshed(SessionAgreement agreement);
  void session_expired();
  void refresh_failed(int status);

  nua_t* nua_;
  nua_handle_t* nh_ = nullptr;
  FinishingHandles* finishing_ = nullptr;  // publisher legs only
  LegListener* listener_ = nullptr;
  SessionRefreshObserver* refreshes_;
  SessionTimers timers_;         // the stack's settings when the leg was made
  SessionAgreement session_;     // as nua negotiated it, from the headers seen
  Timer expiry_timer_;
  const bool outgoing_;    // a buyer leg: we sent the INVITE
  DialogState state_ = DialogState::early;
  bool update_refresh_ = false;  // nua refreshes this leg with UPDATE
  // Requests relayed on this leg still waiting for their final answer; any
  // other answer on the handle is to a refresh nua sent itself.
  bool reinvite_sent_ = false;
  int updates_sent_ = 0;
  // Whether the last INVITE sent on this handle carried SDP: nua's refresh
  // re-sends it, so its 2xx then holds an answer, not an offer.
  bool last_invite_offered_ = false;
  // A 2xx to our INVITE or relayed re-INVITE not ACKed yet: its offer waits
  // for the other leg's answer (delayed offer), or the owner has not ACKed
  // yet. A BYE first sends the ACK the dialog owes.
  bool ack_owed_ = false;
  Body local_sdp_;            // the SDP this leg last sent its peer
  std::string remote_origin_;  // the o= line of the SDP the peer last sent
  // INFO/UPDATE from the peer, waiting for the other leg's answer, oldest first.
  std::deque<nua_saved_event_t> pending_;  // nua_saved_event_t is a pointer type
  // A buyer leg's INVITE, kept to send it again with credentials.
  OutboundInvite request_;
  std::string max_forwards_;
  Body offer_;
  std::optional<Challenge> challenge_;
};

}  // namespace sipgw::gateway
