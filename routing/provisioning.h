// The provisioning snapshot: everything the SIP hot path needs, as one
// immutable value. The daemon holds it by shared_ptr<const>; a call keeps the
// snapshot it started with, and a reload swaps in a new one without locks on
// the read side. db/ builds it; nothing here touches SQLite.
#pragma once

#include "auth/cidr.h"
#include "auth/digest.h"
#include "routing/headers.h"
#include "routing/hours.h"
#include "routing/screening.h"
#include "routing/settings.h"
#include "routing/target.h"

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace date {
class time_zone;
}

namespace sipgw::routing {

enum class AuthMode { digest, ip, digest_or_ip };
std::string_view to_string(AuthMode mode);
std::optional<AuthMode> parse_auth_mode(std::string_view text);

struct Domain {
  std::string name;
  AuthMode auth_mode = AuthMode::digest;
  std::string realm;
  std::vector<auth::DigestAlgorithm> algorithms;  // challenge order
};

struct Publisher {
  std::string id;  // the AFID sent to buyers
  std::string name;
  bool enabled = true;
  std::optional<std::int64_t> concurrency_cap;
  // Connected calls per UTC hour and day, and new calls a second (none: no limit).
  std::optional<std::int64_t> hourly_cap{};
  std::optional<std::int64_t> daily_cap{};
  std::optional<std::int64_t> cps{};
  // Take the caller from its P-Asserted-Identity (a carrier or SBC that
  // vouches for it) rather than From.
  bool trust_asserted_identity = false;
};

struct Credential {
  std::string username;
  std::string realm;
  std::string publisher_id;
  std::string ha1_md5;
  std::string ha1_sha256;

  const std::string& ha1(auth::DigestAlgorithm a) const { return a == auth::DigestAlgorithm::md5 ? ha1_md5 : ha1_sha256; }
};

struct Route {
  std::string buyer_id;
  std::int64_t priority = 0;  // lower first
  std::int64_t weight = 1;    // among equal priorities
};

struct Campaign {
  std::string id;
  std::string name;
  std::int64_t ring_timeout_seconds = 30;
  std::vector<Route> routes;  // ordered by priority, then weight (heaviest first)
  // Longest a connected call may last: nullopt takes the setting
  // call.max_duration; 0 is no limit.
  std::optional<std::int64_t> max_duration_seconds;
  CampaignScreening screening{};
  // A call connected this long is converted (none: never by time).
  std::optional<std::int64_t> conversion_seconds{};
};

struct Number {
  std::string e164;
  std::string campaign_id;
  std::optional<std::string> publisher_id;  // restricted to this publisher
  bool enabled = true;
};

struct Buyer {
  std::string id;
  std::string target;
  TargetKind target_kind = TargetKind::sip_uri;
  std::optional<std::string> auth_user;
  std::optional<std::string> auth_password;
  std::optional<std::int64_t> concurrency_cap;
  std::optional<std::int64_t> hourly_cap;
  std::optional<std::int64_t> daily_cap;
  std::string hours_text;
  WeeklyHours hours = WeeklyHours::always_open();
  std::string time_zone_name = "UTC";
  const date::time_zone* time_zone = nullptr;
  std::int64_t connect_timeout_seconds = 10;
  bool enabled = true;
  std::vector<HeaderTemplate> headers;  // in the order configured
  bool pass_identity = true;  // the publisher's Identity header (STIR/SHAKEN) goes to this buyer
  // Trusted with the caller's identity (RFC 3325): P-Asserted-Identity, and
  // the number even when the caller asked for privacy.
  bool pass_asserted_identity = false;
  std::optional<std::int64_t> conversion_seconds;  // overrides the campaign's
};

struct Trunk {
  std::string proxy;
  std::optional<std::string> auth_user;
  std::optional<std::string> auth_password;
  std::optional<std::string> from_domain;
};

// A banned source prefix (table bans).
struct Ban {
  bool automatic = false;                  // sipgw's own, after authentication failures
  std::optional<std::int64_t> expires_at;  // Unix ms; none: until removed
};

struct Snapshot {
  std::uint64_t generation = 0;
  std::int64_t loaded_at_ms = 0;  // when the loader read the database (Unix ms)
  std::unordered_map<std::string, Domain> domains;  // by lower-case name
  std::unordered_map<std::string, Publisher> publishers;
  std::unordered_map<std::string, Credential> credentials;  // by credential_key()
  auth::PrefixTable<std::string> allowlist;                 // CIDR -> publisher id
  auth::PrefixTable<Ban> bans;                              // in force when loaded
  std::vector<std::optional<std::int64_t>> ban_expiries;    // the same bans' expiry, to count them
  std::unordered_map<std::string, Number> numbers;
  std::unordered_map<std::string, Campaign> campaigns;
  std::unordered_map<std::string, Buyer> buyers;
  std::optional<Trunk> trunk;
  BlockList blocks;
  std::vector<std::string> postback_events;  // events some postback subscribes to
  // The digest nonce secrets the deployment shares (64 hex characters each):
  // the current one first, then the one it replaced. Empty: each gateway
  // keeps a random secret of its own.
  std::vector<std::string> nonce_secrets;
  Settings settings;

  static std::string credential_key(std::string_view username, std::string_view realm);

  const Domain* find_domain(std::string_view host) const;  // case-insensitive
  const Credential* find_credential(std::string_view username, std::string_view realm) const;
  const std::string* publisher_for_source(const auth::IpAddress& source) const;
  // The ban on source still in force at now_ms (longest prefix), or nullptr.
  const Ban* ban_for(const auth::IpAddress& source, std::int64_t now_ms) const;
  std::size_t active_ban_count(std::int64_t now_ms) const;
  const Number* find_number(std::string_view e164) const;
  const Publisher* find_publisher(std::string_view id) const;
  const Campaign* find_campaign(std::string_view id) const;
  const Buyer* find_buyer(std::string_view id) const;
};

}  // namespace sipgw::routing
