// Provisioning operations behind sipgwctl. Each call validates its input
// first, then writes in one transaction: a refused command changes nothing.
// Results are plain records so the CLI can print them as text or JSON.
#pragma once

#include "db/sqlite.h"

#include <cstdint>
#include <expected>
#include <iosfwd>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace sipgw::db {

struct AdminError {
  enum class Kind { invalid, database };
  Kind kind = Kind::invalid;
  std::string message;
};

template <class T>
using AdminResult = std::expected<T, AdminError>;

using FieldValue = std::variant<std::monostate, std::int64_t, std::string, bool>;
using Record = std::vector<std::pair<std::string, FieldValue>>;  // ordered columns
using Records = std::vector<Record>;

// "none" clears an optional cap; a number sets it.
using CapChange = std::optional<std::optional<std::int64_t>>;

struct BuyerChanges {
  std::optional<std::string> target;
  std::optional<std::string> auth_user;
  std::optional<std::string> auth_password;
  bool clear_auth = false;
  std::optional<std::vector<std::string>> headers;  // "Name: value"; replaces all
  CapChange concurrency_cap;
  CapChange hourly_cap;
  CapChange daily_cap;
  std::optional<std::string> hours;
  std::optional<std::string> time_zone;
  std::optional<std::int64_t> connect_timeout;
  std::optional<bool> enabled;
  std::optional<bool> pass_identity;  // the publisher's Identity header (STIR/SHAKEN) goes to this buyer
  // The buyer is trusted with the caller's identity (RFC 3325): it gets
  // P-Asserted-Identity, and the number even when the caller asked for
  // privacy. Default: not trusted.
  std::optional<bool> pass_asserted_identity;
};

// A publisher's limits and trust; only what is set changes.
struct PublisherChanges {
  std::optional<std::string> name;
  CapChange concurrency_cap;
  CapChange hourly_cap;  // connected calls per UTC hour
  CapChange daily_cap;   // connected calls per UTC day
  CapChange cps;         // new calls a second
  std::optional<std::string> caller_from;  // "from" | "pai": where the caller's number is taken from
};

// A campaign's screening rules; only what is set changes.
struct ScreeningChanges {
  CapChange repeat_window;                               // seconds; none: repeat callers welcome
  std::optional<std::string> repeat_after;               // inbound | connected | converted
  std::optional<std::optional<std::string>> repeat_route;  // a buyer id; nullopt inside: refuse instead
  std::optional<std::string> min_attestation;            // A | B | C | none
};

// Where an event is reported (db/call_events.h); url, headers and body are
// [token] templates.
struct PostbackSpec {
  std::string event;  // inbound | connected | converted | completed | blocked | rejected
  std::string url;    // http:// or https://
  std::string method = "GET";
  std::vector<std::string> headers{};  // "Name: value"
  std::string body{};                  // POST only
  std::optional<std::string> campaign_id{};
  std::optional<std::string> publisher_id{};
  std::optional<std::string> buyer_id{};
};

struct TrunkChanges {
  std::string proxy;
  std::optional<std::string> auth_user;
  std::optional<std::string> auth_password;
  std::optional<std::string> from_domain;
};

struct CallFilter {
  std::int64_t limit = 50;
  std::optional<std::string> campaign_id;
  std::optional<std::string> buyer_id;
  std::optional<std::string> publisher_id;
  std::optional<std::int64_t> since_ms;
  std::optional<std::int64_t> until_ms;
};

class Admin {
 public:
  explicit Admin(Connection& connection) : db_(connection) {}

  AdminResult<void> add_domain(const std::string& name, const std::string& auth_mode,
                               const std::optional<std::string>& realm, const std::optional<std::string>& algorithms);
  AdminResult<void> update_domain(const std::string& name, const std::optional<std::string>& auth_mode,
                                  const std::optional<std::string>& realm,
                                  const std::optional<std::string>& algorithms);
  AdminResult<Records> list_domains();
  AdminResult<void> remove_domain(const std::string& name);

  AdminResult<void> add_publisher(const std::string& id, const std::string& name, CapChange concurrency_cap);
  AdminResult<void> add_publisher(const std::string& id, const PublisherChanges& spec);
  AdminResult<void> update_publisher(const std::string& id, const PublisherChanges& changes);
  AdminResult<Records> list_publishers();
  AdminResult<void> remove_publisher(const std::string& id);
  AdminResult<void> set_publisher_enabled(const std::string& id, bool enabled);

  AdminResult<void> add_credential(const std::string& username, const std::string& publisher_id,
                                   const std::optional<std::string>& realm, const std::string& password);
  AdminResult<Records> list_credentials(const std::optional<std::string>& publisher_id);
  AdminResult<void> remove_credential(const std::string& username, const std::optional<std::string>& realm);
  AdminResult<void> change_credential_password(const std::string& username, const std::optional<std::string>& realm,
                                               const std::string& password);

  // Returns the normalized CIDR that was stored.
  AdminResult<std::string> add_allowlist(const std::string& cidr, const std::string& publisher_id,
                                         const std::string& note);
  AdminResult<Records> list_allowlist(const std::optional<std::string>& publisher_id);
  AdminResult<void> remove_allowlist(const std::string& cidr);
  // The entry and publisher a source address maps to (longest match).
  AdminResult<Record> check_allowlist(const std::string& ip);

