// Call events and their postbacks, on the database side: when a call record
// is written, each of its events becomes one delivery per matching postback
// (rendered from the record's [tokens] right then) in the postback outbox,
// in the same transaction, so an event is stored exactly when its record
// is. The sender (gateway/postback_sender.h) takes deliveries from the
// outbox; admins list and retry them with sipgwctl.
#pragma once

#include "db/cdr_writer.h"

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace sipgw::db {

// The events postbacks may subscribe to.
const std::vector<std::string>& call_event_names();

// Inside a CdrWriter transaction.
class EventStore {
 public:
  explicit EventStore(Connection& connection) : connection_(connection) {}
  // A "converted" or "rejected" event counts once per call: claims it on the
  // row (converted_at / rejected_at still empty) before the row is written;
  // an event whose call was already converted (or rejected) is dropped.
  DbResult<void> claim(const CallRecord& record);
  // Stores the record's events that were not dropped, with their deliveries.
  DbResult<void> store(const CallRecord& record);

 private:
  Connection& connection_;
  std::set<std::string> dropped_;  // event ids
};

// A delivery the sender makes: one HTTP request.
struct Delivery {
  std::int64_t id = 0;
  std::string event_id;
  std::string call_uuid;  // with its receiver: "<uuid> <scheme://host:port>" (the ordering key)
  std::string event;
  std::string method;
  std::string url;
  std::string headers;  // "Name: value" lines joined by LF
  std::string body;
  std::int64_t created_at = 0;
  std::int64_t attempts = 0;
};

// Due pending deliveries (next_attempt_at <= now_ms), oldest first, at most
// limit, none whose call has an older delivery to the same receiver still
// pending (a call's events reach each receiver in order) and none whose
// call_uuid (with receiver) is in `busy` (in flight now).
DbResult<std::vector<Delivery>> due_deliveries(Connection& connection, std::int64_t now_ms, std::size_t limit,
                                               const std::set<std::string>& busy);
// How a delivery went.
DbResult<void> delivery_succeeded(Connection& connection, std::int64_t id, int status, std::int64_t now_ms);
// A failed try: retried at next_attempt_ms, or failed for good (dead letter)
// when next_attempt_ms is none.
DbResult<void> delivery_failed(Connection& connection, std::int64_t id, std::optional<int> status,
                               const std::string& error, std::optional<std::int64_t> next_attempt_ms);
// Deliveries waiting (pending), for the outbox depth gauge.
DbResult<std::int64_t> pending_deliveries(Connection& connection);
// The earliest next_attempt_at of a pending delivery, if any.
DbResult<std::optional<std::int64_t>> next_delivery_due(Connection& connection);

// The API (gateway/main.cpp): a buyer's system reports an outcome for the
// call with this postback key. Returns the call's uuid and whether this
// report was the first (an event was stored); nullopt: no such call.
struct ReportedOutcome {
  std::string call_uuid;
  std::string campaign_id;
  std::string caller;
  bool first = false;
  std::int64_t at_ms = 0;  // when the outcome was first recorded
};
DbResult<std::optional<ReportedOutcome>> report_outcome(Connection& connection, const std::string& postback_key,
                                                        const std::string& event, std::int64_t now_ms,
                                                        const std::string& event_id);

}  // namespace sipgw::db
