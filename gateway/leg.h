// One SIP dialog leg as the call flow sees it: commands it can give and the
// typed events it hears, with no Sofia type in sight. The Sofia adapter
// (sofia_leg.h) implements Leg over one nua handle; the unit tests of the
// call flow implement it with a recorder.
//
// Like resiprocate's InviteSessionHandler, protocol mechanics stay in the
// adapter (transactions, the saved-event queue for requests waiting on the
// other leg, ACK of non-2xx, digest arithmetic); the call flow decides.
#pragma once

#include "gateway/outbound.h"

#include <string>
#include <string_view>

namespace sipgw::gateway {

// A message body copied out of the stack's memory, ready for the other leg.
struct Body {
  std::string type;
  std::string data;
  bool present() const { return !data.empty(); }
};

// In-dialog requests sipgw relays from one leg to the other.
enum class InDialogMethod { reinvite, info, update };
std::string_view to_string(InDialogMethod method);

// RFC 4028 session refreshes on a leg, as counted in metrics: a refresh
// the stack sent (as the leg's refresher) and got a 2xx for, one that
// failed, and a peer's refresh the leg answered itself.
enum class SessionRefresh { sent, failed, received };
std::string_view to_string(SessionRefresh refresh);

class SessionRefreshObserver {
 public:
  virtual ~SessionRefreshObserver() = default;
  virtual void on_session_refresh(SessionRefresh refresh) = 0;
};

// What a leg tells its listener. A publisher leg hears cancelled, bye,
// request, request_answered and terminated; a buyer leg hears the answers to
// its INVITE too. Every event arrives on the SIP thread, after the stack has
// done its part (e.g. nua already answered the CANCEL and 487'd the INVITE).
class LegListener {
 public:
  virtual ~LegListener() = default;
  // Buyer leg: the answers to our INVITE.
  virtual void on_provisional(int status, const Body& body) = 0;  // 101-199 (100 is not reported)
  virtual void on_answered(int status, std::string_view phrase, const Body& body) = 0;  // 2xx, not yet ACKed
  virtual void on_challenged(int status) = 0;                    // 401/407: authenticate() may answer it
  virtual void on_failed(int status, std::string_view phrase) = 0;  // any other final status (3xx-6xx)
  // Publisher leg: the initial INVITE was cancelled.
  virtual void on_cancelled() = 0;
  // Either leg.
  virtual void on_bye() = 0;  // the stack answers the BYE itself
  // A peer's request to relay. A session refresh (a re-INVITE whose SDP is
  // absent or unchanged, a body-less UPDATE) is answered by the leg itself
  // and never comes here: each leg keeps its own RFC 4028 session.
  virtual void on_request(InDialogMethod method, const Body& body) = 0;
  // Final answers only; a 2xx to our re-INVITE has been ACKed already.
  virtual void on_request_answered(InDialogMethod method, int status, const Body& body) = 0;
  // Either leg: the peer's ACK to our 2xx (the INVITE's or a relayed
  // re-INVITE's). body: the peer's answer when our 2xx carried the offer (a
  // delayed offer: the request had no SDP), else usually empty.
  virtual void on_ack(const Body& body) = 0;
  virtual void on_terminated() = 0;  // the dialog is gone (BYE done, timeout, transport error)
  // Either leg, once connected: its RFC 4028 session timer ran out (no
  // refresh came in time, or our refresh failed with 408/481 or timed
  // out). The stack already sends BYE on this leg; on_terminated follows
  // when that BYE is done, which for a vanished peer takes 32 s.
  virtual void on_session_expired() = 0;
};

class Leg {
 public:
  virtual ~Leg() = default;
  // Events go to this listener from now on (the owner binds itself once it
  // exists: a buyer leg is made before its attempt).
  virtual void bind(LegListener& listener) = 0;
  // Publisher leg: the response to the initial INVITE. phrase: static
  // storage only (Sofia keeps the pointer and sends later); nullptr takes
  // the standard phrase of the status. headers: "Name: value" lines joined
  // by CRLF (e.g. a challenge), already safe.
  virtual void respond(int status, const char* phrase, const Body& body, const std::string& headers = {}) = 0;
  // Buyer leg: sends the INVITE. False when the stack could not even create
  // the leg (then no event will ever come).
  virtual bool invite(const OutboundInvite& request, const std::string& max_forwards, const Body& offer) = 0;
  // Buyer leg: answers the last challenge with these credentials on a new
  // INVITE. False when the challenge cannot be answered (unknown scheme or
  // algorithm); the call then treats the challenge as a failure.
  virtual bool authenticate(const OutboundCredentials& credentials) = 0;
  // ACKs the 2xx this leg still owes an ACK: its INVITE's, or a relayed
  // re-INVITE's whose offer waited for the other leg's answer (delayed
  // offer). answer: that answer (the other side's ACK body), or empty.
  // Nothing happens when no ACK is owed.
  virtual void ack(const Body& answer) = 0;
  virtual void bye() = 0;
  // reason: a Reason header value for the CANCEL (RFC 3326), or empty.
  virtual void cancel(const std::string& reason) = 0;
  // Relays: a request to this leg's peer, and the answer to the oldest
  // request this leg's peer sent us that is still waiting.
  virtual void send_request(InDialogMethod method, const Body& body) = 0;
  virtual void answer_request(InDialogMethod method, int status, const Body& body) = 0;
  // No more events to the listener, and the handle is destroyed: the leg
  // is done (terminated, or failed and never to be retried). Idempotent.
  virtual void release() = 0;
};

}  // namespace sipgw::gateway
