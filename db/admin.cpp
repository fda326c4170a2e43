#include "db/admin.h"

#include "auth/cidr.h"
#include "auth/digest.h"
#include "auth/e164.h"
#include "routing/headers.h"
#include "routing/hours.h"
#include "routing/provisioning.h"
#include "routing/settings.h"
#include "routing/target.h"
#include "routing/time_zone.h"

#include <date/tz.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <functional>

namespace sipgw::db {

namespace {

AdminError invalid(std::string message) { return {AdminError::Kind::invalid, std::move(message)}; }

AdminError from_db(const DbError& e) {
  // Constraint failures are caught by the checks below with a precise
  // message; one that still slips through is the caller's input, not a fault.
  if (e.is_constraint()) return {AdminError::Kind::invalid, "refused by the database: " + e.message};
  if (e.is_busy()) return {AdminError::Kind::database, "database is locked (busy timeout expired): " + e.message};
  return {AdminError::Kind::database, "database error: " + e.message};
}

template <class T>
AdminResult<T> lift(DbResult<T> r) {
  if (!r) return std::unexpected(from_db(r.error()));
  if constexpr (std::is_void_v<T>) {
    return {};
  } else {
    return std::move(*r);
  }
}

// Runs body inside BEGIN IMMEDIATE ... COMMIT; anything refused rolls back.
AdminResult<void> in_transaction(Connection& db, const std::function<AdminResult<void>()>& body) {
  auto tx = Transaction::begin(db);
  if (!tx) return std::unexpected(from_db(tx.error()));
  if (auto ok = body(); !ok) return ok;
  return lift(tx->commit());
}

template <class... Args>
AdminResult<void> run(Connection& db, std::string_view sql, const Args&... args) {
  auto stmt = db.prepare(sql);
  if (!stmt) return std::unexpected(from_db(stmt.error()));
  stmt->bind_all(args...);
  return lift(stmt->run());
}

template <class... Args>
AdminResult<bool> exists(Connection& db, std::string_view sql, const Args&... args) {
  auto stmt = db.prepare(sql);
  if (!stmt) return std::unexpected(from_db(stmt.error()));
  stmt->bind_all(args...);
  return lift(stmt->step());
}

template <class... Args>
AdminResult<Records> query(Connection& db, std::string_view sql, const Args&... args) {
  auto stmt = db.prepare(sql);
  if (!stmt) return std::unexpected(from_db(stmt.error()));
  stmt->bind_all(args...);
  Records out;
  while (true) {
    auto row = stmt->step();
    if (!row) return std::unexpected(from_db(row.error()));
    if (!*row) break;
    Record record;
    for (int i = 0; i < stmt->column_count(); ++i) {
      FieldValue value;
      switch (stmt->column_type(i)) {
        case SQLITE_NULL: break;
        case SQLITE_INTEGER: value = stmt->int64(i); break;
        default: value = stmt->text(i); break;
      }
      record.emplace_back(stmt->column_name(i), std::move(value));
    }
    out.push_back(std::move(record));
  }
  return out;
}

// Booleans are stored as 0/1; show them as true/false.
void as_bool(Records& records, std::string_view column) {
  for (auto& r : records) {
    for (auto& [name, value] : r) {
      if (name == column && std::holds_alternative<std::int64_t>(value)) value = std::get<std::int64_t>(value) != 0;
    }
  }
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool is_hostname(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == ':' || c == '[' || c == ']';
  });
}

// Ids become SIP header values (AFID) and CLI arguments: keep them printable.
AdminResult<void> check_id(std::string_view what, std::string_view id) {
  if (id.empty() || id.size() > 128) return std::unexpected(invalid(std::string(what) + " id must be 1 to 128 characters"));
  for (char c : id) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '[' || c == ']') {
      return std::unexpected(invalid(std::string(what) + " id '" + std::string(id) +
                                     "' may not contain spaces, control characters or brackets"));
    }
  }
  return {};
}

