// The one place that turns what a call did into its metrics and, once it is
// finished, its CDR. Plain C++: the call flow's unit tests read the records
// and metrics it produced.
#pragma once

#include "db/cdr_writer.h"
#include "gateway/failover.h"
#include "gateway/metrics.h"
#include "routing/tokens.h"

#include <functional>
#include <string>

namespace sipgw::gateway {

// Called on the SIP thread with each finished call; must not block (it
// should hand the record to another thread).
using CdrSink = std::function<void(db::CallRecord)>;

// A call's record as admission left it: ids, caller, number, invite time.
db::CallRecord new_call_record(const routing::CallFacts& facts, std::int64_t invite_at_ms);

// Does any postback subscribe to this event (the current provisioning)?
// Events nobody subscribes to are not stored at all.
using EventFilter = std::function<bool(std::string_view event)>;

class CallRecorder {
 public:
  CallRecorder(Metrics& metrics, CdrSink sink, EventFilter subscribed = {})
      : metrics_(metrics), sink_(std::move(sink)), subscribed_(std::move(subscribed)) {}

  // A call let in (after screening): its inbound event, if subscribed (no
  // row is written for it yet). The record is built only when a postback
  // wants the event: most deployments pay nothing for it per call.
  void call_inbound(const routing::CallFacts& facts, std::int64_t invite_at_ms);
  // The connected call reached its conversion time: its record so far
  // (in_progress, converted_at set) and the converted event.
  void converted(db::CallRecord partial);

  void call_started() { metrics_.call_started(); }
  void first_provisional(std::int64_t invite_at_ms, std::int64_t now_ms);    // post-dial delay
  // The call is connected; partial is its record so far (in_progress), stored
  // at once so a kill -9 cannot lose a connected call.
  void answered(const std::string& buyer_id, std::int64_t invite_at_ms, std::int64_t answer_at_ms,
                db::CallRecord partial);
  void attempt_ended(const std::string& buyer_id, AttemptResult result);    // without an answer
  // A call screened out before any buyer: its CDR (outcome blocked) and
  // sipgw_calls_screened_total. It never counted as an active call.
  void call_screened(db::CallRecord record);
  // The finished call: the CDR goes to the sink, the outcome to metrics.
  void call_finished(db::CallRecord record, bool answered);

 private:
  // Adds the event to the record when a postback wants it.
  void add_event(db::CallRecord& record, std::string_view event, std::int64_t at_ms);

  Metrics& metrics_;
  CdrSink sink_;
  EventFilter subscribed_;
};

}  // namespace sipgw::gateway