  // Bans (the daemon refuses every request from a banned source). seconds:
  // none for a permanent ban. A ban covering an allowlist entry (or inside
  // one) is refused, naming it, unless override_allowlist: a deliberate
  // allowlist entry is never shadowed silently. Returns the stored CIDR.
  AdminResult<std::string> add_ban(const std::string& cidr, std::optional<std::int64_t> seconds, const std::string& note,
                                   bool override_allowlist, std::int64_t now_ms);
  // Bans still in force at now_ms, newest first.
  AdminResult<Records> list_bans(std::int64_t now_ms);

  // The digest nonce secret the deployment's gateways share: 64 hex
  // characters (32 random bytes, e.g. openssl rand -hex 32), the same on
  // every gateway behind one front end. The secret it replaces keeps
  // verifying nonces as 'previous' until the next rotation.
  AdminResult<void> set_nonce_secret(const std::string& hex, std::int64_t now_ms);
  // Which secrets are set and when: never the secrets themselves.
  AdminResult<Records> nonce_secret_status();
  AdminResult<void> remove_ban(const std::string& cidr);
  // The daemon's own ban of one address (after repeated authentication
  // failures or a request flood: the note says which). Replaces an older
  // automatic ban of it, never a manual one.
  AdminResult<void> record_auto_ban(const std::string& cidr, std::int64_t now_ms, std::int64_t expires_at_ms,
                                    const std::string& note);

  // max_duration: unset takes the setting call.max_duration; 0 is no limit.
  AdminResult<void> add_campaign(const std::string& id, const std::string& name, std::int64_t ring_timeout,
                                 CapChange max_duration = {}, const ScreeningChanges& screening = {});
  // Changes only what is given (max_duration set to nullopt: back to the setting).
  AdminResult<void> update_campaign(const std::string& id, const std::optional<std::string>& name,
                                    std::optional<std::int64_t> ring_timeout, CapChange max_duration,
                                    const ScreeningChanges& screening = {});
  AdminResult<Records> list_campaigns();
  AdminResult<void> remove_campaign(const std::string& id);

  // Block lists (routing/screening.h). campaign none: every campaign.
  // entry: anonymous, +E164 or +DIGITS* (a prefix). Returns the stored entry.
  AdminResult<std::string> add_block(const std::string& entry, const std::optional<std::string>& campaign_id,
                                     const std::string& note, std::int64_t now_ms);
  AdminResult<Records> list_blocks(const std::optional<std::string>& campaign_id);
  AdminResult<void> remove_block(const std::string& entry, const std::optional<std::string>& campaign_id);
  // One entry a line (blank lines and lines starting with # are skipped),
  // all in one transaction: a bad line refuses the whole file, naming it.
  // Entries already blocked are kept. Returns how many were new.
  AdminResult<std::int64_t> import_blocks(std::istream& lines, const std::optional<std::string>& campaign_id,
                                          std::int64_t now_ms);

  AdminResult<void> add_number(const std::string& e164, const std::string& campaign_id,
                               const std::optional<std::string>& publisher_id);
  AdminResult<Records> list_numbers(const std::optional<std::string>& campaign_id);
  AdminResult<void> remove_number(const std::string& e164);
  AdminResult<void> set_number_enabled(const std::string& e164, bool enabled);

  AdminResult<void> add_buyer(const std::string& id, const BuyerChanges& spec);
  AdminResult<void> update_buyer(const std::string& id, const BuyerChanges& changes);
  AdminResult<Records> list_buyers(std::int64_t now_ms);
  AdminResult<Record> show_buyer(const std::string& id, std::int64_t now_ms);
  AdminResult<void> remove_buyer(const std::string& id);

  AdminResult<void> add_route(const std::string& campaign_id, const std::string& buyer_id, std::int64_t priority,
                              std::int64_t weight);
  AdminResult<Records> list_routes(const std::optional<std::string>& campaign_id);
  AdminResult<void> remove_route(const std::string& campaign_id, const std::string& buyer_id);

  // Postbacks. Returns the new postback's id.
  AdminResult<std::int64_t> add_postback(const PostbackSpec& spec);
  AdminResult<Records> list_postbacks();
  AdminResult<void> remove_postback(std::int64_t id);
  // Deliveries failed for good (the dead letter), newest first.
  AdminResult<Records> list_postback_failures(std::int64_t limit);
  // A failed delivery back to pending, due now.
  AdminResult<void> retry_postback(std::int64_t delivery_id, std::int64_t now_ms);
  // A campaign's or buyer's conversion time (none: clear it).
  AdminResult<void> set_conversion_seconds(std::string_view table, const std::string& id, CapChange seconds);

  AdminResult<void> set_trunk(const TrunkChanges& trunk);
  AdminResult<Record> show_trunk();

  AdminResult<void> set_setting(const std::string& key, const std::string& value);
  AdminResult<Records> list_settings();

  AdminResult<Records> list_calls(const CallFilter& filter);
  // The call and its buyer attempts, in order.
  AdminResult<std::pair<Record, Records>> show_call(const std::string& uuid);

 private:
  Connection& db_;
};

}  // namespace sipgw::db