AdminResult<void> check_text(std::string_view what, std::string_view text) {
  if (!routing::is_safe_header_value(text)) return std::unexpected(invalid(std::string(what) + " has a control character"));
  return {};
}

AdminResult<void> check_password(const std::string& password) {
  if (password.empty()) return std::unexpected(invalid("password is empty"));
  if (!routing::is_safe_header_value(password)) return std::unexpected(invalid("password has a control character"));
  return {};
}

// A username sipgw sends to a buyer or the trunk. Any printable character,
// ':' included (sipgw computes the digest itself), except '"' and '\': a
// Digest username is a quoted-string, and peers differ on unescaping them.
AdminResult<void> check_outbound_user(const std::string& user) {
  if (user.empty() || !routing::is_safe_header_value(user) || user.find_first_of("\"\\") != std::string::npos) {
    return std::unexpected(invalid("auth user is empty or has a quote, backslash or control character"));
  }
  return {};
}

AdminResult<void> require(Connection& db, std::string_view what, std::string_view table, const std::string& id) {
  auto found = exists(db, "SELECT 1 FROM " + std::string(table) + " WHERE id = ?", id);
  if (!found) return std::unexpected(found.error());
  if (!*found) return std::unexpected(invalid("unknown " + std::string(what) + " '" + id + "'"));
  return {};
}

// Refuses a removal while other rows still refer to the row, naming them.
template <class... Args>
AdminResult<void> refuse_if_used(Connection& db, const std::string& what, std::string_view sql, const Args&... args) {
  auto used = exists(db, sql, args...);
  if (!used) return std::unexpected(used.error());
  if (*used) return std::unexpected(invalid(what));
  return {};
}

AdminResult<void> check_cap(std::string_view what, const CapChange& cap) {
  if (cap && *cap && **cap < 0) return std::unexpected(invalid(std::string(what) + " must not be negative"));
  return {};
}

// Realm for a new credential: the one given, else the only realm among the
// domains that take digest; with several, the admin must say which.
AdminResult<std::string> resolve_realm(Connection& db, const std::optional<std::string>& realm) {
  if (realm) {
    if (realm->empty() || !routing::is_safe_header_value(*realm) || realm->find('"') != std::string::npos) {
      return std::unexpected(invalid("realm '" + *realm + "' is empty or has a quote or control character"));
    }
    return *realm;
  }
  auto realms = query(db, "SELECT DISTINCT realm FROM domains WHERE auth_mode != 'ip' ORDER BY realm");
  if (!realms) return std::unexpected(realms.error());
  if (realms->empty()) return std::unexpected(invalid("no digest domain exists; add one first or give --realm"));
  if (realms->size() > 1) return std::unexpected(invalid("several digest realms exist; give --realm"));
  return std::get<std::string>((*realms)[0][0].second);
}

// The realm an existing username lives in, when unambiguous.
AdminResult<std::string> existing_realm(Connection& db, const std::string& username, const std::optional<std::string>& realm) {
  auto rows = query(db, "SELECT realm FROM credentials WHERE username = ? AND (?2 IS NULL OR realm = ?2)", username, realm);
  if (!rows) return std::unexpected(rows.error());
  if (rows->empty()) return std::unexpected(invalid("unknown credential '" + username + "'" + (realm ? " in realm " + *realm : "")));
  if (rows->size() > 1) return std::unexpected(invalid("credential '" + username + "' exists in several realms; give --realm"));
  return std::get<std::string>((*rows)[0][0].second);
}

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

// ---- domains ----

