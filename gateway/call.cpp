#include "gateway/call.h"

#include <spdlog/spdlog.h>

namespace sipgw::gateway {

std::string_view to_string(CallState state) {
  switch (state) {
    case CallState::trying: return "trying";
    case CallState::early: return "early";
    case CallState::connected: return "connected";
    case CallState::ending: return "ending";
    case CallState::ended: return "ended";
  }
  return "?";
}

Call::Call(CallServices& services, CallSetup setup, std::unique_ptr<Leg> publisher_leg, PublisherSlot publisher_slot,
           std::function<void(Call&)> on_ended)
    : services_(services), setup_(std::move(setup)), publisher_leg_(std::move(publisher_leg)),
      publisher_slot_(std::move(publisher_slot)), on_ended_(std::move(on_ended)), max_setup_timer_(services.clock),
      max_duration_timer_(services.clock), conversion_timer_(services.clock) {
  cdr_ = new_call_record(setup_.facts, setup_.invite_at_ms);
  if (setup_.only_buyer) {
    narrowed_campaign_ = *setup_.campaign;
    narrowed_campaign_->routes = {routing::Route{*setup_.only_buyer, 0, 1}};
  }
  publisher_leg_->bind(*this);
  services_.recorder.call_started();
}

Call::~Call() { publisher_leg_->release(); }

void Call::transition(CallState to, std::string_view cause) {
  spdlog::debug("call {}: {} -> {} ({})", setup_.facts.call_uuid, to_string(state_), to_string(to), cause);
  state_ = to;
}

void Call::start() {
  max_setup_timer_.start(std::chrono::seconds(setup_.snapshot->settings.max_setup_seconds), [this] { on_max_setup(); });
  try_next_buyer();
}

void Call::on_max_setup() {
  if (!publisher_waiting()) return;
  spdlog::info("call {} not answered within {} s: giving up", setup_.facts.call_uuid,
               setup_.snapshot->settings.max_setup_seconds);
  end_from(HangupSide::gateway, HangupCause::max_setup, "Temporarily Unavailable (Setup Time Exceeded)");
}

void Call::on_max_duration() {
  if (state_ != CallState::connected) return;
  spdlog::info("call {} reached its maximum duration: hanging up both legs", setup_.facts.call_uuid);
  end_from(HangupSide::gateway, HangupCause::max_duration);
}

BuyerAttempt* Call::current_attempt() {
  if (attempts_.empty() || attempts_.back()->detached()) return nullptr;
  return attempts_.back().get();
}

Leg* Call::connected_buyer_leg() {
  auto* attempt = current_attempt();
  return attempt && attempt->state() == AttemptState::answered ? &attempt->leg() : nullptr;
}

// ------------------------------------------------------------------ routing

void Call::try_next_buyer() {
  const routing::Snapshot& snapshot = *setup_.snapshot;
  auto& facts = setup_.facts;
  while (true) {
    const routing::TimePoint now{std::chrono::milliseconds(services_.clock.now_ms())};
    auto selection = services_.selector.select(snapshot, campaign(), services_.ledger, tried_, now);
    for (const auto& [buyer_id, reason] : selection.skipped) {
      if (reason == routing::SkipReason::tried) continue;
      if (reason == routing::SkipReason::no_trunk) {
        spdlog::warn("call {} skips buyer {}: {}", facts.call_uuid, buyer_id, routing::to_string(reason));
      } else {
        spdlog::debug("call {} skips buyer {}: {}", facts.call_uuid, buyer_id, routing::to_string(reason));
      }
      failover_.skipped(reason);
    }
    if (selection.buyer == nullptr) {
      spdlog::info("call {} has no eligible buyer left after {} attempt(s)", facts.call_uuid, attempts_.size());
      const NoBuyerAnswer answer = failover_.when_none_left();
      record_hangup(HangupSide::gateway, failover_.last_failure());
      respond_publisher(answer.status, answer.phrase);
      transition(CallState::ending, "no buyer left");
      finish_if_done();
      return;
    }
    const routing::Buyer& buyer = *selection.buyer;
    tried_.insert(buyer.id);
    facts.buyer_id = buyer.id;
    auto request = build_outbound_invite(snapshot, buyer, facts, services_.from_host);
    if (!request) {
      spdlog::warn("call {}: {}", facts.call_uuid, request.error());
      failover_.unroutable();
      continue;
    }
    warn_if_large(*request);
    auto leg = services_.make_buyer_leg(request->request_uri);
    if (!leg) {
      spdlog::error("call {}: cannot create a buyer leg toward {}", facts.call_uuid, request->request_uri);
      failover_.unroutable();
      continue;
    }
    BuyerAttempt::Plan plan{&buyer, std::move(*request), static_cast<int>(attempts_.size()) + 1,
                            std::chrono::seconds(setup_.campaign->ring_timeout_seconds), setup_.max_forwards,
                            facts.call_uuid};
    auto attempt = std::make_unique<BuyerAttempt>(*this, std::move(leg), services_.clock,
                                                  BuyerSlot(services_.ledger, services_.metrics, buyer.id), std::move(plan));
    attempt->leg().bind(*attempt);
    BuyerAttempt& started = *attempt;
    attempts_.push_back(std::move(attempt));
    if (!started.start(setup_.offer)) {
      services_.recorder.attempt_ended(buyer.id, AttemptResult::failed);
      failover_.attempt_ended(AttemptResult::failed, HangupCause::terminated);
      continue;
    }
    return;
  }
}

// A buyer leg stays on the transport its target names (sipgw does not move
// a large request to TCP on its own: a buyer may not listen there), so an
// INVITE past the UDP-safe size is said in the log, at most 5 lines a
// second, naming the cure.
void Call::warn_if_large(const OutboundInvite& request) {
  const std::size_t size = estimated_invite_size(request, setup_.offer.data.size());
  if (size <= kUdpSafeSize || !over_udp(request) || !services_.large_invite_log.allow(services_.clock.now_ms())) return;
  spdlog::warn("call {}: the INVITE to buyer {} is about {} bytes over UDP (over {}: it may be fragmented and lost); "
               "give the target ;transport=tcp or fewer headers",
               setup_.facts.call_uuid, setup_.facts.buyer_id, size, kUdpSafeSize);
}

// The publisher hears ringing once, and every early media change: an 18x
// whose SDP differs from the last it got (a 183 after a 180, or a new
// buyer's early media after a failover). Repeated ringing is not relayed.
void Call::attempt_ringing(int status, const Body& body) {
  if (!publisher_waiting()) return;
  const bool new_media = body.present() && body.data != early_sdp_.data;
  if (state_ == CallState::early && !new_media) return;
  if (state_ == CallState::trying) services_.recorder.first_provisional(setup_.invite_at_ms, services_.clock.now_ms());
  publisher_leg_->respond(status, nullptr, body);
  if (new_media) early_sdp_ = body;
  if (state_ == CallState::trying) {
    transition(CallState::early, "buyer " + setup_.facts.buyer_id + " " + std::to_string(status));
  }
}

void Call::attempt_answered(int status, const Body& body) {
  BuyerAttempt& attempt = *attempts_.back();
  if (!publisher_waiting()) {  // cannot happen while the publisher waits; never leave a buyer up alone
    attempt.hang_up();
    return;
  }
  const std::int64_t answer_at = attempt.record().answer_at.value_or(services_.clock.now_ms());
  const std::string& buyer_id = attempt.buyer().id;
  services_.ledger.connected(buyer_id, routing::TimePoint{std::chrono::milliseconds(answer_at)});
  services_.ledger.publisher_connected(setup_.facts.publisher_id, routing::TimePoint{std::chrono::milliseconds(answer_at)});
  services_.screener.connected(*setup_.campaign, setup_.facts.caller_number, answer_at);
  cdr_.buyer_id = buyer_id;
  cdr_.answer_at = answer_at;
  cdr_.final_status = status;
  db::CallRecord partial = cdr_;
  for (const auto& a : attempts_) partial.attempts.push_back(a->record());
  services_.recorder.answered(buyer_id, setup_.invite_at_ms, answer_at, std::move(partial));
  publisher_leg_->respond(status, nullptr, body);
  answer_sdp_ = body;
  resync_due_ = early_sdp_.present() && body.present() && early_sdp_.data != body.data;
  spdlog::info("call {} answered by buyer {}", setup_.facts.call_uuid, buyer_id);
  transition(CallState::connected, "buyer " + buyer_id + " " + std::to_string(status));
  max_setup_timer_.cancel();
  const std::int64_t limit =
      setup_.campaign->max_duration_seconds.value_or(setup_.snapshot->settings.max_call_duration_seconds);
  if (limit > 0) max_duration_timer_.start(std::chrono::seconds(limit), [this] { on_max_duration(); });
  const auto conversion = attempt.buyer().conversion_seconds ? attempt.buyer().conversion_seconds
                                                             : setup_.campaign->conversion_seconds;
  if (conversion) conversion_timer_.start(std::chrono::seconds(*conversion), [this] { on_conversion(); });
}

void Call::on_conversion() {
  if (state_ != CallState::connected || cdr_.converted_at) return;
  cdr_.converted_at = services_.clock.now_ms();
  spdlog::info("call {} converted", setup_.facts.call_uuid);
  services_.screener.converted(*setup_.campaign, setup_.facts.caller_number, *cdr_.converted_at);
  db::CallRecord partial = cdr_;
  for (const auto& a : attempts_) partial.attempts.push_back(a->record());
  services_.recorder.converted(std::move(partial));
}

void Call::converted_elsewhere(std::int64_t at_ms) {
  conversion_timer_.cancel();
  if (!cdr_.converted_at) cdr_.converted_at = at_ms;
}

void Call::attempt_ended(AttemptResult result, HangupCause why) {
  services_.recorder.attempt_ended(attempts_.back()->buyer().id, result);
  failover_.attempt_ended(result, why);
  if (should_try_next_buyer(result, publisher_waiting())) {
    if (state_ == CallState::trying) {
      // The publisher has heard nothing yet; carriers reroute a call that
      // stays silent for a few seconds, so it hears ringing while the next
      // buyer is tried.
      services_.recorder.first_provisional(setup_.invite_at_ms, services_.clock.now_ms());
      publisher_leg_->respond(180, nullptr, {});
      transition(CallState::early, "local ringing: failover");
    }
    try_next_buyer();
    return;
  }
  finish_if_done();
}

// ------------------------------------------------------------------ endings

void Call::respond_publisher(int status, const char* phrase) {
  cdr_.final_status = status;
  if (!publisher_leg_done_) publisher_leg_->respond(status, phrase, {});
}

void Call::end_from(HangupSide side, HangupCause cause, const char* phrase) {
  if (state_ == CallState::ending || state_ == CallState::ended) return;
  record_hangup(side, cause);
  if (side != HangupSide::publisher) hang_up_publisher(phrase);
  if (side != HangupSide::buyer) hang_up_buyer();
  transition(CallState::ending, std::string(to_string(side)) + " " + std::string(to_string(cause)));
  finish_if_done();
}

void Call::record_hangup(HangupSide side, HangupCause cause) {
  if (hangup_side_ != HangupSide::none) return;
  hangup_side_ = side;
  hangup_cause_ = cause;
}

void Call::hang_up_publisher(const char* phrase) {
  if (publisher_leg_done_) return;
  if (state_ == CallState::connected) {
    publisher_leg_->bye();
  } else if (publisher_waiting()) {
    respond_publisher(480, phrase);
  }
}

void Call::hang_up_buyer() {
  BuyerAttempt* attempt = current_attempt();
  if (attempt == nullptr) return;
  if (attempt->state() == AttemptState::answered) {
    attempt->hang_up();
  } else {
    attempt->cancel();
  }
}

void Call::hang_up_for_drain() { end_from(HangupSide::gateway, HangupCause::drain); }

void Call::on_cancelled() {
  if (!publisher_waiting()) return;
  // nua already answered 200 to the CANCEL and 487 to the INVITE.
  cdr_.final_status = 487;
  spdlog::info("call {} cancelled by publisher", setup_.facts.call_uuid);
  end_from(HangupSide::publisher, HangupCause::cancel);
}

void Call::on_bye() {
  spdlog::info("call {} BYE from publisher", setup_.facts.call_uuid);
  end_from(HangupSide::publisher, HangupCause::bye);
}

void Call::buyer_bye() {
  spdlog::info("call {} BYE from buyer", setup_.facts.call_uuid);
  end_from(HangupSide::buyer, HangupCause::bye);
}

void Call::on_terminated() {
  publisher_leg_done_ = true;
  publisher_leg_->release();
  end_from(HangupSide::publisher, HangupCause::terminated);  // a leg that vanished takes the other with it
  finish_if_done();
}

// RFC 4028: the side whose session expired gets a BYE too (the stack's own
// would come later), and the CDR names that side.
void Call::on_session_expired() {
  spdlog::info("call {}: the publisher's session expired (no refresh in time, or ours failed)", setup_.facts.call_uuid);
  record_hangup(HangupSide::publisher, HangupCause::session_expired);
  end_from(HangupSide::gateway, HangupCause::session_expired);
}

void Call::buyer_session_expired() {
  spdlog::info("call {}: the buyer's session expired (no refresh in time, or ours failed)", setup_.facts.call_uuid);
  record_hangup(HangupSide::buyer, HangupCause::session_expired);
  end_from(HangupSide::gateway, HangupCause::session_expired);
}

void Call::buyer_terminated() {
  end_from(HangupSide::buyer, HangupCause::terminated);
  finish_if_done();
}

void Call::finish_if_done() {
  if (state_ != CallState::ending) return;
  // A call sipgw ended itself is over once sipgw has said its last word: a
  // peer that vanished must not hold the CDR, the slots or a drain for the
  // 32 s its BYE takes to time out. The legs finish their transactions
  // alone (the registry keeps the attempt; the stack keeps the handle). A
  // session that expired is the same: the stack hangs up that leg.
  const bool ended_by_gateway = hangup_side_ == HangupSide::gateway || hangup_cause_ == HangupCause::session_expired;
  if (!ended_by_gateway) {
    if (!publisher_leg_done_) return;
    // The current attempt must be over (its CANCEL answered, its BYE done);
    // a timed-out attempt detached itself and is not waited for.
    if (BuyerAttempt* attempt = current_attempt(); attempt && !attempt->done()) return;
  }
  max_setup_timer_.cancel();
  max_duration_timer_.cancel();
  conversion_timer_.cancel();
  transition(CallState::ended, ended_by_gateway ? "ended by sipgw" : "both legs done");
  cdr_.end_at = services_.clock.now_ms();
  cdr_.hangup_side = to_string(hangup_side_);
  cdr_.hangup_cause = to_string(hangup_cause_);
  for (const auto& attempt : attempts_) cdr_.attempts.push_back(attempt->record());
  const bool answered = cdr_.answer_at.has_value();  // set only when the call was connected
  services_.recorder.call_finished(std::move(cdr_), answered);
  if (on_ended_) on_ended_(*this);
}

std::vector<std::unique_ptr<BuyerAttempt>> Call::take_unfinished_attempts() {
  std::vector<std::unique_ptr<BuyerAttempt>> unfinished;
  for (auto& attempt : attempts_) {
    if (attempt->done()) continue;
    attempt->detach();
    unfinished.push_back(std::move(attempt));
  }
  std::erase(attempts_, nullptr);
  return unfinished;
}

// ------------------------------------------------------------------ in-dialog relays

void Call::on_request(InDialogMethod method, const Body& body) { relay_request(Side::publisher, method, body); }
void Call::buyer_request(InDialogMethod method, const Body& body) { relay_request(Side::buyer, method, body); }
void Call::on_request_answered(InDialogMethod method, int status, const Body& body) {
  relay_answer(Side::publisher, method, status, body);
}
void Call::buyer_request_answered(InDialogMethod method, int status, const Body& body) {
  relay_answer(Side::buyer, method, status, body);
}

// Delayed offer (RFC 3264 on an INVITE without SDP): the far side's 2xx
// carried the offer, this leg's peer answers in its ACK, and that answer
// completes the ACK the other leg has held back. A leg that owes no ACK
// ignores it (an ordinary ACK has no body and nothing waits for it).
void Call::on_ack(const Body& body) {
  if (Leg* buyer = connected_buyer_leg()) buyer->ack(body);
  if (resync_due_ && state_ == CallState::connected) {
    resync_due_ = false;
    start_resync();
  }
}

// Failover after early media: the publisher may hold the first buyer's
// early SDP as its answer. A re-INVITE without SDP asks it for a fresh
// offer, which goes to the buyer that answered; the buyer's answer goes in
// the publisher's ACK. Plain RFC 3264 on both legs, no SDP rewriting.
void Call::start_resync() {
  Leg* buyer = connected_buyer_leg();
  if (buyer == nullptr || publisher_leg_done_ || reinvite_ != Reinvite::none) return;
  spdlog::info("call {}: the publisher heard other early media than buyer {}'s answer: asking it for a fresh offer",
               setup_.facts.call_uuid, setup_.facts.buyer_id);
  reinvite_ = Reinvite::resync_publisher;
  publisher_leg_->send_request(InDialogMethod::reinvite, {});
}

void Call::resync_answered(Side to, int status, const Body& body) {
  Leg* buyer = connected_buyer_leg();
  if (reinvite_ == Reinvite::resync_publisher && to == Side::publisher) {
    if (status < 300 && body.present() && buyer != nullptr) {
      reinvite_ = Reinvite::resync_buyer;
      buyer->send_request(InDialogMethod::reinvite, body);
      return;
    }
    reinvite_ = Reinvite::none;
    if (status < 300) publisher_leg_->ack(answer_sdp_);  // an offer we cannot place: the session stays
    spdlog::info("call {}: resync not done: the publisher answered {}{}", setup_.facts.call_uuid, status,
                 body.present() ? "" : " without an offer");
    return;
  }
  if (reinvite_ == Reinvite::resync_buyer && to == Side::buyer) {
    reinvite_ = Reinvite::none;
    if (status < 300 && body.present()) answer_sdp_ = body;
    // A buyer that refuses the offer leaves its first answer standing: the
    // publisher gets that one, so its offer is still answered.
    if (!publisher_leg_done_) publisher_leg_->ack(answer_sdp_);
    if (status >= 300) spdlog::info("call {}: resync not done: buyer answered {}", setup_.facts.call_uuid, status);
  }
}

void Call::buyer_ack(const Body& body) {
  if (!publisher_leg_done_) publisher_leg_->ack(body);
}

void Call::relay_request(Side from, InDialogMethod method, const Body& body) {
  Leg* from_leg = from == Side::publisher ? publisher_leg_.get() : connected_buyer_leg();
  Leg* to_leg = from == Side::publisher ? connected_buyer_leg() : (publisher_leg_done_ ? nullptr : publisher_leg_.get());
  if (from_leg == nullptr) return;
  const bool connected = state_ == CallState::connected && to_leg != nullptr;
  if (method == InDialogMethod::reinvite) {
    if (!connected || reinvite_ != Reinvite::none) {  // glare, or nobody to ask
      from_leg->answer_request(method, 491, {});
      return;
    }
    reinvite_ = from == Side::publisher ? Reinvite::from_publisher : Reinvite::from_buyer;
  } else if (!connected) {
    from_leg->answer_request(method, 481, {});
    return;
  }
  to_leg->send_request(method, body);
}

void Call::relay_answer(Side to, InDialogMethod method, int status, const Body& body) {
  Side from = to == Side::publisher ? Side::buyer : Side::publisher;
  if (method == InDialogMethod::reinvite) {
    if (reinvite_ == Reinvite::resync_publisher || reinvite_ == Reinvite::resync_buyer) {
      resync_answered(to, status, body);
      return;
    }
    if (reinvite_ == Reinvite::none) return;
    from = reinvite_ == Reinvite::from_publisher ? Side::publisher : Side::buyer;
    reinvite_ = Reinvite::none;
  }
  Leg* from_leg = from == Side::publisher ? (publisher_leg_done_ ? nullptr : publisher_leg_.get()) : connected_buyer_leg();
  if (from_leg) from_leg->answer_request(method, status, body);
}

}  // namespace sipgw::gateway
