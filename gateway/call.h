// One admitted call: the publisher's leg, the buyer attempts (the current
// one last) and the call's state. Every change of state goes through
// transition(), which logs it at debug level:
//   call 5f0c...: trying -> early (buyer b1 180)
//
//   state      event                                   next       the call does
//   trying     start, a buyer is eligible              trying     INVITE to the buyer
//   trying     start or attempt ended, nobody left     ending     486 (all busy) or 480 to the publisher
//   trying     attempt ended, publisher waiting        trying     INVITE to the next buyer
//   trying     first 18x from any buyer                early      relays it
//   early      18x whose SDP differs from the last     early      relays it (new early media); other
//              early SDP the publisher got                        18x are not relayed again
//   trying     attempt ended, publisher waiting        early      local 180 (carriers reroute after
//                                                                 seconds of silence), next buyer
//   early      attempt ended, publisher waiting        early      INVITE to the next buyer
//   trying|early  buyer 2xx                            connected  relays 200 to the publisher
//   trying|early  publisher CANCEL                     ending     CANCEL to the buyer (487 went back)
//   trying|early  publisher leg gone                   ending     CANCEL to the buyer
//   connected  BYE from either side                    ending     BYE to the other side
//   connected  a leg gone (timeout, transport)         ending     BYE to the other side
//   connected  re-INVITE, INFO, UPDATE                 connected  relayed; a re-INVITE in flight gets 491
//   connected  ACK from either side                    connected  its body (the answer to a 2xx offer: a
//                                                                 delayed offer) goes in the other leg's ACK
//   connected  the publisher's first ACK, after early  connected  re-synchronisation: a re-INVITE without
//              SDP that is not the answer's (failover             SDP to the publisher, its offer to the
//              after early media)                                 buyer, the buyer's answer in the ACK
//   trying|early  call.max_setup seconds since INVITE  ending     480 to the publisher, CANCEL to the buyer
//   connected  the campaign's max duration             ending     BYE to both legs
//   connected  the buyer's/campaign's conversion time  connected  converted: record and event stored
//   connected  a leg's RFC 4028 session expired        ending     BYE to both legs; CDR at once, naming
//                                                                 the expired side
//   any        drain timeout                           ending     BYE, CANCEL or 480 as the legs need
//   ending     both legs done                          ended      CDR and metrics (CallRecorder)
//   ending     ended by sipgw (drain, limits, no buyer, ended     at once: a vanished peer's leg finishes
//              session expired)                                   its BYE alone, the CDR does not wait
//
// The call never deletes itself: when ended it tells its owner (the
// registry), which deletes it after the current dispatch has returned.
#pragma once

#include "gateway/buyer_attempt.h"
#include "gateway/call_recorder.h"
#include "gateway/clock.h"
#include "gateway/leg.h"
#include "gateway/log_limiter.h"
#include "gateway/slots.h"
#include "routing/provisioning.h"
#include "routing/selection.h"
#include "routing/tokens.h"

#include <functional>
#include <memory>
#include <optional>
#include <unordered_set>
#include <vector>

namespace sipgw::gateway {

enum class CallState { trying, early, connected, ending, ended };
std::string_view to_string(CallState state);

// What calls use from the SIP thread; all of it outlives every call.
struct CallServices {
  Clock& clock;
  routing::BuyerLedger& ledger;
  routing::BuyerSelector& selector;
  routing::Screener& screener;  // hears of answered calls (repeat callers)
  Metrics& metrics;
  CallRecorder& recorder;
  // A new buyer leg toward request_uri (not yet bound to a listener), or
  // nullptr when the stack cannot make one.
  std::function<std::unique_ptr<Leg>(const std::string& request_uri)> make_buyer_leg;
  // The From host of a buyer leg toward request_uri.
  FromHost from_host;
  // "INVITE over UDP is large" lines, shared by every call: at most 5 a second.
  LogLimiter large_invite_log{5};
};

// What admission and the INVITE said about the call.
struct CallSetup {
  std::shared_ptr<const routing::Snapshot> snapshot;  // the generation the call keeps
  const routing::Campaign* campaign;                  // in that snapshot
  routing::CallFacts facts;                           // buyer_id is filled per attempt
  Body offer;                                         // the publisher's SDP, passed through untouched
  std::string max_forwards;                           // for the buyer legs (already decremented)
  std::int64_t invite_at_ms;
  std::optional<std::string> only_buyer{};  // screening sent a repeat caller to this buyer alone
};

class Call final : public LegListener, public BuyerAttempt::Owner {
 public:
  // on_ended runs once, when the call reaches `ended`; it must not delete
  // the call (defer that to after the dispatch).
  Call(CallServices& services, CallSetup setup, std::unique_ptr<Leg> publisher_leg, PublisherSlot publisher_slot,
       std::function<void(Call&)> on_ended);
  ~Call() override;
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;

