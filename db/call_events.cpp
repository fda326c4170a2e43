#include "db/call_events.h"

#include "routing/tokens.h"

#include <date/date.h>

#include <chrono>
#include <unordered_map>

namespace sipgw::db {

namespace {

std::string iso_time(std::int64_t ms) {
  return date::format("%FT%TZ", std::chrono::floor<std::chrono::seconds>(
                                    std::chrono::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(ms))));
}

bool is_json(const std::string& headers) {
  // A Content-Type naming JSON among the postback's headers.
  std::string lower;
  for (char c : headers) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto at = lower.find("content-type:");
  return at != std::string::npos && lower.find("json", at) < lower.find('\n', at);
}

// The values of every token a postback may use, for one event of a call.
std::unordered_map<std::string, std::string> event_tokens(const CallRecord& c, const CallEvent& e) {
  std::unordered_map<std::string, std::string> t;
  t["call_uuid"] = c.uuid;
  t["postback_key"] = c.postback_key;
  t["publisher_id"] = c.publisher_id;
  t["sub_id"] = c.sub_id.value_or("");
  t["campaign_id"] = c.campaign_id;
  t["buyer_id"] = c.buyer_id.value_or("");
  t["number"] = c.number;
  t["caller_number"] = c.caller;
  t["attestation"] = c.attestation;
  t["event"] = e.event;
  t["event_id"] = e.id;
  t["timestamp"] = iso_time(e.at_ms);
  t["answered_at"] = c.answer_at ? iso_time(*c.answer_at) : "";
  // Seconds connected: to the end of the call, or to this event for one
  // that is still connected (converted).
  std::int64_t duration = 0;
  if (c.answer_at) duration = ((c.in_progress || c.end_at == 0 ? e.at_ms : c.end_at) - *c.answer_at) / 1000;
  t["duration"] = std::to_string(std::max<std::int64_t>(0, duration));
  t["hangup_side"] = c.in_progress ? "" : c.hangup_side;
  t["converted"] = c.converted_at || e.event == "converted" ? "true" : "false";
  return t;
}

// scheme://host:port of a URL: a call's deliveries to one receiver keep
// their order; a dead receiver holds up no other.
std::string receiver_of(const std::string& url) {
  const auto start = url.find("//");
  if (start == std::string::npos) return url;
  return url.substr(0, url.find_first_of("/?#", start + 2));
}

std::optional<std::int64_t> stored_time(Connection& db, const char* column, const std::string& uuid) {
  auto stmt = db.prepare(std::string("SELECT ") + column + " FROM calls WHERE uuid = ?");
  if (!stmt) return std::nullopt;
  stmt->bind(1, uuid);
  auto row = stmt->step();
  if (!row || !*row) return std::nullopt;
  return stmt->optional_int64(0);
}

}  // namespace

const std::vector<std::string>& call_event_names() {
  static const std::vector<std::string> kNames = {"inbound", "connected", "converted", "completed", "blocked", "rejected"};
  return kNames;
}

DbResult<void> EventStore::claim(const CallRecord& c) {
  for (const auto& e : c.events) {
    if (e.event != "converted" && e.event != "rejected") continue;
    const char* column = e.event == "converted" ? "converted_at" : "rejected_at";
    auto update = connection_.prepare(std::string("UPDATE calls SET ") + column + " = ?1 WHERE uuid = ?2 AND " + column +
                                      " IS NULL");
    if (!update) return std::unexpected(update.error());
    update->bind_all(e.at_ms, c.uuid);
    if (auto ok = update->run(); !ok) return ok;
    if (connection_.changes() > 0) continue;
    // Not claimed: already converted (drop it), or no row yet (the row this
    // record writes will carry it).
    auto exists = connection_.prepare("SELECT 1 FROM calls WHERE uuid = ?");
    if (!exists) return std::unexpected(exists.error());
    exists->bind(1, c.uuid);
    auto found = exists->step();
    if (!found) return std::unexpected(found.error());
    if (*found) dropped_.insert(e.id);
  }
  return {};
}

