// Call detail records: one row per call and one per buyer attempt, written
// in batches (one transaction per batch) off the SIP thread.
#pragma once

#include "db/sqlite.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sipgw::db {

struct CallAttemptRecord {
  int attempt = 1;
  std::string buyer_id;
  std::string target;
  std::optional<std::int64_t> status;  // SIP status; none when no final response came
  std::string reason;
  std::int64_t started_at = 0;  // Unix milliseconds
  std::optional<std::int64_t> answer_at;
  std::optional<std::int64_t> ended_at;
};

// Something a call did that postbacks report (db/call_events.h).
struct CallEvent {
  std::string id;     // a UUID: the deliveries' Idempotency-Key
  std::string event;  // inbound | connected | converted | completed | blocked | rejected
  std::int64_t at_ms = 0;
};

struct CallRecord {
  std::string uuid;
  std::string postback_key;
  std::string publisher_id;
  std::optional<std::string> sub_id;
  std::string caller;
  std::string number;
  std::string campaign_id;
  std::optional<std::string> buyer_id;  // the buyer that answered, if any
  std::int64_t invite_at = 0;
  std::optional<std::int64_t> answer_at;
  std::int64_t end_at = 0;
  int final_status = 0;
  std::string hangup_side;   // publisher | buyer | gateway
  std::string hangup_cause;  // BYE, CANCEL, ring_timeout, buyer_status, drain, ...
  std::vector<CallAttemptRecord> attempts;
  std::optional<std::string> outcome;       // "blocked" for a call screened out before any buyer
  std::optional<std::string> block_reason;  // why (routing::ScreenReason's words)
  std::string attestation = "none";         // the STIR/SHAKEN attestation claimed: A, B, C or none
  // A connected call's record written at the answer, so a kill -9 cannot
  // lose it: end_at, final_status and the hangup fields are stored NULL
  // until the finished record replaces the row.
  bool in_progress = false;
  std::optional<std::int64_t> converted_at;  // kept once stored: a later record never clears it
  // Events stored with this record, in the same transaction (their
  // postback deliveries included); with events_only the row itself is not
  // written (an inbound call has no row until it is answered or ends).
  std::vector<CallEvent> events;
  bool events_only = false;
};

// A call the gateway let in, as the counts rebuilt at start need it.
struct RecentCall {
  std::optional<std::string> buyer_id;  // the buyer that answered
  std::string publisher_id;
  std::string campaign_id;
  std::string caller;
  std::int64_t invite_at = 0;
  std::optional<std::int64_t> answer_at;
  std::optional<std::int64_t> converted_at;
};

// Every call since `since_ms` that was not screened out, oldest first: what
// buyer and publisher caps and the repeat-caller memory count, read once at
// start so a restart does not reset them.
DbResult<std::vector<RecentCall>> load_recent_calls(Connection& connection, std::int64_t since_ms);

// At start: rows a previous process left in progress (it was killed) are
// closed as hangup_side gateway, hangup_cause gateway_restart, their end
// unknown (end_at stays NULL). Returns how many.
DbResult<std::int64_t> close_unfinished_calls(Connection& connection);

class CdrWriter {
 public:
  explicit CdrWriter(Connection& connection) : connection_(connection) {}
  // All records in one transaction: either every row is stored or none.
  DbResult<void> write(const std::vector<CallRecord>& calls);

 private:
  Connection& connection_;
};

}  // namespace sipgw::db
