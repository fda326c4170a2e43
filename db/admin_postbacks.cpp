// Admin: postbacks (where call events are reported) and their deliveries.
#include "db/admin.h"
#include "db/admin_support.h"

#include "db/call_events.h"
#include "routing/headers.h"

#include <algorithm>

namespace sipgw::db {

using namespace support;

namespace {

AdminResult<void> check_url(const std::string& url) {
  const bool scheme = url.starts_with("http://") || url.starts_with("https://");
  const auto host_at = url.find("//") + 2;
  const bool printable = std::all_of(url.begin(), url.end(), [](char c) { return c > 0x20 && c < 0x7f; });
  if (!scheme || !printable || url.size() > 2048 || host_at >= url.size() || url[host_at] == '/' ||
      url.find('@') != std::string::npos) {
    return std::unexpected(invalid("--url must be an http:// or https:// URL with a host, printable, no spaces, no "
                                   "user@ part ([tokens] allowed), not '" + url.substr(0, 80) + "'"));
  }
  return {};
}

AdminResult<std::string> check_headers(const std::vector<std::string>& headers) {
  std::string joined;
  for (const auto& h : headers) {
    const auto colon = h.find(':');
    const std::string name = colon == std::string::npos ? h : h.substr(0, colon);
    if (colon == std::string::npos || !routing::is_sip_token(name)) {
      return std::unexpected(invalid("--header must be 'Name: value', not '" + h.substr(0, 80) + "'"));
    }
    for (const char* own : {"Host", "Content-Length", "Idempotency-Key", "Connection", "Transfer-Encoding"}) {
      if (lower(name) == lower(own)) return std::unexpected(invalid("--header " + name + " is set by sipgw itself"));
    }
    if (std::any_of(h.begin(), h.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 && c != '\t'; })) {
      return std::unexpected(invalid("--header values may not hold control characters"));
    }
    joined += (joined.empty() ? "" : "\n") + h;
  }
  return joined;
}

}  // namespace

AdminResult<std::int64_t> Admin::add_postback(const PostbackSpec& p) {
  const auto& events = call_event_names();
  if (std::find(events.begin(), events.end(), p.event) == events.end()) {
    return std::unexpected(invalid("--event must be inbound, connected, converted, completed, blocked or rejected, not '" +
                                   p.event + "'"));
  }
  if (auto ok = check_url(p.url); !ok) return std::unexpected(ok.error());
  if (p.method != "GET" && p.method != "POST") return std::unexpected(invalid("--method must be GET or POST"));
  if (p.method == "GET" && !p.body.empty()) return std::unexpected(invalid("--body needs --method POST"));
  if (p.body.size() > 8192) return std::unexpected(invalid("--body is longer than 8192 bytes"));
  auto headers = check_headers(p.headers);
  if (!headers) return std::unexpected(headers.error());
  std::int64_t id = 0;
  auto ok = in_transaction(db_, [&]() -> AdminResult<void> {
    for (auto [what, table, value] : {std::tuple{"campaign", "campaigns", &p.campaign_id},
                                      std::tuple{"publisher", "publishers", &p.publisher_id},
                                      std::tuple{"buyer", "buyers", &p.buyer_id}}) {
      if (!*value) continue;
      if (auto found = require(db_, what, table, **value); !found) return found;
    }
    if (auto done = run(db_,
                        "INSERT INTO postbacks (event, url, method, headers, body, campaign_id, publisher_id, buyer_id) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        p.event, p.url, p.method, *headers, p.body, p.campaign_id, p.publisher_id, p.buyer_id);
        !done) {
      return done;
    }
    id = db_.query_int("SELECT last_insert_rowid()").value_or(0);
    return {};
  });
  if (!ok) return std::unexpected(ok.error());
  return id;
}

AdminResult<Records> Admin::list_postbacks() {
  return query(db_,
               "SELECT id, event, method, url, headers, body, campaign_id, publisher_id, buyer_id, "
               "(SELECT count(*) FROM postback_outbox o WHERE o.postback_id = p.id AND o.state = 'pending') AS pending, "
               "(SELECT count(*) FROM postback_outbox o WHERE o.postback_id = p.id AND o.state = 'failed') AS failed "
               "FROM postbacks p ORDER BY id");
}

AdminResult<void> Admin::remove_postback(std::int64_t id) {
  // Deliveries already stored stay (their requests are rendered).
  return in_transaction(db_, [&]() -> AdminResult<void> {
    return run_one(db_, "unknown postback " + std::to_string(id), "DELETE FROM postbacks WHERE id = ?", id);
  });
}

AdminResult<Records> Admin::list_postback_failures(std::int64_t limit) {
  if (auto ok = check_range("limit", limit, 1, 100000); !ok) return std::unexpected(ok.error());
  return query(db_,
               "SELECT id, postback_id, event, call_uuid, event_id, method, url, attempts, last_status, last_error, "
               "created_at FROM postback_outbox WHERE state = 'failed' ORDER BY id DESC LIMIT ?",
               limit);
}

AdminResult<void> Admin::retry_postback(std::int64_t delivery_id, std::int64_t now_ms) {
  return in_transaction(db_, [&]() -> AdminResult<void> {
    return run_one(db_, "no failed delivery " + std::to_string(delivery_id),
                   "UPDATE postback_outbox SET state = 'pending', next_attempt_at = ?1, created_at = ?1 "
                   "WHERE id = ?2 AND state = 'failed'",
                   now_ms, delivery_id);
  });
}

AdminResult<void> Admin::set_conversion_seconds(std::string_view table, const std::string& id, CapChange seconds) {
  if (!seconds) return {};
  if (*seconds) {
    if (auto ok = check_range("conversion time", **seconds, 1, 86400, "seconds"); !ok) return ok;
  }
  const std::string what = table == "campaigns" ? "campaign" : "buyer";
  return in_transaction(db_, [&]() -> AdminResult<void> {
    return run_one(db_, "unknown " + what + " '" + id + "'",
                   "UPDATE " + std::string(table) + " SET conversion_seconds = ? WHERE id = ?", *seconds, id);
  });
}

}  // namespace sipgw::db