AdminResult<void> Admin::add_domain(const std::string& name_in, const std::string& auth_mode,
                                    const std::optional<std::string>& realm_in,
                                    const std::optional<std::string>& algorithms_in) {
  const std::string name = lower(name_in);
  if (!is_hostname(name)) return std::unexpected(invalid("domain '" + name_in + "' is not a host name"));
  if (!routing::parse_auth_mode(auth_mode)) {
    return std::unexpected(invalid("auth mode '" + auth_mode + "' is not digest, ip or digest-or-ip"));
  }
  const std::string realm = realm_in.value_or(name);
  if (realm.empty() || !routing::is_safe_header_value(realm) || realm.find('"') != std::string::npos) {
    return std::unexpected(invalid("realm '" + realm + "' is empty or has a quote or control character"));
  }
  auto algorithms = auth::parse_algorithm_list(algorithms_in.value_or("MD5,SHA-256"));
  if (!algorithms) return std::unexpected(invalid(algorithms.error()));
  return in_transaction(db_, [&]() -> AdminResult<void> {
    auto dup = exists(db_, "SELECT 1 FROM domains WHERE name = ?", name);
    if (!dup) return std::unexpected(dup.error());
    if (*dup) return std::unexpected(invalid("domain '" + name + "' already exists"));
    return run(db_, "INSERT INTO domains (name, auth_mode, realm, algorithms) VALUES (?, ?, ?, ?)", name, auth_mode,
               realm, auth::format_algorithm_list(*algorithms));
  });
}

AdminResult<void> Admin::update_domain(const std::string& name_in, const std::optional<std::string>& auth_mode,
                                       const std::optional<std::string>& realm,
                                       const std::optional<std::string>& algorithms_in) {
  const std::string name = lower(name_in);
  if (auth_mode && !routing::parse_auth_mode(*auth_mode)) {
    return std::unexpected(invalid("auth mode '" + *auth_mode + "' is not digest, ip or digest-or-ip"));
  }
  if (realm && (realm->empty() || !routing::is_safe_header_value(*realm) || realm->find('"') != std::string::npos)) {
    return std::unexpected(invalid("realm '" + *realm + "' is empty or has a quote or control character"));
  }
  std::optional<std::string> algorithms;
  if (algorithms_in) {
    auto parsed = auth::parse_algorithm_list(*algorithms_in);
    if (!parsed) return std::unexpected(invalid(parsed.error()));
    algorithms = auth::format_algorithm_list(*parsed);
  }
  return in_transaction(db_, [&]() -> AdminResult<void> {
    auto found = exists(db_, "SELECT 1 FROM domains WHERE name = ?", name);
    if (!found) return std::unexpected(found.error());
    if (!*found) return std::unexpected(invalid("unknown domain '" + name + "'"));
    return run(db_,
               "UPDATE domains SET auth_mode = coalesce(?, auth_mode), realm = coalesce(?, realm), "
               "algorithms = coalesce(?, algorithms) WHERE name = ?",
               auth_mode, realm, algorithms, name);
  });
}

AdminResult<Records> Admin::list_domains() {
  return query(db_, "SELECT name, auth_mode, realm, algorithms FROM domains ORDER BY name");
}

AdminResult<void> Admin::remove_domain(const std::string& name_in) {
  const std::string name = lower(name_in);
  return in_transaction(db_, [&]() -> AdminResult<void> {
    if (auto ok = run(db_, "DELETE FROM domains WHERE name = ?", name); !ok) return ok;
    if (db_.changes() == 0) return std::unexpected(invalid("unknown domain '" + name + "'"));
    return {};
  });
}

// ---- publishers ----

AdminResult<void> Admin::add_publisher(const std::string& id, const std::string& name, CapChange concurrency_cap) {
  if (auto ok = check_id("publisher", id); !ok) return ok;
  if (auto ok = check_text("publisher name", name); !ok) return ok;
  if (auto ok = check_cap("publisher concurrency cap", concurrency_cap); !ok) return ok;
  return in_transaction(db_, [&]() -> AdminResult<void> {
    auto dup = exists(db_, "SELECT 1 FROM publishers WHERE id = ?", id);
    if (!dup) return std::unexpected(dup.error());
    if (*dup) return std::unexpected(invalid("publisher '" + id + "' already exists"));
    std::optional<std::int64_t> cap = concurrency_cap ? *concurrency_cap : std::nullopt;
    return run(db_, "INSERT INTO publishers (id, name, concurrency_cap) VALUES (?, ?, ?)", id, name, cap);
  });
}

