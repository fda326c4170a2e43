#include "db/admin.h"
#include "db/admin_support.h"

#include "auth/e164.h"
#include "routing/headers.h"
#include "routing/hours.h"
#include "routing/target.h"
#include "routing/time_zone.h"

#include <date/tz.h>

#include <chrono>

// Admin: campaigns, numbers, buyers, routes, trunk: where calls go.

namespace sipgw::db {

using namespace support;

namespace {

// Counts a buyer's connected calls since local midnight and since the top
// of the local hour, in the buyer's own time zone.
struct BuyerCounts {
  std::int64_t today = 0;
  std::int64_t this_hour = 0;
};

AdminResult<BuyerCounts> buyer_counts(Connection& db, const std::string& buyer_id, const std::string& zone_name,
                                      std::int64_t now_ms) {
  auto zone = routing::find_time_zone(zone_name);
  if (!zone) return BuyerCounts{};
  using namespace std::chrono;
  auto now = sys_time<milliseconds>(milliseconds(now_ms));
  date::zoned_time local_now(*zone, now);
  auto local = local_now.get_local_time();
  auto day_start = (*zone)->to_sys(floor<days>(local), date::choose::earliest);
  auto hour_start = (*zone)->to_sys(floor<hours>(local), date::choose::earliest);
  auto count = [&](auto since) -> AdminResult<std::int64_t> {
    auto stmt = db.prepare("SELECT count(*) FROM calls WHERE buyer_id = ? AND answer_at >= ?");
    if (!stmt) return std::unexpected(from_db(stmt.error()));
    stmt->bind_all(buyer_id, static_cast<std::int64_t>(duration_cast<milliseconds>(since.time_since_epoch()).count()));
    auto row = stmt->step();
    if (!row) return std::unexpected(from_db(row.error()));
    return stmt->int64(0);
  };
  auto today = count(day_start);
  if (!today) return std::unexpected(today.error());
  auto hour = count(hour_start);
  if (!hour) return std::unexpected(hour.error());
  return BuyerCounts{*today, *hour};
}

}  // namespace

// ---- campaigns ----

namespace {

AdminResult<void> check_max_duration(const CapChange& max_duration) {
  if (max_duration && *max_duration) return check_range("max duration", **max_duration, 0, 7 * 86400, "seconds (0: no limit)");
  return {};
}

}  // namespace

AdminResult<void> Admin::add_campaign(const std::string& id, const std::string& name, std::int64_t ring_timeout,
                                      CapChange max_duration, const ScreeningChanges& screening) {
  if (auto ok = check_id("campaign", id); !ok) return ok;
  if (auto ok = check_text("campaign name", name); !ok) return ok;
  if (auto ok = check_range("ring timeout", ring_timeout, 1, 600, "seconds"); !ok) return ok;
  if (auto ok = check_max_duration(max_duration); !ok) return ok;
  if (auto ok = check_screening(screening); !ok) return ok;
  return in_transaction(db_, [&]() -> AdminResult<void> {
    if (auto ok = refuse_if_exists(db_, "campaign '" + id + "' already exists", "SELECT 1 FROM campaigns WHERE id = ?", id);
        !ok) {
      return ok;
    }
    if (auto ok = run(db_, "INSERT INTO campaigns (id, name, ring_timeout, max_duration) VALUES (?, ?, ?, ?)", id, name,
                      ring_timeout, max_duration ? *max_duration : std::nullopt);
        !ok) {
      return ok;
    }
    return apply_screening(db_, id, screening);
  });
}

AdminResult<void> Admin::update_campaign(const std::string& id, const std::optional<std::string>& name,
                                         std::optional<std::int64_t> ring_timeout, CapChange max_duration,
                                         const ScreeningChanges& screening) {
  if (name) {
    if (auto ok = check_text("campaign name", *name); !ok) return ok;
  }
  if (ring_timeout) {
    if (auto ok = check_range("ring timeout", *ring_timeout, 1, 600, "seconds"); !ok) return ok;
  }
  if (auto ok = check_max_duration(max_duration); !ok) return ok;
  if (auto ok = check_screening(screening); !ok) return ok;
  return in_transaction(db_, [&]() -> AdminResult<void> {
    if (auto ok = run_one(db_, "unknown campaign '" + id + "'",
                          "UPDATE campaigns SET name = coalesce(?1, name), ring_timeout = coalesce(?2, ring_timeout), "
                          "max_duration = CASE WHEN ?3 THEN ?4 ELSE max_duration END WHERE id = ?5",
                          name, ring_timeout, max_duration ? 1 : 0, max_duration ? *max_duration : std::nullopt, id);
        !ok) {
      return ok;
    }
    return apply_screening(db_, id, screening);
  });
}

AdminResult<Records> Admin::list_campaigns() {
  return query(db_,
               "SELECT id, name, ring_timeout, max_duration, repeat_window, repeat_after, repeat_route, "
               "coalesce(min_attestation, 'none') AS min_attestation, conversion_seconds FROM campaigns ORDER BY id");
}

AdminResult<void> Admin::remove_campaign(const std::string& id) {
  return in_transaction(db_, [&]() -> AdminResult<void> {
    if (auto ok = require(db_, "campaign", "campaigns", id); !ok) return ok;
    if (auto ok = refuse_if_exists(db_, "campaign '" + id + "' still has numbers; remove them first",
                                 "SELECT 1 FROM numbers WHERE campaign_id = ?", id); !ok) return ok;
    if (auto ok = run(db_, "DELETE FROM routes WHERE campaign_id = ?", id); !ok) return ok;
    if (auto ok = run(db_, "DELETE FROM blocks WHERE campaign_id = ?", id); !ok) return ok;
    return run(db_, "DELETE FROM campaigns WHERE id = ?", id);
  });
}

// ---- numbers ----

AdminResult<void> Admin::add_number(const std::string& e164, const std::string& campaign_id,
                                    const std::optional<std::string>& publisher_id) {
  if (!auth::is_e164(e164)) return std::unexpected(invalid("'" + e164 + "' is not an E.164 number (+ and 8 to 15 digits)"));
  return in_transaction(db_, [&]() -> AdminResult<void> {
    if (auto ok = require(db_, "campaign", "campaigns", campaign_id); !ok) return ok;
    if (publisher_id) {
      if (auto ok = require(db_, "publisher", "publishers", *publisher_id); !ok) return ok;
    }
    if (auto ok = refuse_if_exists(db_, "number " + e164 + " already exists", "SELECT 1 FROM numbers WHERE e164 = ?", e164);
        !ok) {
      return ok;
    }
    return run(db_, "INSERT INTO numbers (e164, campaign_id, publisher_id) VALUES (?, ?, ?)", e164, campaign_id,
               publisher_id);
  });
}

AdminResult<Records> Admin::list_numbers(const std::optional<std::string>& campaign_id) {
  auto rows = query(db_,
                    "SELECT e164, campaign_id, publisher_id, enabled FROM numbers WHERE ?1 IS NULL OR campaign_id = ?1 "
                    "ORDER BY e164",
                    campaign_id);
  if (rows) as_bool(*rows, "enabled");
  return rows;
}

AdminResult<void> Admin::remove_number(const std::string& e164) {
  return in_transaction(db_, [&]() -> AdminResult<void> {
    return run_one(db_, "unknown number '" + e164 + "'", "DELETE FROM numbers WHERE e164 = ?", e164);
  });
}

AdminResult<void> Admin::set_number_enabled(const std::string& e164, bool enabled) {
  return in_transaction(db_, [&]() -> AdminResult<void> {
    return run_one(db_, "unknown number '" + e164 + "'", "UPDATE numbers SET enabled = ? WHERE e164 = ?", enabled ? 1 : 0,
                   e164);
  });
}

// ---- buyers ----

namespace {

AdminResult<std::vector<routing::HeaderTemplate>> validate_buyer(Connection& db, const BuyerChanges& c) {
  if (c.target) {
    auto kind = routing::classify_target(*c.target);
    if (!kind) return std::unexpected(invalid(kind.error()));
    if (*kind == routing::TargetKind::pstn) {
      auto trunk = exists(db, "SELECT 1 FROM trunk WHERE id = 1");
      if (!trunk) return std::unexpected(trunk.error());
      if (!*trunk) return std::unexpected(invalid("target " + *c.target + " is a PSTN number but no trunk is configured (sipgwctl trunk set)"));
    }
  }
  if (c.auth_user && !c.auth_password) return std::unexpected(invalid("--auth-user needs --auth-password-stdin"));
  if (c.auth_password && !c.auth_user) return std::unexpected(invalid("--auth-password-stdin needs --auth-user"));
  if (c.auth_user) {
    if (auto ok = check_outbound_user(*c.auth_user); !ok) return std::unexpected(ok.error());
  }
  if (c.auth_password) {
    if (auto ok = check_password(*c.auth_password); !ok) return std::unexpected(ok.error());
  }
  for (auto [what, cap] : {std::pair{"concurrency cap", &c.concurrency_cap}, std::pair{"hourly cap", &c.hourly_cap},
                           std::pair{"daily cap", &c.daily_cap}}) {
    if (auto ok = check_cap(what, *cap); !ok) return std::unexpected(ok.error());
  }
  if (c.hours) {
    if (auto h = routing::parse_hours(*c.hours); !h) return std::unexpected(invalid(h.error()));
  }
  if (c.time_zone) {
    if (auto z = routing::find_time_zone(*c.time_zone); !z) return std::unexpected(invalid(z.error()));
  }
  if (c.connect_timeout) {
    if (auto ok = check_range("connect timeout", *c.connect_timeout, 1, 600, "seconds"); !ok) return std::unexpected(ok.error());
  }
  std::vector<routing::HeaderTemplate> headers;
  if (c.headers) {
    for (const auto& line : *c.headers) {
      auto h = routing::parse_header_template(line);
      if (!h) return std::unexpected(invalid(h.error()));
      headers.push_back(*h);
    }
  }
  return headers;
}

AdminResult<void> write_buyer_headers(Connection& db, const std::string& id,
                                      const std::vector<routing::HeaderTemplate>& headers) {
  if (auto ok = run(db, "DELETE FROM buyer_headers WHERE buyer_id = ?", id); !ok) return ok;
  std::int64_t position = 0;
  for (const auto& h : headers) {
    if (auto ok = run(db, "INSERT INTO buyer_headers (buyer_id, position, name, value) VALUES (?, ?, ?, ?)", id,
                      ++position, h.name, h.value);
        !ok) {
      return ok;
    }
  }
  return {};
}

// Turns a CapChange into (is it changing?, new value) for SQL binding.
std::int64_t changes_flag(const CapChange& c) { return c ? 1 : 0; }
std::optional<std::int64_t> cap_value(const CapChange& c) { return c ? *c : std::nullopt; }

}  // namespace

AdminResult<void> Admin::add_buyer(const std::string& id, const BuyerChanges& spec) {
  if (auto ok = check_id("buyer", id); !ok) return ok;
  if (!spec.target) return std::unexpected(invalid("a buyer needs --target"));
  if (spec.clear_auth) return std::unexpected(invalid("--clear-auth is for buyer update"));
  return in_transaction(db_, [&]() -> AdminResult<void> {
    auto headers = validate_buyer(db_, spec);
    if (!headers) return std::unexpected(headers.error());
    if (auto ok = refuse_if_exists(db_, "buyer '" + id + "' already exists", "SELECT 1 FROM buyers WHERE id = ?", id); !ok) {
      return ok;
    }
    auto ok = run(db_,
                  "INSERT INTO buyers (id, target, auth_user, auth_password, concurrency_cap, hourly_cap, daily_cap, "
                  "hours, time_zone, connect_timeout, enabled, pass_identity, pass_asserted_identity) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  id, *spec.target, spec.auth_user, spec.auth_password, cap_value(spec.concurrency_cap),
                  cap_value(spec.hourly_cap), cap_value(spec.daily_cap), spec.hours.value_or(""),
                  spec.time_zone.value_or("UTC"), spec.connect_timeout.value_or(10),
                  spec.enabled.value_or(true) ? 1 : 0, spec.pass_identity.value_or(true) ? 1 : 0,
                  spec.pass_asserted_identity.value_or(false) ? 1 : 0);
    if (!ok) return ok;
    return write_buyer_headers(db_, id, *headers);
  });
}

AdminResult<void> Admin::update_buyer(const std::string& id, const BuyerChanges& c) {
  if (c.clear_auth && (c.auth_user || c.auth_password)) {
    return std::unexpected(invalid("--clear-auth cannot be combined with new credentials"));
  }
  return in_transaction(db_, [&]() -> AdminResult<void> {
    if (auto ok = require(db_, "buyer", "buyers", id); !ok) return ok;
    auto headers = validate_buyer(db_, c);
    if (!headers) return std::unexpected(headers.error());
    std::optional<std::int64_t> enabled, pass_identity, pass_asserted_identity;
    if (c.enabled) enabled = *c.enabled ? 1 : 0;
    if (c.pass_identity) pass_identity = *c.pass_identity ? 1 : 0;
    if (c.pass_asserted_identity) pass_asserted_identity = *c.pass_asserted_identity ? 1 : 0;
    auto ok = run(db_,
                  "UPDATE buyers SET target = coalesce(?1, target), "
                  "auth_user = CASE WHEN ?2 THEN NULL ELSE coalesce(?3, auth_user) END, "
                  "auth_password = CASE WHEN ?2 THEN NULL ELSE coalesce(?4, auth_password) END, "
                  "concurrency_cap = CASE WHEN ?5 THEN ?6 ELSE concurrency_cap END, "
                  "hourly_cap = CASE WHEN ?7 THEN ?8 ELSE hourly_cap END, "
                  "daily_cap = CASE WHEN ?9 THEN ?10 ELSE daily_cap END, "
                  "hours = coalesce(?11, hours), time_zone = coalesce(?12, time_zone), "
                  "connect_timeout = coalesce(?13, connect_timeout), enabled = coalesce(?14, enabled), "
                  "pass_identity = coalesce(?16, pass_identity), "
                  "pass_asserted_identity = coalesce(?17, pass_asserted_identity) WHERE id = ?15",
                  c.target, c.clear_auth ? 1 : 0, c.auth_user, c.auth_password, changes_flag(c.concurrency_cap),
                  cap_value(c.concurrency_cap), changes_flag(c.hourly_cap), cap_value(c.hourly_cap),
                  changes_flag(c.daily_cap), cap_value(c.daily_cap), c.hours, c.time_zone, c.connect_timeout, enabled,
                  id, pass_identity, pass_asserted_identity);
    if (!ok) return ok;
    if (c.headers) return write_buyer_headers(db_, id, *headers);
    return {};
  });
}

namespace {

constexpr std::string_view kBuyerColumns =
    "SELECT id, target, auth_user, auth_password IS NOT NULL AS has_auth_password, concurrency_cap, hourly_cap, "
    "daily_cap, hours, time_zone, connect_timeout, enabled, pass_identity, pass_asserted_identity, conversion_seconds "
    "FROM buyers";

AdminResult<void> add_live_counts(Connection& db, Record& r, std::int64_t now_ms) {
  std::string id, zone;
  for (auto& [name, value] : r) {
    if (name == "id") id = std::get<std::string>(value);
    if (name == "time_zone") zone = std::get<std::string>(value);
  }
  auto counts = buyer_counts(db, id, zone, now_ms);
  if (!counts) return std::unexpected(counts.error());
  r.emplace_back("calls_this_hour", counts->this_hour);
  r.emplace_back("calls_today", counts->today);
  return {};
}

}  // namespace

AdminResult<Records> Admin::list_buyers(std::int64_t now_ms) {
  auto rows = query(db_, std::string(kBuyerColumns) + " ORDER BY id");
  if (!rows) return rows;
  as_bool(*rows, "has_auth_password");
  as_bool(*rows, "enabled");
  as_bool(*rows, "pass_identity");
  as_bool(*rows, "pass_asserted_identity");
  for (auto& r : *rows) {
    if (auto ok = add_live_counts(db_, r, now_ms); !ok) return std::unexpected(ok.error());
  }
  return rows;
}

AdminResult<Record> Admin::show_buyer(const std::string& id, std::int64_t now_ms) {
  auto rows = query(db_, std::string(kBuyerColumns) + " WHERE id = ?", id);
  if (!rows) return std::unexpected(rows.error());
  if (rows->empty()) return std::unexpected(invalid("unknown buyer '" + id + "'"));
  as_bool(*rows, "has_auth_password");
  as_bool(*rows, "enabled");
  as_bool(*rows, "pass_identity");
  as_bool(*rows, "pass_asserted_identity");
  Record r = std::move((*rows)[0]);
  if (auto ok = add_live_counts(db_, r, now_ms); !ok) return std::unexpected(ok.error());
  auto headers = query(db_, "SELECT name, value FROM buyer_headers WHERE buyer_id = ? ORDER BY position", id);
  if (!headers) return std::unexpected(headers.error());
  std::int64_t n = 0;
  for (auto& h : *headers) {
    r.emplace_back("header." + std::to_string(++n),
                   std::get<std::string>(h[0].second) + ": " + std::get<std::string>(h[1].second));
  }
  return r;
}

AdminResult<void> Admin::remove_buyer(const std::string& id) {
  return in_transaction(db_, [&]() -> AdminResult<void> {
    if (auto ok = require(db_, "buyer", "buyers", id); !ok) return ok;
    if (auto ok = refuse_if_exists(db_, "buyer '" + id + "' takes a campaign's repeat callers; change its --repeat-route first",
                                   "SELECT 1 FROM campaigns WHERE repeat_route = ?", id);
        !ok) {
      return ok;
    }
    if (auto ok = refuse_if_exists(db_, "buyer '" + id + "' is still routed from a campaign; remove its routes first",
                                 "SELECT 1 FROM routes WHERE buyer_id = ?", id); !ok) return ok;
    return run(db_, "DELETE FROM buyers WHERE id = ?", id);  // headers cascade
  });
}

// ---- routes ----

AdminResult<void> Admin::add_route(const std::string& campaign_id, const std::string& buyer_id, std::int64_t priority,
                                   std::int64_t weight) {
  if (auto ok = check_range("weight", weight, 1, 1000000); !ok) return ok;
  if (auto ok = check_range("priority", priority, 0, 1000000); !ok) return ok;
  return in_transaction(db_, [&]() -> AdminResult<void> {
    if (auto ok = require(db_, "campaign", "campaigns", campaign_id); !ok) return ok;
    if (auto ok = require(db_, "buyer", "buyers", buyer_id); !ok) return ok;
    if (auto ok = refuse_if_exists(db_, "campaign '" + campaign_id + "' already routes to buyer '" + buyer_id + "'",
                                   "SELECT 1 FROM routes WHERE campaign_id = ? AND buyer_id = ?", campaign_id, buyer_id);
        !ok) {
      return ok;
    }
    return run(db_, "INSERT INTO routes (campaign_id, buyer_id, priority, weight) VALUES (?, ?, ?, ?)", campaign_id,
               buyer_id, priority, weight);
  });
}

AdminResult<Records> Admin::list_routes(const std::optional<std::string>& campaign_id) {
  return query(db_,
               "SELECT campaign_id, buyer_id, priority, weight FROM routes WHERE ?1 IS NULL OR campaign_id = ?1 "
               "ORDER BY campaign_id, priority, weight DESC, buyer_id",
               campaign_id);
}

AdminResult<void> Admin::remove_route(const std::string& campaign_id, const std::string& buyer_id) {
  return in_transaction(db_, [&]() -> AdminResult<void> {
    return run_one(db_, "no route from campaign '" + campaign_id + "' to buyer '" + buyer_id + "'",
                   "DELETE FROM routes WHERE campaign_id = ? AND buyer_id = ?", campaign_id, buyer_id);
  });
}

// ---- trunk ----

AdminResult<void> Admin::set_trunk(const TrunkChanges& t) {
  if (auto ok = routing::validate_trunk_proxy(t.proxy); !ok) return std::unexpected(invalid(ok.error()));
  if (t.auth_user.has_value() != t.auth_password.has_value()) {
    return std::unexpected(invalid("--auth-user and --auth-password-stdin go together"));
  }
  if (t.auth_password) {
    if (auto ok = check_password(*t.auth_password); !ok) return ok;
  }
  if (t.auth_user) {
    if (auto ok = check_outbound_user(*t.auth_user); !ok) return ok;
  }
  if (t.from_domain) {
    if (auto ok = check_host("from domain", *t.from_domain); !ok) return ok;
  }
  return in_transaction(db_, [&]() -> AdminResult<void> {
    return run(db_,
               "INSERT INTO trunk (id, proxy, auth_user, auth_password, from_domain) VALUES (1, ?, ?, ?, ?) "
               "ON CONFLICT (id) DO UPDATE SET proxy = excluded.proxy, auth_user = excluded.auth_user, "
               "auth_password = excluded.auth_password, from_domain = excluded.from_domain",
               t.proxy, t.auth_user, t.auth_password, t.from_domain);
  });
}

AdminResult<Record> Admin::show_trunk() {
  auto rows = query(db_, "SELECT proxy, auth_user, auth_password IS NOT NULL AS has_auth_password, from_domain FROM trunk");
  if (!rows) return std::unexpected(rows.error());
  if (rows->empty()) return std::unexpected(invalid("no trunk is configured (sipgwctl trunk set --proxy URI)"));
  as_bool(*rows, "has_auth_password");
  return (*rows)[0];
}

}  // namespace sipgw::db
