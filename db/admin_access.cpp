#include "db/admin.h"
#include "db/admin_support.h"

#include "auth/cidr.h"
#include "auth/digest.h"
#include "auth/nonce.h"
#include "routing/provisioning.h"

// Admin: domains, publishers, credentials, allowlist: who may send calls.

namespace sipgw::db {

using namespace support;

namespace {

// Realm for a new credential: the one given, else the only realm among the
// domains that take digest; with several, the admin must say which.
AdminResult<std::string> resolve_realm(Connection& db, const std::optional<std::string>& realm) {
  if (realm) {
    if (auto ok = check_realm(*realm); !ok) return std::unexpected(ok.error());
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

}  // namespace

// ---- domains ----

AdminResult<void> Admin::add_domain(const std::string& name_in, const std::string& auth_mode,
                                    const std::optional<std::string>& realm_in,
                                    const std::optional<std::string>& algorithms_in) {
  const std::string name = lower(name_in);
  if (auto ok = check_host("domain", name_in); !ok) return ok;
  if (!routing::parse_auth_mode(auth_mode)) {
    return std::unexpected(invalid("auth mode '" + auth_mode + "' is not digest, ip or digest-or-ip"));
  }
  const std::string realm = realm_in.value_or(name);
  if (auto ok = check_realm(realm); !ok) return ok;
  auto algorithms = auth::parse_algorithm_list(algorithms_in.value_or("MD5,SHA-256"));
  if (!algorithms) return std::unexpected(invalid(algorithms.error()));
  return in_transaction(db_, [&]() -> AdminResult<void> {
    if (auto ok = refuse_if_exists(db_, "domain '" + name + "' already exists", "SELECT 1 FROM domains WHERE name = ?", name);
        !ok) {
      return ok;
    }
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
  if (realm) {
    if (auto ok = check_realm(*realm); !ok) return ok;
  }
  std::optional<std::string> algorithms;
  if (algorithms_in) {
    auto parsed = auth::parse_algorithm_list(*algorithms_in);
    if (!parsed) return std::unexpected(invalid(parsed.error()));
    algorithms = auth::format_algorithm_list(*parsed);
  }
  return in_transaction(db_, [&]() -> AdminResult<void> {
    return run_one(db_, "unknown domain '" + name + "'",
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
    return run_one(db_, "unknown domain '" + name + "'", "DELETE FROM domains WHERE name = ?", name);
  });
}

// ---- publishers ----

namespace {

AdminResult<void> check_publisher(const PublisherChanges& p) {
  if (p.name) {
    if (auto ok = check_text("publisher name", *p.name); !ok) return ok;
  }
  if (auto ok = check_cap("publisher concurrency cap", p.concurrency_cap); !ok) return ok;
  if (auto ok = check_cap("publisher hourly cap", p.hourly_cap); !ok) return ok;
  if (auto ok = check_cap("publisher daily cap", p.daily_cap); !ok) return ok;
  if (p.cps && *p.cps) {
    if (auto ok = check_range("publisher calls per second", **p.cps, 1, 100000); !ok) return ok;
  }
  if (p.caller_from && *p.caller_from != "from" && *p.caller_from != "pai") {
    return std::unexpected(invalid("--caller-from must be from or pai, not '" + *p.caller_from + "'"));
  }
  return {};
}

// The value a CapChange stores, and whether it says anything.
std::optional<std::int64_t> stored(const CapChange& c) { return c ? *c : std::nullopt; }
int changes(const CapChange& c) { return c ? 1 : 0; }

}  // namespace

AdminResult<void> Admin::add_publisher(const std::string& id, const std::string& name, CapChange concurrency_cap) {
  PublisherChanges spec;
  spec.name = name;
  spec.concurrency_cap = concurrency_cap;
  return add_publisher(id, spec);
}

AdminResult<void> Admin::add_publisher(const std::string& id, const PublisherChanges& spec) {
  if (auto ok = check_id("publisher", id); !ok) return ok;
  if (auto ok = check_publisher(spec); !ok) return ok;
  return in_transaction(db_, [&]() -> AdminResult<void> {
    if (auto ok = refuse_if_exists(db_, "publisher '" + id + "' already exists", "SELECT 1 FROM publishers WHERE id = ?", id);
        !ok) {
      return ok;
    }
    return run(db_,
               "INSERT INTO publishers (id, name, concurrency_cap, hourly_cap, daily_cap, cps, caller_from) "
               "VALUES (?, ?, ?, ?, ?, ?, ?)",
               id, spec.name.value_or(""), stored(spec.concurrency_cap), stored(spec.hourly_cap), stored(spec.daily_cap),
               stored(spec.cps), spec.caller_from.value_or("from"));
  });
}

AdminResult<void> Admin::update_publisher(const std::string& id, const PublisherChanges& c) {
  if (auto ok = check_publisher(c); !ok) return ok;
  return in_transaction(db_, [&]() -> AdminResult<void> {
    return run_one(db_, "unknown publisher '" + id + "'",
                   "UPDATE publishers SET name = coalesce(?1, name), "
                   "concurrency_cap = CASE WHEN ?2 THEN ?3 ELSE concurrency_cap END, "
                   "hourly_cap = CASE WHEN ?4 THEN ?5 ELSE hourly_cap END, "
                   "daily_cap = CASE WHEN ?6 THEN ?7 ELSE daily_cap END, "
                   "cps = CASE WHEN ?8 THEN ?9 ELSE cps END, caller_from = coalesce(?10, caller_from) WHERE id = ?11",
                   c.name, changes(c.concurrency_cap), stored(c.concurrency_cap), changes(c.hourly_cap),
                   stored(c.hourly_cap), changes(c.daily_cap), stored(c.daily_cap), changes(c.cps), stored(c.cps),
                   c.caller_from, id);
  });
}

AdminResult<Records> Admin::list_publishers() {
  auto rows = query(db_,
                    "SELECT id, name, enabled, concurrency_cap, hourly_cap, daily_cap, cps, caller_from FROM publishers "
                    "ORDER BY id");
  if (rows) as_bool(*rows, "enabled");
  return rows;
}

AdminResult<void> Admin::remove_publisher(const std::string& id) {
  return in_transaction(db_, [&]() -> AdminResult<void> {
    if (auto ok = require(db_, "publisher", "publishers", id); !ok) return ok;
    if (auto ok = refuse_if_exists(db_, "publisher '" + id + "' still has credentials; remove them first",
                                 "SELECT 1 FROM credentials WHERE publisher_id = ?", id); !ok) return ok;
    if (auto ok = refuse_if_exists(db_, "publisher '" + id + "' still has allowlist entries; remove them first",
                                 "SELECT 1 FROM allowlist WHERE publisher_id = ?", id); !ok) return ok;
    if (auto ok = refuse_if_exists(db_, "publisher '" + id + "' still has numbers restricted to it; remove them first",
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
  if (auto ok = check_inbound_user(username); !ok) return ok;
  if (auto ok = check_password(password); !ok) return ok;
  return in_transaction(db_, [&]() -> AdminResult<void> {
    if (auto ok = require(db_, "publisher", "publishers", publisher_id); !ok) return ok;
    auto realm = resolve_realm(db_, realm_in);
    if (!realm) return std::unexpected(realm.error());
    if (auto ok = refuse_if_exists(db_, "credential '" + username + "' already exists in realm " + *realm,
                                   "SELECT 1 FROM credentials WHERE username = ? AND realm = ?", username, *realm);
        !ok) {
      return ok;
    }
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
    return run_one(db_, "no allowlist entry " + normalized, "DELETE FROM allowlist WHERE cidr = ?", normalized);
  });
}

// ---- bans ----

namespace {

bool overlaps(const auth::Cidr& a, const auth::Cidr& b) { return contains(a, b.network) || contains(b, a.network); }

}  // namespace

AdminResult<std::string> Admin::add_ban(const std::string& cidr_text, std::optional<std::int64_t> seconds,
                                        const std::string& note, bool override_allowlist, std::int64_t now_ms) {
  auto cidr = auth::parse_cidr(cidr_text);
  if (!cidr) return std::unexpected(invalid(cidr.error()));
  if (seconds && (*seconds < 1 || *seconds > 10LL * 365 * 86400)) {
    return std::unexpected(invalid("ban seconds must be 1 to 315360000 (omit --seconds for a permanent ban)"));
  }
  if (auto ok = check_text("note", note); !ok) return std::unexpected(ok.error());
  const std::string normalized = auth::to_string(*cidr);
  auto ok = in_transaction(db_, [&]() -> AdminResult<void> {
    if (!override_allowlist) {
      auto rows = query(db_, "SELECT cidr, publisher_id FROM allowlist ORDER BY cidr");
      if (!rows) return std::unexpected(rows.error());
      for (auto& row : *rows) {
        const auto& entry = std::get<std::string>(row[0].second);
        auto allowed = auth::parse_cidr(entry);
        if (allowed && overlaps(*allowed, *cidr)) {
          return std::unexpected(invalid("ban " + normalized + " would shadow allowlist entry " + entry + " (publisher " +
                                         std::get<std::string>(row[1].second) + "); add --override-allowlist to ban it anyway"));
        }
      }
    }
    std::optional<std::int64_t> expires;
    if (seconds) expires = now_ms + *seconds * 1000;
    return run(db_, "INSERT OR REPLACE INTO bans (cidr, origin, created_at, expires_at, note) VALUES (?, 'manual', ?, ?, ?)",
               normalized, now_ms, expires, note);
  });
  if (!ok) return std::unexpected(ok.error());
  return normalized;
}

AdminResult<Records> Admin::list_bans(std::int64_t now_ms) {
  return query(db_,
               "SELECT cidr, origin, created_at, expires_at, note FROM bans WHERE expires_at IS NULL OR expires_at > ? "
               "ORDER BY created_at DESC, cidr",
               now_ms);
}

AdminResult<void> Admin::set_nonce_secret(const std::string& hex, std::int64_t now_ms) {
  if (!auth::NonceIssuer::secret_from_hex(hex)) {
    return std::unexpected(invalid("a nonce secret is 64 hex characters (32 bytes: openssl rand -hex 32); got " +
                                   std::to_string(hex.size()) + " characters"));
  }
  std::string lower = hex;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return in_transaction(db_, [&]() -> AdminResult<void> {
    auto current = db_.prepare("SELECT secret FROM nonce_secrets WHERE slot = 'current'");
    if (!current) return std::unexpected(from_db(current.error()));
    auto row = current->step();
    if (!row) return std::unexpected(from_db(row.error()));
    if (*row && current->text(0) == lower) return {};  // the same secret again: nothing rotates
    if (auto ok = run(db_, "DELETE FROM nonce_secrets WHERE slot = 'previous'"); !ok) return ok;
    if (auto ok = run(db_, "UPDATE nonce_secrets SET slot = 'previous' WHERE slot = 'current'"); !ok) return ok;
    return run(db_, "INSERT INTO nonce_secrets (slot, secret, set_at) VALUES ('current', ?, ?)", lower, now_ms);
  });
}

AdminResult<Records> Admin::nonce_secret_status() {
  return query(db_, "SELECT slot, set_at FROM nonce_secrets ORDER BY slot = 'previous'");
}

AdminResult<void> Admin::remove_ban(const std::string& cidr_text) {
  auto cidr = auth::parse_cidr(cidr_text);
  if (!cidr) return std::unexpected(invalid(cidr.error()));
  const std::string normalized = auth::to_string(*cidr);
  return in_transaction(db_, [&]() -> AdminResult<void> {
    return run_one(db_, "no ban " + normalized, "DELETE FROM bans WHERE cidr = ?", normalized);
  });
}

AdminResult<void> Admin::record_auto_ban(const std::string& cidr, std::int64_t now_ms, std::int64_t expires_at_ms,
                                        const std::string& note) {
  return in_transaction(db_, [&]() -> AdminResult<void> {
    return run(db_,
               "INSERT INTO bans (cidr, origin, created_at, expires_at, note) VALUES (?, 'auto', ?, ?, ?) "
               "ON CONFLICT (cidr) DO UPDATE SET created_at = excluded.created_at, "
               "expires_at = excluded.expires_at, note = excluded.note WHERE bans.origin = 'auto'",
               cidr, now_ms, expires_at_ms, note);
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

}  // namespace sipgw::db
