#include "gateway/call_recorder.h"

#include "gateway/outbound.h"

#include <spdlog/spdlog.h>

namespace sipgw::gateway {

db::CallRecord new_call_record(const routing::CallFacts& f, std::int64_t invite_at_ms) {
  db::CallRecord r;
  r.uuid = f.call_uuid;
  r.postback_key = f.postback_key;
  r.publisher_id = f.publisher_id;
  if (!f.sub_id.empty()) r.sub_id = f.sub_id;
  r.caller = f.caller_number;
  r.number = f.number;
  r.campaign_id = f.campaign_id;
  r.invite_at = invite_at_ms;
  if (!f.attestation.empty()) r.attestation = f.attestation;
  return r;
}

void CallRecorder::add_event(db::CallRecord& record, std::string_view event, std::int64_t at_ms) {
  if (!subscribed_ || !subscribed_(event)) return;
  record.events.push_back({new_call_uuid(), std::string(event), at_ms});
}

void CallRecorder::call_inbound(const routing::CallFacts& facts, std::int64_t invite_at_ms) {
  if (!subscribed_ || !subscribed_("inbound")) return;
  db::CallRecord inbound = new_call_record(facts, invite_at_ms);
  inbound.events_only = true;
  add_event(inbound, "inbound", invite_at_ms);
  if (sink_) sink_(std::move(inbound));
}

void CallRecorder::converted(db::CallRecord partial) {
  metrics_.call_converted();
  partial.in_progress = true;
  add_event(partial, "converted", partial.converted_at.value_or(0));
  if (sink_) sink_(std::move(partial));
}

void CallRecorder::first_provisional(std::int64_t invite_at_ms, std::int64_t now_ms) {
  metrics_.post_dial_delay(static_cast<double>(now_ms - invite_at_ms) / 1000.0);
}

void CallRecorder::answered(const std::string& buyer_id, std::int64_t invite_at_ms, std::int64_t answer_at_ms,
                            db::CallRecord partial) {
  metrics_.buyer_attempt(buyer_id, to_string(AttemptResult::answered));
  metrics_.call_setup(static_cast<double>(answer_at_ms - invite_at_ms) / 1000.0);
  partial.in_progress = true;
  add_event(partial, "connected", answer_at_ms);
  if (sink_) sink_(std::move(partial));
}

void CallRecorder::attempt_ended(const std::string& buyer_id, AttemptResult result) {
  metrics_.buyer_attempt(buyer_id, to_string(result));
}

namespace {

// sipgw_calls_total's outcome for a finished call.
std::string_view outcome(int final_status, bool answered) {
  if (answered) return "answered";
  switch (final_status) {
    case 486: return "busy";
    case 480: return "no_answer";
    case 487: return "cancelled";
    default: return "failed";
  }
}

}  // namespace

void CallRecorder::call_screened(db::CallRecord record) {
  metrics_.call_screened(record.block_reason.value_or("unknown"));
  add_event(record, "blocked", record.end_at);
  if (sink_) sink_(std::move(record));
}

void CallRecorder::call_finished(db::CallRecord record, bool answered) {
  if (record.final_status == 0) record.final_status = answered ? 200 : 500;
  metrics_.call_ended(outcome(record.final_status, answered));
  metrics_.call_ended_cause(record.hangup_cause.empty() ? "none" : record.hangup_cause);
  spdlog::info("call {} ended: status {}, hangup {} ({})", record.uuid, record.final_status, record.hangup_side,
               record.hangup_cause);
  add_event(record, "completed", record.end_at);
  if (sink_) sink_(std::move(record));
}

}  // namespace sipgw::gateway
