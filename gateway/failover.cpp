#include "gateway/failover.h"

namespace sipgw::gateway {

std::string_view to_string(AttemptResult result) {
  switch (result) {
    case AttemptResult::answered: return "answered";
    case AttemptResult::busy: return "busy";
    case AttemptResult::failed: return "failed";
    case AttemptResult::timeout: return "timeout";
    case AttemptResult::cancelled: return "cancelled";
  }
  return "failed";
}

std::string_view to_string(HangupCause cause) {
  switch (cause) {
    case HangupCause::none: return "";
    case HangupCause::bye: return "BYE";
    case HangupCause::cancel: return "CANCEL";
    case HangupCause::terminated: return "terminated";
    case HangupCause::drain: return "drain";
    case HangupCause::no_buyer: return "no_buyer";
    case HangupCause::connect_timeout: return "connect_timeout";
    case HangupCause::ring_timeout: return "ring_timeout";
    case HangupCause::buyer_status: return "buyer_status";
    case HangupCause::cancelled: return "cancelled";
    case HangupCause::max_duration: return "max_duration";
    case HangupCause::max_setup: return "max_setup";
    case HangupCause::session_expired: return "session_expired";
  }
  return "";
}

std::string_view to_string(HangupSide side) {
  switch (side) {
    case HangupSide::none: return "";
    case HangupSide::publisher: return "publisher";
    case HangupSide::buyer: return "buyer";
    case HangupSide::gateway: return "gateway";
  }
  return "";
}

void FailoverTally::skipped(routing::SkipReason reason) {
  if (reason == routing::SkipReason::tried) return;
  (reason == routing::SkipReason::busy ? saw_busy_ : saw_other_) = true;
}

void FailoverTally::attempt_ended(AttemptResult result, HangupCause why) {
  (result == AttemptResult::busy ? saw_busy_ : saw_other_) = true;
  last_failure_ = why;
}

NoBuyerAnswer FailoverTally::when_none_left() const {
  if (saw_busy_ && !saw_other_) return {486, "Busy Here (All Buyers Busy)"};
  return {480, "Temporarily Unavailable (No Buyer Available)"};
}

bool should_try_next_buyer(AttemptResult result, bool publisher_waiting) {
  return result != AttemptResult::answered && publisher_waiting;
}

AttemptResult result_of_status(int status) {
  if (status >= 200 && status < 300) return AttemptResult::answered;
  if (status == 486 || status == 600) return AttemptResult::busy;
  if (status == 487) return AttemptResult::cancelled;
  return AttemptResult::failed;
}

}  // namespace sipgw::gateway