AdminResult<Records> Admin::list_publishers() {
  auto rows = query(db_, "SELECT id, name, enabled, concurrency_cap FROM publishers ORDER BY id");
  if (rows) as_bool(*rows, "enabled");
  return rows;
}

AdminResult<void> Admin::remove_publisher(const std::string& id) {
  return in_transaction(db_, [&]() -> AdminResult<void> {
    if (auto ok = require(db_, "publisher", "publishers", id); !ok) return ok;
    if (auto ok = refuse_if_used(db_, "publisher '" + id + "' still has credentials; remove them first",
                                 "SELECT 1 FROM credentials WHERE publisher_id = ?", id); !ok) return ok;
    if (auto ok = refuse_if_used(db_, "publisher '" + id + "' still has allowlist entries; remove them first",
                                 "SELECT 1 FROM allowlist WHERE publisher_id = ?", id); !ok) return ok;
    if (auto ok = refuse_if_used(db_, "publisher '" + id + "' still has numbers restricted to it; remove them first",
                                 "SELECT 1 FROM numbers WHERE publisher_id = ?", id); !ok) return ok;
    return run(db_, "DELETE FROM publishers WHERE id = ?", id);
  });
}

AdminResult<void> Admin::set_publisher_enabled(const std::string& id, bool enabled) {
  return in_transaction(db_, [&]() -> AdminResult<void> {
    if (auto ok = require(db_, "publisher", "publishers", id); !ok) return ok;
    return run(db_, "UPDATE publishers SET enabled = ? WHERE id = ?", enabled ? 1 : 0, id);
  });
}

// ---- credentials ----

AdminResult<void> Admin::add_credential(const std::string& username, const std::string& publisher_id,
                                        const std::optional<std::string>& realm_in, const std::string& password) {
  if (username.empty() || !routing::is_safe_header_value(username) || username.find('"') != std::string::npos ||
      username.find(':') != std::string::npos) {
    return std::unexpected(invalid("username '" + username + "' is empty or has a quote, colon or control character"));
  }
  if (auto ok = check_password(password); !ok) return ok;
  return in_transaction(db_, [&]() -> AdminResult<void> {
    if (auto ok = require(db_, "publisher", "publishers", publisher_id); !ok) return ok;
    auto realm = resolve_realm(db_, realm_in);
    if (!realm) return std::unexpected(realm.error());
    auto dup = exists(db_, "SELECT 1 FROM credentials WHERE username = ? AND realm = ?", username, *realm);
    if (!dup) return std::unexpected(dup.error());
    if (*dup) return std::unexpected(invalid("credential '" + username + "' already exists in realm " + *realm));
    return run(db_, "INSERT INTO credentials (username, realm, publisher_id, ha1_md5, ha1_sha256) VALUES (?, ?, ?, ?, ?)",
               username, *realm, publisher_id, auth::ha1(auth::DigestAlgorithm::md5, username, *realm, password),
               auth::ha1(auth::DigestAlgorithm::sha256, username, *realm, password));
  });
}

AdminResult<Records> Admin::list_credentials(const std::optional<std::string>& publisher_id) {
  // HA1 values are password equivalents for their realm: never listed.
  return query(db_,
               "SELECT username, realm, publisher_id FROM credentials WHERE ?1 IS NULL OR publisher_id = ?1 "
               "ORDER BY username, realm",
               publisher_id);
}

AdminResult<void> Admin::remove_credential(const std::string& username, const std::optional<std::string>& realm) {
  return in_transaction(db_, [&]() -> AdminResult<void> {
    auto r = existing_realm(db_, username, realm);
    if (!r) return std::unexpected(r.error());
    return run(db_, "DELETE FROM credentials WHERE username = ? AND realm = ?", username, *r);
  });
}

