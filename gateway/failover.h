// Serial forking over a campaign's buyers, as a pure decision over typed
// attempt results (after Envoy's RetryState::shouldRetry): whether to try
// the next buyer, and what the publisher hears when nobody is left.
#pragma once

#include "routing/selection.h"

#include <optional>
#include <string_view>

namespace sipgw::gateway {

// How one buyer attempt ended.
enum class AttemptResult {
  answered,
  busy,       // 486 or 600: the buyer could take calls, not this one now
  failed,     // any other final status, or the leg died
  timeout,    // no 18x within the buyer's connect timeout, or no answer within the ring timeout
  cancelled,  // we cancelled it (the publisher went away, drain)
};
std::string_view to_string(AttemptResult result);  // the sipgw_buyer_attempts_total result label

// Why a call ended; the CDR's hangup_cause.
enum class HangupCause {
  none,
  bye,              // "BYE": a BYE from the hangup side
  cancel,           // "CANCEL": the publisher cancelled before the answer
  terminated,       // "terminated": a leg vanished (timeout, transport error)
  drain,            // "drain": sipgw hung up at the drain timeout
  no_buyer,         // "no_buyer": no eligible buyer at all
  connect_timeout,  // "connect_timeout": the last buyer sent no 18x in time
  ring_timeout,     // "ring_timeout": the last buyer did not answer in time
  buyer_status,     // "buyer_status": the last buyer refused with a final status
  cancelled,        // "cancelled": the last attempt was cancelled
  max_duration,     // "max_duration": the connected call reached its campaign's longest call
  max_setup,        // "max_setup": the publisher waited call.max_setup seconds without an answer
  session_expired,  // "session_expired": the hangup side's RFC 4028 session ran out (no refresh, or ours failed)
};
std::string_view to_string(HangupCause cause);

enum class HangupSide { none, publisher, buyer, gateway };
std::string_view to_string(HangupSide side);  // "" for none

// The publisher's final answer when no buyer is left.
struct NoBuyerAnswer {
  int status;
  const char* phrase;  // static storage
};

// What the attempts of one call have seen so far.
class FailoverTally {
 public:
  // A buyer the selector passed over (caps, hours, disabled, no trunk).
  void skipped(routing::SkipReason reason);
  // A buyer whose outbound INVITE could not be built (e.g. PSTN without trunk).
  void unroutable() { saw_other_ = true; }
  // An attempt that ended without an answer; why, for the CDR.
  void attempt_ended(AttemptResult result, HangupCause why);

  // 486 when every buyer was busy (486/600 or at a cap), else 480.
  NoBuyerAnswer when_none_left() const;
  HangupCause last_failure() const { return last_failure_; }

 private:
  bool saw_busy_ = false;
  bool saw_other_ = false;
  HangupCause last_failure_ = HangupCause::no_buyer;
};

// After an attempt ends without an answer: the next buyer gets the call
// only while the publisher is still waiting for its final response.
bool should_try_next_buyer(AttemptResult result, bool publisher_waiting);

// The result of a buyer's final status.
AttemptResult result_of_status(int status);

}  // namespace sipgw::gateway
