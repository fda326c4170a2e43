#include "gateway/buyer_attempt.h"

#include <spdlog/spdlog.h>

namespace sipgw::gateway {

std::string_view to_string(AttemptState state) {
  switch (state) {
    case AttemptState::calling: return "calling";
    case AttemptState::ringing: return "ringing";
    case AttemptState::answered: return "answered";
    case AttemptState::cancelling: return "cancelling";
    case AttemptState::ended: return "ended";
  }
  return "?";
}

BuyerAttempt::BuyerAttempt(Owner& owner, std::unique_ptr<Leg> leg, Clock& clock, BuyerSlot slot, Plan plan)
    : owner_(&owner), leg_(std::move(leg)), clock_(clock), slot_(std::move(slot)), plan_(std::move(plan)),
      connect_timer_(clock), ring_timer_(clock) {
  record_.attempt = plan_.number;
  record_.buyer_id = plan_.buyer->id;
  record_.target = plan_.request.request_uri;
  record_.started_at = clock_.now_ms();
}

BuyerAttempt::~BuyerAttempt() { leg_->release(); }

void BuyerAttempt::transition(AttemptState to, std::string_view cause) {
  spdlog::debug("call {} attempt {} (buyer {}): {} -> {} ({})", plan_.call_uuid, plan_.number, plan_.buyer->id,
                to_string(state_), to_string(to), cause);
  state_ = to;
}

bool BuyerAttempt::start(const Body& offer) {
  offered_ = offer.present();
  if (!leg_->invite(plan_.request, plan_.max_forwards, offer)) {
    record_.reason = "no leg";
    record_.ended_at = clock_.now_ms();
    slot_.reset();
    transition(AttemptState::ended, "no leg");
    return false;
  }
  spdlog::info("call {} -> buyer {} at {} (attempt {})", plan_.call_uuid, plan_.buyer->id, plan_.request.request_uri,
               plan_.number);
  ring_timer_.start(plan_.ring_timeout, [this] { on_ring_timeout(); });
  connect_timer_.start(std::chrono::seconds(plan_.buyer->connect_timeout_seconds), [this] { on_connect_timeout(); });
  return true;
}

void BuyerAttempt::on_provisional(int status, const Body& body) {
  if (state_ != AttemptState::calling && state_ != AttemptState::ringing) return;
  connect_timer_.cancel();  // the buyer is alive
  if (state_ == AttemptState::calling) transition(AttemptState::ringing, std::to_string(status));
  if (owner_) owner_->attempt_ringing(status, body);
}

void BuyerAttempt::on_answered(int status, std::string_view phrase, const Body& body) {
  // A delayed offer: the 2xx offer's answer comes in the publisher's ACK,
  // which the call passes on; any other 2xx is ACKed now.
  const bool answer_awaited = !offered_ && body.present() && state_ != AttemptState::cancelling && owner_ != nullptr;
  if (!answer_awaited) leg_->ack({});
  if (state_ == AttemptState::cancelling) {
    // The answer crossed our CANCEL: nobody to connect it to. (A detached
    // attempt's CDR row was final when the call moved on.)
    if (owner_) {
      record_.status = status;
      record_.answer_at = clock_.now_ms();
    }
    leg_->bye();
    return;
  }
  if (state_ != AttemptState::calling && state_ != AttemptState::ringing) return;
  connect_timer_.cancel();
  ring_timer_.cancel();
  record_.status = status;
  record_.reason = phrase;
  record_.answer_at = clock_.now_ms();
  transition(AttemptState::answered, std::to_string(status));
  if (owner_) owner_->attempt_answered(status, body);
}

void BuyerAttempt::on_challenged(int status) {
  if (state_ == AttemptState::calling || state_ == AttemptState::ringing) {
    const auto& credentials = plan_.request.credentials;
    if (credentials && !authenticated_) {
      authenticated_ = true;
      if (leg_->authenticate(*credentials)) return;
    }
  }
  on_failed(status, status == 401 ? "Unauthorized" : "Proxy Authentication Required");
}

void BuyerAttempt::on_failed(int status, std::string_view phrase) {
  if (state_ == AttemptState::answered || state_ == AttemptState::ended) return;
  // The INVITE transaction is over (the stack ACKed the failure); nua keeps
  // the handle for a possible nua_authenticate, so the leg is released now.
  leg_->release();
  if (state_ == AttemptState::cancelling) {
    if (owner_ && !record_.status) record_.status = status;
    end(AttemptResult::cancelled, HangupCause::cancelled, std::nullopt, phrase);
    return;
  }
  spdlog::info("call {} buyer {} answered {} {}", plan_.call_uuid, plan_.buyer->id, status, phrase);
  const AttemptResult result = result_of_status(status);
  end(result, result == AttemptResult::cancelled ? HangupCause::cancelled : HangupCause::buyer_status, status, phrase);
}

namespace {
// The CANCEL of an attempt sipgw gives up on while the call goes on (ring or
// connect timeout) says so (RFC 3326): the buyer's phones and ACD then log
// no missed or abandoned call for an agent who simply did not answer in time.
constexpr const char* kCompletedElsewhere = "SIP;cause=200;text=\"Call completed elsewhere\"";
}  // namespace

void BuyerAttempt::cancel(const std::string& reason) {
  if (state_ != AttemptState::calling && state_ != AttemptState::ringing) return;
  connect_timer_.cancel();
  ring_timer_.cancel();
  leg_->cancel(reason);
  transition(AttemptState::cancelling, "cancel");
}

void BuyerAttempt::hang_up() {
  if (state_ != AttemptState::answered) return;
  leg_->bye();
  slot_.reset();
  if (!record_.ended_at) record_.ended_at = clock_.now_ms();
}

void BuyerAttempt::on_connect_timeout() {
  if (state_ != AttemptState::calling) return;
  spdlog::info("call {} buyer {} sent no 18x within {} s: next buyer", plan_.call_uuid, plan_.buyer->id,
               plan_.buyer->connect_timeout_seconds);
  Owner* owner = std::exchange(owner_, nullptr);  // the call moves on; this attempt finishes alone
  cancel(kCompletedElsewhere);
  end(AttemptResult::timeout, HangupCause::connect_timeout, std::nullopt, "connect timeout");
  if (owner) owner->attempt_ended(AttemptResult::timeout, HangupCause::connect_timeout);
}

void BuyerAttempt::on_ring_timeout() {
  if (state_ != AttemptState::calling && state_ != AttemptState::ringing) return;
  spdlog::info("call {} ring timeout at buyer {}: next buyer", plan_.call_uuid, plan_.buyer->id);
  Owner* owner = std::exchange(owner_, nullptr);
  cancel(kCompletedElsewhere);
  end(AttemptResult::timeout, HangupCause::ring_timeout, std::nullopt, "ring timeout");
  if (owner) owner->attempt_ended(AttemptResult::timeout, HangupCause::ring_timeout);
}

void BuyerAttempt::end(AttemptResult result, HangupCause why, std::optional<int> status, std::string_view reason) {
  connect_timer_.cancel();
  ring_timer_.cancel();
  slot_.reset();
  if (!record_.ended_at) {
    if (status && !record_.status) record_.status = *status;
    if (record_.reason.empty()) record_.reason = reason;
    record_.ended_at = clock_.now_ms();
  }
  // A timed-out attempt goes on cancelling until its leg is done.
  if (state_ == AttemptState::cancelling && result == AttemptResult::timeout) return;
  transition(AttemptState::ended, to_string(result));
  if (owner_) owner_->attempt_ended(result, why);
}

void BuyerAttempt::on_bye() {
  if (owner_ && state_ == AttemptState::answered) owner_->buyer_bye();
}

void BuyerAttempt::on_request(InDialogMethod method, const Body& body) {
  if (owner_ && state_ == AttemptState::answered) {
    owner_->buyer_request(method, body);
  } else {
    leg_->answer_request(method, 481, {});
  }
}

void BuyerAttempt::on_request_answered(InDialogMethod method, int status, const Body& body) {
  if (owner_ && state_ == AttemptState::answered) owner_->buyer_request_answered(method, status, body);
}

void BuyerAttempt::on_ack(const Body& body) {
  if (owner_ && state_ == AttemptState::answered) owner_->buyer_ack(body);
}

void BuyerAttempt::on_session_expired() {
  if (owner_ && state_ == AttemptState::answered) owner_->buyer_session_expired();
}

void BuyerAttempt::on_terminated() {
  leg_->release();
  if (state_ == AttemptState::ended) return;
  if (state_ == AttemptState::answered) {
    slot_.reset();
    if (!record_.ended_at) record_.ended_at = clock_.now_ms();
    transition(AttemptState::ended, "terminated");
    if (owner_) owner_->buyer_terminated();
    return;
  }
  // The leg died before an answer (timeout, transport error).
  const bool cancelling = state_ == AttemptState::cancelling;
  end(cancelling ? AttemptResult::cancelled : AttemptResult::failed,
      cancelling ? HangupCause::cancelled : HangupCause::terminated, std::nullopt, "terminated");
}

}  // namespace sipgw::gateway