AdminResult<void> Admin::change_credential_password(const std::string& username, const std::optional<std::string>& realm,
                                                    const std::string& password) {
  if (auto ok = check_password(password); !ok) return ok;
  return in_transaction(db_, [&]() -> AdminResult<void> {
    auto r = existing_realm(db_, username, realm);
    if (!r) return std::unexpected(r.error());
    return run(db_, "UPDATE credentials SET ha1_md5 = ?, ha1_sha256 = ? WHERE username = ? AND realm = ?",
               auth::ha1(auth::DigestAlgorithm::md5, username, *r, password),
               auth::ha1(auth::DigestAlgorithm::sha256, username, *r, password), username, *r);
  });
}

// ---- allowlist ----

AdminResult<std::string> Admin::add_allowlist(const std::string& cidr_text, const std::string& publisher_id,
                                              const std::string& note) {
  auto cidr = auth::parse_cidr(cidr_text);
  if (!cidr) return std::unexpected(invalid(cidr.error()));
  if (auto ok = check_text("note", note); !ok) return std::unexpected(ok.error());
  const std::string normalized = auth::to_string(*cidr);
  auto ok = in_transaction(db_, [&]() -> AdminResult<void> {
    if (auto ok = require(db_, "publisher", "publishers", publisher_id); !ok) return ok;
    auto dup = query(db_, "SELECT publisher_id FROM allowlist WHERE cidr = ?", normalized);
    if (!dup) return std::unexpected(dup.error());
    if (!dup->empty()) {
      return std::unexpected(invalid("allowlist entry " + normalized + " already exists (publisher " +
                                     std::get<std::string>((*dup)[0][0].second) + ")"));
    }
    return run(db_, "INSERT INTO allowlist (cidr, publisher_id, note) VALUES (?, ?, ?)", normalized, publisher_id, note);
  });
  if (!ok) return std::unexpected(ok.error());
  return normalized;
}

AdminResult<Records> Admin::list_allowlist(const std::optional<std::string>& publisher_id) {
  return query(db_, "SELECT cidr, publisher_id, note FROM allowlist WHERE ?1 IS NULL OR publisher_id = ?1 ORDER BY cidr",
               publisher_id);
}

AdminResult<void> Admin::remove_allowlist(const std::string& cidr_text) {
  auto cidr = auth::parse_cidr(cidr_text);
  if (!cidr) return std::unexpected(invalid(cidr.error()));
  const std::string normalized = auth::to_string(*cidr);
  return in_transaction(db_, [&]() -> AdminResult<void> {
    if (auto ok = run(db_, "DELETE FROM allowlist WHERE cidr = ?", normalized); !ok) return ok;
    if (db_.changes() == 0) return std::unexpected(invalid("no allowlist entry " + normalized));
    return {};
  });
}

AdminResult<Record> Admin::check_allowlist(const std::string& ip_text) {
  auto ip = auth::parse_ip(ip_text);
  if (!ip) return std::unexpected(invalid(ip.error()));
  // The same longest-prefix table the daemon uses, so check says exactly
  // what sipgw will decide.
  auto rows = query(db_, "SELECT cidr, publisher_id FROM allowlist");
  if (!rows) return std::unexpected(rows.error());
  auth::PrefixTable<std::pair<std::string, std::string>> table;
  for (auto& row : *rows) {
    auto cidr = auth::parse_cidr(std::get<std::string>(row[0].second));
    if (cidr) table.insert(*cidr, {std::get<std::string>(row[0].second), std::get<std::string>(row[1].second)});
  }
  Record out{{"ip", auth::to_string(*ip)}};
  if (auto* match = table.find(*ip)) {
    out.emplace_back("cidr", match->first);
    out.emplace_back("publisher_id", match->second);
  } else {
    out.emplace_back("cidr", std::monostate{});
    out.emplace_back("publisher_id", std::monostate{});
  }
  return out;
}

