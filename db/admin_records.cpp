#include "db/admin.h"
#include "db/admin_support.h"

#include "routing/settings.h"

// Admin: settings and call records.

namespace sipgw::db {

using namespace support;

// ---- settings ----

AdminResult<void> Admin::set_setting(const std::string& key, const std::string& value) {
  routing::Settings probe;
  if (auto ok = routing::apply_setting(probe, key, value); !ok) return std::unexpected(invalid(ok.error()));
  return in_transaction(db_, [&]() -> AdminResult<void> {
    return run(db_, "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
               key, value);
  });
}

AdminResult<Records> Admin::list_settings() {
  routing::Settings current;
  auto stored = query(db_, "SELECT key, value FROM settings");
  if (!stored) return stored;
  for (auto& row : *stored) {
    (void)routing::apply_setting(current, std::get<std::string>(row[0].second), std::get<std::string>(row[1].second));
  }
  Records out;
  for (const auto& info : routing::known_settings()) {
    out.push_back(Record{{"key", std::string(info.key)},
                         {"value", routing::setting_value(current, info.key)},
                         {"description", std::string(info.description)}});
  }
  return out;
}

// ---- calls ----

AdminResult<Records> Admin::list_calls(const CallFilter& f) {
  if (auto ok = check_range("limit", f.limit, 1, 100000); !ok) return std::unexpected(ok.error());
  return query(db_,
               "SELECT uuid, invite_at, number, caller, publisher_id, sub_id, campaign_id, buyer_id, attempts, "
               "answer_at, end_at, CASE WHEN answer_at IS NOT NULL THEN (end_at - answer_at) / 1000 END AS duration_s, "
               "final_status, hangup_side, hangup_cause, outcome, block_reason, attestation, converted_at FROM calls "
               "WHERE (?1 IS NULL OR campaign_id = ?1) AND (?2 IS NULL OR buyer_id = ?2) "
               "AND (?3 IS NULL OR publisher_id = ?3) AND (?4 IS NULL OR invite_at >= ?4) "
               "AND (?5 IS NULL OR invite_at < ?5) ORDER BY invite_at DESC, uuid LIMIT ?6",
               f.campaign_id, f.buyer_id, f.publisher_id, f.since_ms, f.until_ms, f.limit);
}

AdminResult<std::pair<Record, Records>> Admin::show_call(const std::string& uuid) {
  auto call = query(db_, "SELECT * FROM calls WHERE uuid = ?", uuid);
  if (!call) return std::unexpected(call.error());
  if (call->empty()) return std::unexpected(invalid("unknown call '" + uuid + "'"));
  auto attempts = query(db_,
                        "SELECT attempt, buyer_id, target, status, reason, started_at, answer_at, ended_at "
                        "FROM call_attempts WHERE call_uuid = ? ORDER BY attempt",
                        uuid);
  if (!attempts) return std::unexpected(attempts.error());
  return std::pair{std::move((*call)[0]), std::move(*attempts)};
}

}  // namespace sipgw::db