DbResult<void> EventStore::store(const CallRecord& c) {
  if (c.events.empty()) return {};
  auto match_handle = connection_.prepare_cached(
      "SELECT id, method, url, headers, body FROM postbacks WHERE event = ?1 AND (campaign_id IS NULL OR campaign_id = ?2) "
      "AND (publisher_id IS NULL OR publisher_id = ?3) AND (buyer_id IS NULL OR buyer_id = ?4) ORDER BY id");
  if (!match_handle) return std::unexpected(match_handle.error());
  Statement* match = &**match_handle;
  auto insert_handle = connection_.prepare_cached(
      "INSERT INTO postback_outbox (event_id, postback_id, call_uuid, receiver, event, method, url, headers, body, "
      "created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!insert_handle) return std::unexpected(insert_handle.error());
  Statement* insert = &**insert_handle;
  for (const auto& e : c.events) {
    if (dropped_.count(e.id)) continue;
    CallRecord record = c;
    if (e.event == "completed" && !record.converted_at) record.converted_at = stored_time(connection_, "converted_at", c.uuid);
    const auto tokens = event_tokens(record, e);
    const routing::TokenLookup lookup = [&tokens](std::string_view name) -> const std::string* {
      auto it = tokens.find(std::string(name));
      return it == tokens.end() ? nullptr : &it->second;
    };
    match->reset();
    match->bind_all(e.event, c.campaign_id, c.publisher_id, c.buyer_id);
    while (true) {
      auto row = match->step();
      if (!row) return std::unexpected(row.error());
      if (!*row) break;
      const std::string headers_template = match->text(3);
      const std::string url = routing::expand_tokens(match->text(2), lookup, routing::TokenContext::url);
      // Line by line: a value can never end its header or start another.
      std::string headers;
      std::size_t start = 0;
      while (start < headers_template.size()) {
        auto end = headers_template.find('\n', start);
        if (end == std::string::npos) end = headers_template.size();
        if (!headers.empty()) headers += '\n';
        headers += routing::expand_tokens(std::string_view(headers_template).substr(start, end - start), lookup,
                                          routing::TokenContext::header_value);
        start = end + 1;
      }
      const std::string body = routing::expand_tokens(
          match->text(4), lookup, is_json(headers_template) ? routing::TokenContext::json : routing::TokenContext::url);
      insert->bind_all(e.id, match->int64(0), c.uuid, receiver_of(url), e.event, match->text(1), url, headers, body,
                       e.at_ms, e.at_ms);
      if (auto ok = insert->run(); !ok) return ok;
      insert->reset();
    }
  }
  return {};
}

DbResult<std::vector<Delivery>> due_deliveries(Connection& db, std::int64_t now_ms, std::size_t limit,
                                               const std::set<std::string>& busy) {
  auto handle = db.prepare_cached(
      "SELECT o.id, o.event_id, o.call_uuid || ' ' || o.receiver, o.event, o.method, o.url, o.headers, o.body, "
      "o.created_at, o.attempts FROM postback_outbox o WHERE o.state = 'pending' AND o.next_attempt_at <= ?1 AND NOT EXISTS "
      "(SELECT 1 FROM postback_outbox p WHERE p.call_uuid = o.call_uuid AND p.receiver = o.receiver AND p.id < o.id "
      "AND p.state = 'pending') "
      "ORDER BY o.next_attempt_at, o.id LIMIT ?2");
  if (!handle) return std::unexpected(handle.error());
  Statement* stmt = &**handle;
  stmt->bind_all(now_ms, static_cast<std::int64_t>(limit + busy.size()));
  std::vector<Delivery> out;
  while (out.size() < limit) {
    auto row = stmt->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    Delivery d{stmt->int64(0), stmt->text(1), stmt->text(2), stmt->text(3), stmt->text(4), stmt->text(5),
               stmt->text(6), stmt->text(7), stmt->int64(8), stmt->int64(9)};
    if (busy.count(d.call_uuid)) continue;
    out.push_back(std::move(d));
  }
  return out;
}

DbResult<void> delivery_succeeded(Connection& db, std::int64_t id, int status, std::int64_t now_ms) {
  auto handle = db.prepare_cached(
      "UPDATE postback_outbox SET state = 'delivered', attempts = attempts + 1, last_status = ?1, last_error = '', "
      "delivered_at = ?2 WHERE id = ?3");
  if (!handle) return std::unexpected(handle.error());
  Statement* stmt = &**handle;
  stmt->bind_all(static_cast<std::int64_t>(status), now_ms, id);
  return stmt->run();
}

DbResult<void> delivery_failed(Connection& db, std::int64_t id, std::optional<int> status, const std::string& error,
                               std::optional<std::int64_t> next_attempt_ms) {
  auto handle = db.prepare_cached(
      "UPDATE postback_outbox SET state = CASE WHEN ?1 IS NULL THEN 'failed' ELSE 'pending' END, "
      "attempts = attempts + 1, next_attempt_at = coalesce(?1, next_attempt_at), last_status = ?2, last_error = ?3 "
      "WHERE id = ?4");
  if (!handle) return std::unexpected(handle.error());
  Statement* stmt = &**handle;
  std::optional<std::int64_t> code;
  if (status) code = *status;
  stmt->bind_all(next_attempt_ms, code, error, id);
  return stmt->run();
}

DbResult<std::int64_t> pending_deliveries(Connection& db) {
  return db.query_int("SELECT count(*) FROM postback_outbox WHERE state = 'pending'");
}

DbResult<std::optional<std::int64_t>> next_delivery_due(Connection& db) {
  auto stmt = db.prepare("SELECT min(next_attempt_at) FROM postback_outbox WHERE state = 'pending'");
  if (!stmt) return std::unexpected(stmt.error());
  auto row = stmt->step();
  if (!row) return std::unexpected(row.error());
  return stmt->optional_int64(0);
}

DbResult<std::optional<ReportedOutcome>> report_outcome(Connection& db, const std::string& postback_key,
                                                        const std::string& event, std::int64_t now_ms,
                                                        const std::string& event_id) {
  auto tx = Transaction::begin(db);
  if (!tx) return std::unexpected(tx.error());
  auto stmt = db.prepare(
      "SELECT uuid, postback_key, coalesce(publisher_id, ''), sub_id, coalesce(caller, ''), number, "
      "coalesce(campaign_id, ''), buyer_id, invite_at, answer_at, end_at, coalesce(hangup_side, ''), "
      "coalesce(attestation, 'none'), converted_at, rejected_at, hangup_cause IS NULL FROM calls WHERE postback_key = ?");
  if (!stmt) return std::unexpected(stmt.error());
  stmt->bind(1, postback_key);
  auto row = stmt->step();
  if (!row) return std::unexpected(row.error());
  if (!*row) return std::optional<ReportedOutcome>{};
  CallRecord c;
  c.uuid = stmt->text(0);
  c.postback_key = stmt->text(1);
  c.publisher_id = stmt->text(2);
  c.sub_id = stmt->optional_text(3);
  c.caller = stmt->text(4);
  c.number = stmt->text(5);
  c.campaign_id = stmt->text(6);
  c.buyer_id = stmt->optional_text(7);
  c.invite_at = stmt->int64(8);
  c.answer_at = stmt->optional_int64(9);
  c.end_at = stmt->optional_int64(10).value_or(0);
  c.hangup_side = stmt->text(11);
  c.attestation = stmt->text(12);
  c.converted_at = stmt->optional_int64(13);
  const auto rejected_at = stmt->optional_int64(14);
  c.in_progress = stmt->int64(15) != 0;
  const auto earlier = event == "converted" ? c.converted_at : rejected_at;
  ReportedOutcome out{c.uuid, c.campaign_id, c.caller, !earlier.has_value(), earlier.value_or(now_ms)};
  if (out.first) {
    c.events.push_back({event_id, event, now_ms});
    EventStore events(db);
    if (auto ok = events.claim(c); !ok) return std::unexpected(ok.error());
    if (auto ok = events.store(c); !ok) return std::unexpected(ok.error());
  }
  if (auto ok = tx->commit(); !ok) return std::unexpected(ok.error());
  return std::optional<ReportedOutcome>{out};
}

}  // namespace sipgw::db