// ---- campaigns ----

AdminResult<void> Admin::add_campaign(const std::string& id, const std::string& name, std::int64_t ring_timeout) {
  if (auto ok = check_id("campaign", id); !ok) return ok;
  if (auto ok = check_text("campaign name", name); !ok) return ok;
  if (ring_timeout <= 0 || ring_timeout > 600) return std::unexpected(invalid("ring timeout must be 1 to 600 seconds"));
  return in_transaction(db_, [&]() -> AdminResult<void> {
    auto dup = exists(db_, "SELECT 1 FROM campaigns WHERE id = ?", id);
    if (!dup) return std::unexpected(dup.error());
    if (*dup) return std::unexpected(invalid("campaign '" + id + "' already exists"));
    return run(db_, "INSERT INTO campaigns (id, name, ring_timeout) VALUES (?, ?, ?)", id, name, ring_timeout);
  });
}

AdminResult<Records> Admin::list_campaigns() {
  return query(db_, "SELECT id, name, ring_timeout FROM campaigns ORDER BY id");
}

AdminResult<void> Admin::remove_campaign(const std::string& id) {
  return in_transaction(db_, [&]() -> AdminResult<void> {
    if (auto ok = require(db_, "campaign", "campaigns", id); !ok) return ok;
    if (auto ok = refuse_if_used(db_, "campaign '" + id + "' still has numbers; remove them first",
                                 "SELECT 1 FROM numbers WHERE campaign_id = ?", id); !ok) return ok;
    if (auto ok = run(db_, "DELETE FROM routes WHERE campaign_id = ?", id); !ok) return ok;
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
    auto dup = exists(db_, "SELECT 1 FROM numbers WHERE e164 = ?", e164);
    if (!dup) return std::unexpected(dup.error());
    if (*dup) return std::unexpected(invalid("number " + e164 + " already exists"));
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
    if (auto ok = run(db_, "DELETE FROM numbers WHERE e164 = ?", e164); !ok) return ok;
    if (db_.changes() == 0) return std::unexpected(invalid("unknown number '" + e164 + "'"));
    return {};
  });
}

