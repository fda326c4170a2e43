// Gateway-wide settings kept in the `settings` table. Only known keys are
// accepted, each with its own validation, so a typo is refused rather than
// silently ignored.
#pragma once

#include "auth/cidr.h"

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace sipgw::routing {

struct Settings {
  // Names of the standard headers on every outbound INVITE; buyers' PBXes
  // already parse these defaults.
  std::string header_uuid = "X-PH-RetreaverUUID";
  std::string header_key = "X-PH-RetreaverKey";
  std::string header_afid = "X-PH-RetreaverAFID";
  std::string header_sid = "X-PH-RetreaverSID";
  // The inbound header that carries the publisher's sub id.
  std::string inbound_sub_id_header = "X-Sub-ID";
  // SIP front ends (load balancers) whose packets carry the publisher's real
  // address in front_end_source_header. From anyone else the header is
  // ignored, so it cannot be forged.
  std::vector<auth::Cidr> front_end_addresses;
  std::string front_end_addresses_text;
  std::string front_end_source_header = "X-Sipgw-Source-IP";
  std::int64_t nonce_lifetime_seconds = 300;
  std::int64_t retry_after_seconds = 30;  // on 503 while draining
  // A connected call is hung up after this long unless its campaign says
  // otherwise; 0: no limit.
  std::int64_t max_call_duration_seconds = 14400;
  // The publisher never waits longer than this for an answer, across every
  // failover.
  std::int64_t max_setup_seconds = 120;
  // RFC 4028 session timers on both legs: the Session-Expires sipgw asks of
  // buyers and the most it grants a publisher (0: no session timers), and
  // the shortest it accepts (a shorter one gets 422). RFC 4028 puts the
  // floor at 90 s; shorter values are for tests.
  std::int64_t session_expires_seconds = 1800;
  std::int64_t session_min_se_seconds = 90;
  // The User-Agent (requests) and the same header on responses; empty: none,
  // so a scanner learns no product or version.
  std::string user_agent;
  // Automatic bans: this many authentication failures from one source
  // within auth_window ban it for ban_seconds (0 failures: never).
  std::int64_t ban_after_failures = 5;
  std::int64_t ban_window_seconds = 60;
  std::int64_t ban_seconds = 900;
  // What a banned source hears: nothing (the kernel drops its packets, see
  // gateway/drop_filter.h) or 403 Forbidden.
  bool ban_drops = true;
  // Per-source request rates (requests a second, bursts of twice that; 0:
  // no limit). Sources on a publisher's allowlist and front ends are not
  // limited. A source refused twice its rate within one second is banned
  // for flood_ban_seconds.
  std::int64_t request_rate = 1000;
  std::int64_t new_request_rate = 300;
  std::int64_t flood_ban_seconds = 60;
  // Refusals of new requests in one second (all sources together) at which
  // the stacks shorten their transaction lifetime (gateway/refusal_surge.h);
  // 0: never.
  std::int64_t surge_refusals = 500;
  // TCP and message limits. A connection nothing crossed for tcp_idle
  // seconds is closed (Kamailio's default is 120; a publisher behind NAT on
  // TCP must refresh or send CRLF keep-alives within it). A message that
  // stops arriving midway is dropped after tcp_message_timeout seconds of
  // silence, one longer than max_message_size bytes is refused with 413.
  // One source may hold tcp_max_per_source connections (more: banned as a
  // flood and its connections shut), all sources tcp_max_connections.
  std::int64_t tcp_idle_seconds = 600;
  std::int64_t tcp_message_timeout_seconds = 10;
  std::int64_t max_message_size = 65536;
  // Header fields one request may have (0: any). Sofia's parser, as Debian
  // builds it (assertions on), checks the whole header chain at every
  // header it adds: 1,000 headers cost 4.9 ms, 2,000 cost 18 ms, against
  // 0.2 ms for an ordinary request. Past the limit: 400, and the source is
  // banned as a flood (unless allowlisted or a front end).
  std::int64_t max_headers = 200;
  // Overload control (gateway/overload.h): while the SIP thread is this
  // many milliseconds behind (its receive queue's oldest datagram, or its
  // heartbeat), new INVITEs get 503 + Retry-After (0: never).
  std::int64_t overload_wait_ms = 100;
  // When refusing is not enough the kernel drops a share of new INVITEs over
  // UDP ("503+drop", the default) - or every new INVITE gets its 503 ("503").
  bool overload_drops = true;
  // 64 x T1 in milliseconds (NTATAG_SIP_T1X64): how long Sofia keeps a
  // finished server transaction (timers H and J), waits for a first answer
  // (timers B and F) and a peer's ACK. RFC 3261's 32 s; shorter keeps less
  // memory (see the README). A refusal surge shortens it to 4 s.
  std::int64_t transaction_lifetime_ms = 32000;
  std::int64_t tcp_max_per_source = 64;
  std::int64_t tcp_max_connections = 16384;
  // Call screening (routing/screening.h): the status each refusal gets,
  // and how many (campaign, caller) pairs the repeat-caller memory keeps.
  std::int64_t blocked_status = 603;
  std::int64_t attestation_status = 603;
  std::int64_t repeat_status = 486;
  std::int64_t repeat_history_max = 1000000;
  // Inbound headers whose values become [header:Name] tokens.
  std::vector<std::string> token_headers;
  // Inbound headers passed to buyers as they are (every instance), e.g.
  // Diversion and History-Info for a buyer that routes on them.
  std::vector<std::string> pass_headers;
  // Postback delivery (gateway/postback_sender.h): requests in flight at
  // most, each one's timeout, how long a failing delivery is retried and
  // the longest wait between tries.
  std::int64_t postback_concurrency = 8;
  std::int64_t postback_timeout_ms = 5000;
  std::int64_t postback_retry_for_seconds = 86400;
  std::int64_t postback_max_backoff_seconds = 300;
};

struct SettingInfo {
  std::string_view key;
  std::string_view description;
};

const std::vector<SettingInfo>& known_settings();

// Validates and stores one key; the error names the key and the reason.
std::expected<void, std::string> apply_setting(Settings& settings, std::string_view key, std::string_view value);

// The current value of a known key as text.
std::string setting_value(const Settings& settings, std::string_view key);

}  // namespace sipgw::routing
