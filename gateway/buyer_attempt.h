// One try at one buyer (after Envoy's UpstreamRequest): its own leg, its own
// state, its timers and its concurrency slot. The call owns the current
// attempt and hears from it through Owner; an attempt the call lets go of
// (timeout, publisher gone) finishes by itself: it cancels its INVITE, and
// a 2xx that still arrives is ACKed and hung up at once.
//
//   state      event                          next       owner hears
//   calling    18x                            ringing    attempt_ringing
//   calling    401/407, credentials unused    calling    (INVITE again, authorized)
//   calling    connect timeout                cancelling attempt_ended(timeout)
//   ringing    18x                            ringing    attempt_ringing
//   calling|ringing 2xx                       answered   attempt_answered (ACK sent, unless the
//                                                                2xx holds an offer to the publisher's
//                                                                delayed-offer INVITE: the call ACKs
//                                                                with the publisher's answer)
//   calling|ringing final 3xx-6xx             ended      attempt_ended(busy|failed|cancelled)
//   calling|ringing ring timeout              cancelling attempt_ended(timeout)
//   calling|ringing cancel()                  cancelling -
//   cancelling 2xx                            cancelling - (ACK, BYE)
//   cancelling final | terminated             ended      attempt_ended(cancelled), unless detached
//
// A timed-out attempt detaches from its owner (the call moves on at once);
// it lives on, cancelling, until its leg is done.
//   answered   BYE, requests, terminated,     answered|ended  buyer_* (relayed by the call)
//              session expired
#pragma once

#include "db/cdr_writer.h"
#include "gateway/clock.h"
#include "gateway/failover.h"
#include "gateway/leg.h"
#include "gateway/slots.h"

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace sipgw::gateway {

enum class AttemptState { calling, ringing, answered, cancelling, ended };
std::string_view to_string(AttemptState state);

class BuyerAttempt final : public LegListener {
 public:
  class Owner {
   public:
    virtual ~Owner() = default;
    virtual void attempt_ringing(int status, const Body& body) = 0;
    virtual void attempt_answered(int status, const Body& body) = 0;
    // Ended without an answer (not called for an abandoned attempt).
    virtual void attempt_ended(AttemptResult result, HangupCause why) = 0;
    // The answered buyer leg's dialog.
    virtual void buyer_bye() = 0;
    virtual void buyer_request(InDialogMethod method, const Body& body) = 0;
    virtual void buyer_request_answered(InDialogMethod method, int status, const Body& body) = 0;
    // The buyer's ACK to a 2xx the call relayed (its body: an answer to the
    // offer that 2xx carried).
    virtual void buyer_ack(const Body& body) = 0;
    virtual void buyer_terminated() = 0;
    virtual void buyer_session_expired() = 0;
  };

  struct Plan {
    const routing::Buyer* buyer;
    OutboundInvite request;
    int number;                          // 1 for the first attempt of the call
    std::chrono::seconds ring_timeout;   // the campaign's
    std::string max_forwards;            // for the buyer leg
    std::string call_uuid;               // for the log
  };

  BuyerAttempt(Owner& owner, std::unique_ptr<Leg> leg, Clock& clock, BuyerSlot slot, Plan plan);
  ~BuyerAttempt() override;

  // Sends the INVITE and starts the timers. False when the leg could not be
  // created: the attempt is then ended (failed) without calling the owner.
  bool start(const Body& offer);

  // Before the answer: CANCEL; the owner hears attempt_ended(cancelled)
  // once the buyer's INVITE transaction is over.
  void cancel() { cancel(std::string()); }
  // The call ends an answered attempt: BYE, and the buyer's slot is free at
  // once (the call is over even if the buyer never answers the BYE).
  void hang_up();
  // The owner is going away: no more owner calls; the attempt finishes by
  // itself (its CANCEL or BYE answered, or timed out by the stack).
  void detach() { owner_ = nullptr; }

  AttemptState state() const { return state_; }
  bool detached() const { return owner_ == nullptr; }
  // Nothing left to wait for: an abandoned attempt may then be deleted.
  bool done() const { return state_ == AttemptState::ended; }
  const routing::Buyer& buyer() const { return *plan_.buyer; }
  const OutboundInvite& request() const { return plan_.request; }
  Leg& leg() { return *leg_; }
  // This attempt's row in the CDR, as far as it got.
  const db::CallAttemptRecord& record() const { return record_; }

  // LegListener (the buyer leg).
  void on_provisional(int status, const Body& body) override;
  void on_answered(int status, std::string_view phrase, const Body& body) override;
  void on_challenged(int status) override;
  void on_failed(int status, std::string_view phrase) override;
  void on_cancelled() override {}
  void on_bye() override;
  void on_request(InDialogMethod method, const Body& body) override;
  void on_request_answered(InDialogMethod method, int status, const Body& body) override;
  void on_ack(const Body& body) override;
  void on_terminated() override;
  void on_session_expired() override;

 private:
  void transition(AttemptState to, std::string_view cause);
  // Ends the attempt without an answer: CDR row, slot, timers; tells the owner.
  void end(AttemptResult result, HangupCause why, std::optional<int> status, std::string_view reason);
  void cancel(const std::string& reason);
  void on_connect_timeout();
  void on_ring_timeout();

  Owner* owner_;
  std::unique_ptr<Leg> leg_;
  Clock& clock_;
  std::optional<BuyerSlot> slot_;  // held while ringing or connected
  Plan plan_;
  AttemptState state_ = AttemptState::calling;
  bool authenticated_ = false;  // a challenge is answered once: a second one means wrong credentials
  bool offered_ = false;        // the INVITE carried SDP: else the 2xx holds the buyer's offer
  db::CallAttemptRecord record_;
  Timer connect_timer_;  // the buyer's connect timeout: first 18x
  Timer ring_timer_;     // the campaign's ring timeout: the answer
};

}  // namespace sipgw::gateway