AdminResult<void> Admin::set_number_enabled(const std::string& e164, bool enabled) {
  return in_transaction(db_, [&]() -> AdminResult<void> {
    if (auto ok = run(db_, "UPDATE numbers SET enabled = ? WHERE e164 = ?", enabled ? 1 : 0, e164); !ok) return ok;
    if (db_.changes() == 0) return std::unexpected(invalid("unknown number '" + e164 + "'"));
    return {};
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
  if (c.connect_timeout && (*c.connect_timeout <= 0 || *c.connect_timeout > 600)) {
    return std::unexpected(invalid("connect timeout must be 1 to 600 seconds"));
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
    auto dup = exists(db_, "SELECT 1 FROM buyers WHERE id = ?", id);
    if (!dup) return std::unexpected(dup.error());
    if (*dup) return std::unexpected(invalid("buyer '" + id + "' already exists"));
    auto ok = run(db_,
                  "INSERT INTO buyers (id, target, auth_user, auth_password, concurrency_cap, hourly_cap, daily_cap, "
                  "hours, time_zone, connect_timeout, enabled) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  id, *spec.target, spec.auth_user, spec.auth_password, cap_value(spec.concurrency_cap),
                  cap_value(spec.hourly_cap), cap_value(spec.daily_cap), spec.hours.value_or(""),
                  spec.time_zone.value_or("UTC"), spec.connect_timeout.value_or(10),
                  spec.enabled.value_or(true) ? 1 : 0);
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
    std::optional<std::int64_t> enabled;
    if (c.enabled) enabled = *c.enabled ? 1 : 0;
    auto ok = run(db_,
                  "UPDATE buyers SET target = coalesce(?1, target), "
                  "auth_user = CASE WHEN ?2 THEN NULL ELSE coalesce(?3, auth_user) END, "
                  "auth_password = CASE WHEN ?2 THEN NULL ELSE coalesce(?4, auth_password) END, "
                  "concurrency_cap = CASE WHEN ?5 THEN ?6 ELSE concurrency_cap END, "
                  "hourly_cap = CASE WHEN ?7 THEN ?8 ELSE hourly_cap END, "
                  "daily_cap = CASE WHEN ?9 THEN ?10 ELSE daily_cap END, "
                  "hours = coalesce(?11, hours), time_zone = coalesce(?12, time_zone), "
                  "connect_timeout = coalesce(?13, connect_timeout), enabled = coalesce(?14, enabled) WHERE id = ?15",
                  c.target, c.clear_auth ? 1 : 0, c.auth_user, c.auth_password, changes_flag(c.concurrency_cap),
                  cap_value(c.concurrency_cap), changes_flag(c.hourly_cap), cap_value(c.hourly_cap),
                  changes_flag(c.daily_cap), cap_value(c.daily_cap), c.hours, c.time_zone, c.connect_timeout, enabled,
                  id);
    if (!ok) return ok;
    if (c.headers) return write_buyer_headers(db_, id, *headers);
    return {};
  });
}

namespace {

constexpr std::string_view kBuyerColumns =
    "SELECT id, target, auth_user, auth_password IS NOT NULL AS has_auth_password, concurrency_cap, hourly_cap, "
    "daily_cap, hours, time_zone, connect_timeout, enabled FROM buyers";

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
    if (auto ok = refuse_if_used(db_, "buyer '" + id + "' is still routed from a campaign; remove its routes first",
                                 "SELECT 1 FROM routes WHERE buyer_id = ?", id); !ok) return ok;
    return run(db_, "DELETE FROM buyers WHERE id = ?", id);  // headers cascade
  });
}

// ---- routes ----

AdminResult<void> Admin::add_route(const std::string& campaign_id, const std::string& buyer_id, std::int64_t priority,
                                   std::int64_t weight) {
  if (weight <= 0 || weight > 1000000) return std::unexpected(invalid("weight must be 1 to 1000000"));
  if (priority < 0 || priority > 1000000) return std::unexpected(invalid("priority must be 0 to 1000000"));
  return in_transaction(db_, [&]() -> AdminResult<void> {
    if (auto ok = require(db_, "campaign", "campaigns", campaign_id); !ok) return ok;
    if (auto ok = require(db_, "buyer", "buyers", buyer_id); !ok) return ok;
    auto dup = exists(db_, "SELECT 1 FROM routes WHERE campaign_id = ? AND buyer_id = ?", campaign_id, buyer_id);
    if (!dup) return std::unexpected(dup.error());
    if (*dup) return std::unexpected(invalid("campaign '" + campaign_id + "' already routes to buyer '" + buyer_id + "'"));
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
    if (auto ok = run(db_, "DELETE FROM routes WHERE campaign_id = ? AND buyer_id = ?", campaign_id, buyer_id); !ok) return ok;
    if (db_.changes() == 0) return std::unexpected(invalid("no route from campaign '" + campaign_id + "' to buyer '" + buyer_id + "'"));
    return {};
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
  if (t.from_domain && !is_hostname(*t.from_domain)) {
    return std::unexpected(invalid("from domain '" + *t.from_domain + "' is not a host name"));
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
  if (f.limit <= 0 || f.limit > 100000) return std::unexpected(invalid("limit must be 1 to 100000"));
  return query(db_,
               "SELECT uuid, invite_at, number, caller, publisher_id, sub_id, campaign_id, buyer_id, attempts, "
               "answer_at, end_at, CASE WHEN answer_at IS NOT NULL THEN (end_at - answer_at) / 1000 END AS duration_s, "
               "final_status, hangup_side, hangup_cause FROM calls "
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