  // Routes the call to its first buyer.
  void start();
  // Drain timeout: sipgw hangs up whatever is left of the call.
  void hang_up_for_drain();
  // The call was converted elsewhere (the API): its own conversion timer
  // stops, and its record keeps the time.
  void converted_elsewhere(std::int64_t at_ms);

  CallState state() const { return state_; }
  const routing::CallFacts& facts() const { return setup_.facts; }
  // Attempts still finishing by themselves (a CANCEL in flight); the owner
  // keeps them once the call has ended.
  std::vector<std::unique_ptr<BuyerAttempt>> take_unfinished_attempts();

  // LegListener: the publisher's leg.
  void on_provisional(int, const Body&) override {}
  void on_answered(int, std::string_view, const Body&) override {}
  void on_challenged(int) override {}
  void on_failed(int, std::string_view) override {}
  void on_cancelled() override;
  void on_bye() override;
  void on_request(InDialogMethod method, const Body& body) override;
  void on_request_answered(InDialogMethod method, int status, const Body& body) override;
  void on_ack(const Body& body) override;
  void on_terminated() override;
  void on_session_expired() override;

  // BuyerAttempt::Owner: the current attempt.
  void attempt_ringing(int status, const Body& body) override;
  void attempt_answered(int status, const Body& body) override;
  void attempt_ended(AttemptResult result, HangupCause why) override;
  void buyer_bye() override;
  void buyer_request(InDialogMethod method, const Body& body) override;
  void buyer_request_answered(InDialogMethod method, int status, const Body& body) override;
  void buyer_ack(const Body& body) override;
  void buyer_terminated() override;
  void buyer_session_expired() override;

 private:
  enum class Side { publisher, buyer };
  // The re-INVITE in progress (one at a time: another gets 491). A peer's
  // is relayed; a resync is sipgw's own after failover past early media:
  // it asks the publisher for a fresh offer (resync_publisher), gives it to
  // the buyer (resync_buyer) and ACKs the publisher with the buyer's answer,
  // so both ends hold the same session even when the publisher kept the
  // first early answer (RFC 3261 13.2.1 tells a UAC to).
  enum class Reinvite { none, from_publisher, from_buyer, resync_publisher, resync_buyer };

  void transition(CallState to, std::string_view cause);
  void try_next_buyer();
  void warn_if_large(const OutboundInvite& request);
  // The publisher's final response to its INVITE (phrase: static storage).
  void respond_publisher(int status, const char* phrase);
  // Ends the call from `side` (the hangup side and cause are kept from the
  // first to set them) and hangs up the other side; a publisher still
  // waiting hears 480 with `phrase` (static storage).
  void end_from(HangupSide side, HangupCause cause, const char* phrase = "Temporarily Unavailable");
  void hang_up_buyer();
  void hang_up_publisher(const char* phrase);
  void on_max_setup();
  void on_max_duration();
  void on_conversion();
  void relay_request(Side from, InDialogMethod method, const Body& body);
  void relay_answer(Side to, InDialogMethod method, int status, const Body& body);
  void start_resync();
  void resync_answered(Side to, int status, const Body& body);
  BuyerAttempt* current_attempt();
  Leg* connected_buyer_leg();
  bool publisher_waiting() const { return state_ == CallState::trying || state_ == CallState::early; }
  void finish_if_done();
  // Who ended the call and why: the first to say it wins (a BYE crossing a
  // drain does not rewrite the cause). The CDR gets the words at the end.
  void record_hangup(HangupSide side, HangupCause cause);

  CallServices& services_;
  CallSetup setup_;
  // The campaign this call routes by: its own, or one route to the buyer
  // screening chose for a repeat caller.
  std::optional<routing::Campaign> narrowed_campaign_;
  const routing::Campaign& campaign() const { return narrowed_campaign_ ? *narrowed_campaign_ : *setup_.campaign; }
  std::unique_ptr<Leg> publisher_leg_;
  PublisherSlot publisher_slot_;
  std::function<void(Call&)> on_ended_;
  CallState state_ = CallState::trying;
  bool publisher_leg_done_ = false;    // its dialog is over
  std::vector<std::unique_ptr<BuyerAttempt>> attempts_;  // in order; the current one last
  std::unordered_set<std::string> tried_;                // buyer ids
  FailoverTally failover_;
  Reinvite reinvite_ = Reinvite::none;
  Body early_sdp_;        // the last SDP the publisher got in an 18x
  Body answer_sdp_;       // the SDP the publisher got in the 200
  bool resync_due_ = false;  // early SDP was not the answer's: resync at the publisher's ACK
  db::CallRecord cdr_;
  HangupSide hangup_side_ = HangupSide::none;
  HangupCause hangup_cause_ = HangupCause::none;
  Timer max_setup_timer_;     // call.max_setup: the publisher's wait for an answer, across failovers
  Timer max_duration_timer_;  // the campaign's (or call.max_duration's) longest connected call
  Timer conversion_timer_;    // the buyer's (or campaign's) conversion time
};

}  // namespace sipgw::gateway
