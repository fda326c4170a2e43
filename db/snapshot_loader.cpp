#include "db/snapshot_loader.h"

#include "routing/time_zone.h"

#include <algorithm>
#include <chrono>

namespace sipgw::db {

namespace {

struct LoadContext {
  Connection& connection;
  routing::Snapshot& snapshot;
};

DbResult<void> load_domains(LoadContext& c) {
  return for_each_row(c.connection, "SELECT name, auth_mode, realm, algorithms FROM domains", [&](Statement& stmt) {
    routing::Domain d;
    d.name = stmt.text(0);
    d.auth_mode = routing::parse_auth_mode(stmt.text(1)).value_or(routing::AuthMode::digest);
    d.realm = stmt.text(2);
    auto algorithms = auth::parse_algorithm_list(stmt.text(3));
    d.algorithms = algorithms ? *algorithms : std::vector{auth::DigestAlgorithm::md5, auth::DigestAlgorithm::sha256};
    std::string key = d.name;
    c.snapshot.domains.emplace(std::move(key), std::move(d));
  });
}

DbResult<void> load_publishers(LoadContext& c) {
  const char* sql = "SELECT id, name, enabled, concurrency_cap, hourly_cap, daily_cap, cps, caller_from FROM publishers";
  return for_each_row(c.connection, sql, [&](Statement& stmt) {
    routing::Publisher p{stmt.text(0),           stmt.text(1),           stmt.int64(2) != 0,    stmt.optional_int64(3),
                         stmt.optional_int64(4), stmt.optional_int64(5), stmt.optional_int64(6), stmt.text(7) == "pai"};
    std::string key = p.id;
    c.snapshot.publishers.emplace(std::move(key), std::move(p));
  });
}

DbResult<void> load_credentials(LoadContext& c) {
  return for_each_row(c.connection, "SELECT username, realm, publisher_id, ha1_md5, ha1_sha256 FROM credentials", [&](Statement& stmt) {
    routing::Credential cr{stmt.text(0), stmt.text(1), stmt.text(2), stmt.text(3), stmt.text(4)};
    auto key = routing::Snapshot::credential_key(cr.username, cr.realm);
    c.snapshot.credentials.emplace(std::move(key), std::move(cr));
  });
}

DbResult<void> load_allowlist(LoadContext& c) {
  return for_each_row(c.connection, "SELECT cidr, publisher_id FROM allowlist", [&](Statement& stmt) {
    auto cidr = auth::parse_cidr(stmt.text(0));
    if (!cidr) return;  // stored normalized by sipgwctl; a hand-edited bad row allows nothing
    c.snapshot.allowlist.insert(*cidr, stmt.text(1));
  });
}

DbResult<void> load_bans(LoadContext& c) {
  return for_each_row(c.connection, "SELECT cidr, origin, expires_at FROM bans WHERE expires_at IS NULL OR expires_at > ?",
                      [&](Statement& stmt) {
                        auto cidr = auth::parse_cidr(stmt.text(0));
                        if (!cidr) return;
                        if (c.snapshot.bans.insert(*cidr, routing::Ban{stmt.text(1) == "auto", stmt.optional_int64(2)})) {
                          c.snapshot.ban_expiries.push_back(stmt.optional_int64(2));
                        }
                      }, c.snapshot.loaded_at_ms);
}

DbResult<void> load_campaigns_and_routes(LoadContext& c) {
  const char* campaigns_sql =
      "SELECT id, name, ring_timeout, max_duration, repeat_window, repeat_after, repeat_route, min_attestation, "
      "conversion_seconds FROM campaigns";
  auto ok = for_each_row(c.connection, campaigns_sql, [&](Statement& stmt) {
    routing::Campaign campaign{stmt.text(0), stmt.text(1), stmt.int64(2), {}, stmt.optional_int64(3), {}};
    campaign.screening.repeat_window_seconds = stmt.optional_int64(4);
    campaign.screening.repeat_after = routing::parse_repeat_after(stmt.text(5)).value_or(routing::RepeatAfter::inbound);
    campaign.screening.repeat_route = stmt.optional_text(6);
    campaign.screening.min_attestation = auth::parse_attestation(stmt.optional_text(7).value_or("none")).value_or(auth::Attestation::none);
    campaign.conversion_seconds = stmt.optional_int64(8);
    std::string key = campaign.id;
    c.snapshot.campaigns.emplace(std::move(key), std::move(campaign));
  });
  if (!ok) return ok;
  const char* routes_sql =
      "SELECT campaign_id, buyer_id, priority, weight FROM routes ORDER BY campaign_id, priority, weight DESC, buyer_id";
  return for_each_row(c.connection, routes_sql, [&](Statement& routes) {
    auto it = c.snapshot.campaigns.find(routes.text(0));
    if (it == c.snapshot.campaigns.end()) return;
    it->second.routes.push_back({routes.text(1), routes.int64(2), routes.int64(3)});
  });
}

DbResult<void> load_numbers(LoadContext& c) {
  c.snapshot.numbers.reserve(static_cast<std::size_t>(
      c.connection.query_int("SELECT count(*) FROM numbers").value_or(0)));
  return for_each_row(c.connection, "SELECT e164, campaign_id, publisher_id, enabled FROM numbers", [&](Statement& stmt) {
    routing::Number n{stmt.text(0), stmt.text(1), stmt.optional_text(2), stmt.int64(3) != 0};
    std::string key = n.e164;
    c.snapshot.numbers.emplace(std::move(key), std::move(n));
  });
}

DbResult<void> load_buyers(LoadContext& c) {
  const char* buyers_sql =
      "SELECT id, target, auth_user, auth_password, concurrency_cap, hourly_cap, daily_cap, hours, time_zone, "
      "connect_timeout, enabled, pass_identity, conversion_seconds, pass_asserted_identity FROM buyers";
  auto ok = for_each_row(c.connection, buyers_sql, [&](Statement& stmt) {
    routing::Buyer b;
    b.id = stmt.text(0);
    b.target = stmt.text(1);
    auto kind = routing::classify_target(b.target);
    b.target_kind = kind.value_or(routing::TargetKind::sip_uri);
    b.auth_user = stmt.optional_text(2);
    b.auth_password = stmt.optional_text(3);
    b.concurrency_cap = stmt.optional_int64(4);
    b.hourly_cap = stmt.optional_int64(5);
    b.daily_cap = stmt.optional_int64(6);
    b.hours_text = stmt.text(7);
    b.time_zone_name = stmt.text(8);
    b.connect_timeout_seconds = stmt.int64(9);
    b.enabled = stmt.int64(10) != 0 && kind.has_value();
    b.pass_identity = stmt.int64(11) != 0;
    b.conversion_seconds = stmt.optional_int64(12);
    b.pass_asserted_identity = stmt.int64(13) != 0;
    // A value sipgwctl validated once but that no longer parses (say a zone
    // the system tzdata dropped) must not take the gateway down: the buyer
    // loads disabled rather than routed by guess.
    auto hours = routing::parse_hours(b.hours_text);
    auto zone = routing::find_time_zone(b.time_zone_name);
    if (hours && zone) {
      b.hours = *hours;
      b.time_zone = *zone;
    } else {
      b.enabled = false;
    }
    std::string key = b.id;
    c.snapshot.buyers.emplace(std::move(key), std::move(b));
  });
  if (!ok) return ok;
  const char* headers_sql = "SELECT buyer_id, name, value FROM buyer_headers ORDER BY buyer_id, position";
  return for_each_row(c.connection, headers_sql, [&](Statement& headers) {
    auto it = c.snapshot.buyers.find(headers.text(0));
    if (it == c.snapshot.buyers.end()) return;
    it->second.headers.push_back({headers.text(1), headers.text(2)});
  });
}

DbResult<void> load_blocks(LoadContext& c) {
  return for_each_row(c.connection, "SELECT campaign_id, entry FROM blocks", [&](Statement& stmt) {
    auto entry = routing::parse_block_entry(stmt.text(1));
    if (!entry) return;  // stored normalized by sipgwctl; a hand-edited bad row blocks nothing
    c.snapshot.blocks.add(stmt.text(0), *entry);
  });
}

DbResult<void> load_postback_events(LoadContext& c) {
  return for_each_row(c.connection, "SELECT DISTINCT event FROM postbacks", [&](Statement& stmt) {
    c.snapshot.postback_events.push_back(stmt.text(0));
  });
}

DbResult<void> load_nonce_secrets(LoadContext& c) {
  return for_each_row(c.connection, "SELECT secret FROM nonce_secrets ORDER BY slot = 'previous'",
                      [&](Statement& stmt) { c.snapshot.nonce_secrets.push_back(stmt.text(0)); });
}

DbResult<void> load_trunk_and_settings(LoadContext& c) {
  auto trunk = c.connection.prepare("SELECT proxy, auth_user, auth_password, from_domain FROM trunk WHERE id = 1");
  if (!trunk) return std::unexpected(trunk.error());
  auto row = trunk->step();
  if (!row) return std::unexpected(row.error());
  if (*row) {
    c.snapshot.trunk = routing::Trunk{trunk->text(0), trunk->optional_text(1), trunk->optional_text(2),
                                      trunk->optional_text(3)};
  }
  return for_each_row(c.connection, "SELECT key, value FROM settings", [&](Statement& settings) {
    (void)routing::apply_setting(c.snapshot.settings, settings.text(0), settings.text(1));
  });
}

}  // namespace

DbResult<std::shared_ptr<const routing::Snapshot>> load_snapshot(Connection& connection, std::uint64_t generation) {
  auto snapshot = std::make_shared<routing::Snapshot>();
  snapshot->generation = generation;
  snapshot->loaded_at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch()).count();
  // A deferred read transaction: every table is read at one point in time.
  if (auto ok = connection.execute_script("BEGIN"); !ok) return std::unexpected(ok.error());
  LoadContext context{connection, *snapshot};
  DbResult<void> ok;
  for (auto step : {load_domains, load_publishers, load_credentials, load_allowlist, load_bans, load_campaigns_and_routes,
                    load_numbers, load_buyers, load_blocks, load_postback_events, load_nonce_secrets,
                    load_trunk_and_settings}) {
    ok = step(context);
    if (!ok) break;
  }
  (void)connection.execute_script("COMMIT");
  if (!ok) return std::unexpected(ok.error());
  return std::shared_ptr<const routing::Snapshot>(std::move(snapshot));
}

DbResult<bool> ChangeDetector::changed() {
  auto version = connection_->query_int("PRAGMA data_version");
  if (!version) return std::unexpected(version.error());
  bool changed = *version != last_;
  last_ = *version;
  return changed;
}

}  // namespace sipgw::db
