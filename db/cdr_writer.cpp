#include "db/cdr_writer.h"

#include "db/call_events.h"

namespace sipgw::db {

DbResult<std::vector<RecentCall>> load_recent_calls(Connection& connection, std::int64_t since_ms) {
  auto stmt = connection.prepare(
      "SELECT buyer_id, coalesce(publisher_id, ''), coalesce(campaign_id, ''), coalesce(caller, ''), invite_at, answer_at, "
      "converted_at FROM calls WHERE invite_at >= ?1 AND outcome IS NULL ORDER BY invite_at");
  if (!stmt) return std::unexpected(stmt.error());
  stmt->bind(1, since_ms);
  std::vector<RecentCall> out;
  while (true) {
    auto row = stmt->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return out;
    out.push_back({stmt->optional_text(0), stmt->text(1), stmt->text(2), stmt->text(3), stmt->int64(4),
                   stmt->optional_int64(5), stmt->optional_int64(6)});
  }
}

DbResult<std::int64_t> close_unfinished_calls(Connection& connection) {
  auto stmt = connection.prepare(
      "UPDATE calls SET final_status = CASE WHEN answer_at IS NOT NULL THEN 200 ELSE 500 END, "
      "hangup_side = 'gateway', hangup_cause = 'gateway_restart' WHERE hangup_cause IS NULL AND end_at IS NULL");
  if (!stmt) return std::unexpected(stmt.error());
  if (auto ok = stmt->run(); !ok) return std::unexpected(ok.error());
  return connection.changes();
}

DbResult<void> CdrWriter::write(const std::vector<CallRecord>& calls) {
  if (calls.empty()) return {};
  auto tx = Transaction::begin(connection_);
  if (!tx) return std::unexpected(tx.error());
  // An upsert, not a replace: a conversion or rejection stored meanwhile
  // (by the call's own timer or the API) stays.
  auto call_handle = connection_.prepare_cached(
      "INSERT INTO calls (uuid, postback_key, publisher_id, sub_id, caller, number, campaign_id, buyer_id, "
      "attempts, invite_at, answer_at, end_at, final_status, hangup_side, hangup_cause, outcome, block_reason, "
      "attestation, converted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (uuid) DO UPDATE SET postback_key = excluded.postback_key, publisher_id = excluded.publisher_id, "
      "sub_id = excluded.sub_id, caller = excluded.caller, number = excluded.number, campaign_id = excluded.campaign_id, "
      "buyer_id = excluded.buyer_id, attempts = excluded.attempts, invite_at = excluded.invite_at, "
      "answer_at = excluded.answer_at, end_at = excluded.end_at, final_status = excluded.final_status, "
      "hangup_side = excluded.hangup_side, hangup_cause = excluded.hangup_cause, outcome = excluded.outcome, "
      "block_reason = excluded.block_reason, attestation = excluded.attestation, "
      "converted_at = coalesce(calls.converted_at, excluded.converted_at)");
  if (!call_handle) return std::unexpected(call_handle.error());
  Statement* call = &**call_handle;
  auto attempt_handle = connection_.prepare_cached(
      "INSERT OR REPLACE INTO call_attempts (call_uuid, attempt, buyer_id, target, status, reason, started_at, "
      "answer_at, ended_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!attempt_handle) return std::unexpected(attempt_handle.error());
  Statement* attempt = &**attempt_handle;
  EventStore events(connection_);
  for (const auto& c : calls) {
    // A conversion is claimed before the row is written, so that it is
    // reported once whoever (timer or API) got there first.
    if (auto ok = events.claim(c); !ok) return std::unexpected(ok.error());
    if (c.events_only) {
      if (auto ok = events.store(c); !ok) return std::unexpected(ok.error());
      continue;
    }
    const bool done = !c.in_progress;
    call->bind_all(c.uuid, c.postback_key, c.publisher_id, c.sub_id, c.caller, c.number, c.campaign_id, c.buyer_id,
                   static_cast<std::int64_t>(c.attempts.size()), c.invite_at, c.answer_at,
                   done ? std::optional<std::int64_t>(c.end_at) : std::nullopt,
                   done ? std::optional<std::int64_t>(c.final_status) : std::nullopt,
                   done ? std::optional<std::string>(c.hangup_side) : std::nullopt,
                   done ? std::optional<std::string>(c.hangup_cause) : std::nullopt, c.outcome, c.block_reason,
                   c.attestation, c.converted_at);
    if (auto ok = call->run(); !ok) return ok;
    call->reset();
    for (const auto& a : c.attempts) {
      attempt->bind_all(c.uuid, a.attempt, a.buyer_id, a.target, a.status, a.reason, a.started_at, a.answer_at,
                        a.ended_at);
      if (auto ok = attempt->run(); !ok) return ok;
      attempt->reset();
    }
    if (auto ok = events.store(c); !ok) return std::unexpected(ok.error());
  }
  return tx->commit();
}

}  // namespace sipgw::db
