#include "routing/settings.h"

#include "auth/text.h"
#include "routing/headers.h"

#include <algorithm>

#include <charconv>

namespace sipgw::routing {

namespace {

std::expected<void, std::string> set_header_name(std::string& field, std::string_view key, std::string_view value) {
  if (!is_sip_token(value)) return std::unexpected("setting " + std::string(key) + ": '" + std::string(value) + "' is not a SIP header name");
  if (is_reserved_header_name(value)) return std::unexpected("setting " + std::string(key) + ": " + std::string(value) + " is a header sipgw sets itself");
  field = value;
  return {};
}

// A comma-separated list of header names, at most 16. Names passed on to
// buyers must not be ones sipgw writes itself (the dialog's, and the
// identity headers it decides per buyer).
std::expected<void, std::string> set_header_names(std::vector<std::string>& field, std::string_view key,
                                                  std::string_view value) {
  const bool passed_on = key == "outbound.pass_headers";
  std::vector<std::string> names;
  std::string_view rest = value;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    auto item = auth::trim(rest.substr(0, comma));
    if (!item.empty()) {
      if (!is_sip_token(item)) {
        return std::unexpected("setting " + std::string(key) + ": '" + std::string(item) + "' is not a SIP header name");
      }
      const bool own = is_reserved_header_name(item) || auth::iequals(item, "P-Asserted-Identity") ||
                       auth::iequals(item, "Privacy") || auth::iequals(item, "Identity");
      if (passed_on && own) {
        return std::unexpected("setting " + std::string(key) + ": " + std::string(item) + " is a header sipgw sets itself");
      }
      names.emplace_back(item);
    }
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  if (names.size() > 16) return std::unexpected("setting " + std::string(key) + ": at most 16 headers");
  field = std::move(names);
  return {};
}

std::expected<void, std::string> set_seconds(std::int64_t& field, std::string_view key, std::string_view value,
                                             std::int64_t min, std::int64_t max, std::string_view unit = "seconds") {
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (value.empty() || ec != std::errc{} || end != value.data() + value.size() || n < min || n > max) {
    return std::unexpected("setting " + std::string(key) + ": '" + std::string(value) + "' is not a whole number of " + std::string(unit) + " from " +
                           std::to_string(min) + " to " + std::to_string(max));
  }
  field = n;
  return {};
}

}  // namespace

const std::vector<SettingInfo>& known_settings() {
  static const std::vector<SettingInfo> kKnown = {
      {"header.uuid", "name of the call UUID header sent to buyers"},
      {"header.key", "name of the postback key header sent to buyers"},
      {"header.afid", "name of the publisher id header sent to buyers"},
      {"header.sid", "name of the sub id header sent to buyers"},
      {"inbound.sub_id_header", "inbound header that carries the publisher's sub id"},
      {"front_end.addresses", "CIDRs of SIP front ends trusted to name the publisher's address (comma-separated)"},
      {"front_end.source_header", "header in which a trusted front end names the publisher's address"},
      {"nonce_lifetime", "seconds a digest nonce stays fresh"},
      {"retry_after", "Retry-After seconds on 503 while draining"},
      {"call.max_duration", "seconds a connected call may last unless its campaign says otherwise (0: no limit)"},
      {"call.max_setup", "seconds a publisher may wait for an answer across all buyers"},
      {"session.expires", "RFC 4028 session interval in seconds asked of buyers, the most a publisher gets (0: no session timers)"},
      {"session.min_se", "shortest session interval in seconds a peer may ask for (shorter: 422; RFC 4028 says at least 90)"},
      {"security.auth_failures", "authentication failures from one source that ban it (0: never ban)"},
      {"security.auth_window", "seconds within which those failures count"},
      {"security.ban_seconds", "seconds an automatic ban lasts"},
      {"security.ban_response", "what a banned source gets: drop (no answer, the default) or 403"},
      {"security.request_rate", "requests a second one source may send (bursts of twice that; 0: no limit; allowlisted sources and front ends are exempt)"},
      {"security.new_request_rate", "out-of-dialog requests (INVITE, OPTIONS) a second one source may send (0: no limit)"},
      {"security.flood_ban_seconds", "seconds a source is banned after being refused twice its rate within one second"},
      {"security.surge_refusals", "refused new requests a second (all sources) at which SIP transactions are kept 4 s instead of 32 s until 10 calm seconds (0: never)"},
      {"sip.tcp_idle", "seconds after which a TCP connection nothing crossed is closed"},
      {"sip.tcp_message_timeout", "seconds of silence after which a partly received message is dropped"},
      {"sip.max_message_size", "largest SIP message in bytes (larger: 413 or dropped)"},
      {"sip.max_headers", "header fields one request may have (more: 400 and the source is banned as a flood; 0: any)"},
      {"sip.overload_wait", "milliseconds the SIP thread may fall behind before new calls get 503 + Retry-After (0: never refuse)"},
      {"sip.overload_response", "503+drop (the default: when refusing is not enough, the kernel drops a share of new INVITEs over UDP) or 503"},
      {"sip.transaction_lifetime", "milliseconds (64 x T1) a finished SIP transaction is kept and an unanswered one retried (RFC 3261: 32000)"},
      {"sip.tcp_max_per_source", "TCP connections one source may hold (more: it is banned as a flood; allowlisted sources and front ends are exempt)"},
      {"sip.tcp_max_connections", "TCP connections all sources together may hold (past it the sources holding most are cut)"},
      {"screening.blocked_status", "SIP status for a call from a blocked or anonymous caller (403, 404, 433, 480, 486, 603; default 603)"},
      {"screening.attestation_status", "SIP status for a call below its campaign's minimum STIR/SHAKEN attestation (default 603)"},
      {"screening.repeat_status", "SIP status for a repeat caller inside its campaign's window (default 486)"},
      {"screening.repeat_history_max", "(campaign, caller) pairs the repeat-caller memory keeps at most (the oldest go first)"},
      {"inbound.token_headers", "inbound headers whose values become [header:Name] tokens (comma-separated, at most 16)"},
      {"outbound.pass_headers", "inbound headers passed as they are to every buyer, e.g. Diversion,History-Info "
                                "(comma-separated, at most 16; not the ones sipgw sets itself)"},
      {"postback.concurrency", "postback requests in flight at once (1 to 256, default 8)"},
      {"postback.timeout", "milliseconds a postback request may take (default 5000)"},
      {"postback.retry_for", "seconds a failing postback is retried before it is failed for good (default 86400)"},
      {"postback.max_backoff", "most seconds between two tries of a failing postback (default 300)"},
      {"sip.user_agent", "User-Agent header on sipgw's SIP messages (empty, the default: none)"},
  };
  return kKnown;
}

std::expected<void, std::string> apply_setting(Settings& s, std::string_view key, std::string_view value) {
  if (key == "header.uuid") return set_header_name(s.header_uuid, key, value);
  if (key == "header.key") return set_header_name(s.header_key, key, value);
  if (key == "header.afid") return set_header_name(s.header_afid, key, value);
  if (key == "header.sid") return set_header_name(s.header_sid, key, value);
  if (key == "inbound.sub_id_header") return set_header_name(s.inbound_sub_id_header, key, value);
  if (key == "front_end.source_header") return set_header_name(s.front_end_source_header, key, value);
  if (key == "front_end.addresses") {
    std::vector<auth::Cidr> cidrs;
    std::string normalized;
    std::string_view rest = value;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      auto item = rest.substr(0, comma);
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
      if (!item.empty()) {
        auto cidr = auth::parse_cidr(item);
        if (!cidr) return std::unexpected("setting " + std::string(key) + ": " + cidr.error());
        cidrs.push_back(*cidr);
        normalized += (normalized.empty() ? "" : ",") + auth::to_string(*cidr);
      }
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
    s.front_end_addresses = std::move(cidrs);
    s.front_end_addresses_text = std::move(normalized);
    return {};
  }
  if (key == "nonce_lifetime") return set_seconds(s.nonce_lifetime_seconds, key, value, 10, 86400);
  if (key == "retry_after") return set_seconds(s.retry_after_seconds, key, value, 1, 3600);
  if (key == "call.max_duration") return set_seconds(s.max_call_duration_seconds, key, value, 0, 7 * 86400);
  if (key == "call.max_setup") return set_seconds(s.max_setup_seconds, key, value, 1, 3600);
  if (key == "session.expires") return set_seconds(s.session_expires_seconds, key, value, 0, 86400);
  if (key == "session.min_se") return set_seconds(s.session_min_se_seconds, key, value, 1, 86400);
  if (key == "security.auth_failures") {
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (value.empty() || ec != std::errc{} || end != value.data() + value.size() || n < 0 || n > 1000) {
      return std::unexpected("setting security.auth_failures: '" + std::string(value) + "' is not a whole number from 0 to 1000");
    }
    s.ban_after_failures = n;
    return {};
  }
  if (key == "security.auth_window") return set_seconds(s.ban_window_seconds, key, value, 1, 86400);
  if (key == "security.ban_seconds") return set_seconds(s.ban_seconds, key, value, 1, 365 * 86400);
  if (key == "security.ban_response") {
    if (value != "drop" && value != "403") {
      return std::unexpected("setting security.ban_response: '" + std::string(value) + "' is neither drop nor 403");
    }
    s.ban_drops = value == "drop";
    return {};
  }
  if (key == "security.request_rate") return set_seconds(s.request_rate, key, value, 0, 1000000, "requests a second");
  if (key == "security.new_request_rate") return set_seconds(s.new_request_rate, key, value, 0, 1000000, "requests a second");
  if (key == "security.flood_ban_seconds") return set_seconds(s.flood_ban_seconds, key, value, 1, 86400);
  if (key == "security.surge_refusals") return set_seconds(s.surge_refusals, key, value, 0, 1000000, "refusals a second");
  if (key == "sip.tcp_idle") return set_seconds(s.tcp_idle_seconds, key, value, 1, 86400);
  if (key == "sip.tcp_message_timeout") return set_seconds(s.tcp_message_timeout_seconds, key, value, 1, 600);
  if (key == "sip.max_message_size") return set_seconds(s.max_message_size, key, value, 4096, 2097152, "bytes");
  if (key == "sip.max_headers") return set_seconds(s.max_headers, key, value, 0, 100000, "header fields");
  if (key == "sip.overload_wait") return set_seconds(s.overload_wait_ms, key, value, 0, 10000, "milliseconds");
  if (key == "sip.overload_response") {
    if (value != "503+drop" && value != "503") {
      return std::unexpected("setting sip.overload_response: '" + std::string(value) + "' is neither 503+drop nor 503");
    }
    s.overload_drops = value == "503+drop";
    return {};
  }
  if (key == "sip.transaction_lifetime") return set_seconds(s.transaction_lifetime_ms, key, value, 4000, 32000, "milliseconds");
  if (key == "sip.tcp_max_per_source") return set_seconds(s.tcp_max_per_source, key, value, 1, 1000000, "connections");
  if (key == "sip.tcp_max_connections") return set_seconds(s.tcp_max_connections, key, value, 1, 1000000, "connections");
  if (key == "screening.blocked_status" || key == "screening.attestation_status" || key == "screening.repeat_status") {
    std::int64_t& field = key == "screening.blocked_status"       ? s.blocked_status
                          : key == "screening.attestation_status" ? s.attestation_status
                                                                  : s.repeat_status;
    for (std::string_view allowed : {"403", "404", "433", "480", "486", "603"}) {
      if (value == allowed) return set_seconds(field, key, value, 400, 699, "");
    }
    return std::unexpected("setting " + std::string(key) + ": '" + std::string(value) +
                           "' is not one of 403, 404, 433, 480, 486, 603");
  }
  if (key == "postback.concurrency") return set_seconds(s.postback_concurrency, key, value, 1, 256, "requests");
  if (key == "postback.timeout") return set_seconds(s.postback_timeout_ms, key, value, 100, 60000, "milliseconds");
  if (key == "postback.retry_for") return set_seconds(s.postback_retry_for_seconds, key, value, 1, 7 * 86400);
  if (key == "postback.max_backoff") return set_seconds(s.postback_max_backoff_seconds, key, value, 1, 86400);
  if (key == "screening.repeat_history_max") return set_seconds(s.repeat_history_max, key, value, 1000, 100000000, "entries");
  if (key == "inbound.token_headers") return set_header_names(s.token_headers, key, value);
  if (key == "outbound.pass_headers") return set_header_names(s.pass_headers, key, value);
  if (key == "sip.user_agent") {
    const bool printable = std::all_of(value.begin(), value.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
    if (value.size() > 64 || !printable) {
      return std::unexpected("setting sip.user_agent: at most 64 printable ASCII characters");
    }
    s.user_agent = auth::trim(value);
    return {};
  }
  return std::unexpected("unknown setting '" + std::string(key) + "' (see sipgwctl setting list)");
}

namespace {
std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ",") + name;
  return out;
}
}  // namespace

std::string setting_value(const Settings& s, std::string_view key) {
  if (key == "header.uuid") return s.header_uuid;
  if (key == "header.key") return s.header_key;
  if (key == "header.afid") return s.header_afid;
  if (key == "header.sid") return s.header_sid;
  if (key == "inbound.sub_id_header") return s.inbound_sub_id_header;
  if (key == "front_end.addresses") return s.front_end_addresses_text;
  if (key == "front_end.source_header") return s.front_end_source_header;
  if (key == "nonce_lifetime") return std::to_string(s.nonce_lifetime_seconds);
  if (key == "retry_after") return std::to_string(s.retry_after_seconds);
  if (key == "call.max_duration") return std::to_string(s.max_call_duration_seconds);
  if (key == "call.max_setup") return std::to_string(s.max_setup_seconds);
  if (key == "session.expires") return std::to_string(s.session_expires_seconds);
  if (key == "session.min_se") return std::to_string(s.session_min_se_seconds);
  if (key == "sip.user_agent") return s.user_agent;
  if (key == "postback.concurrency") return std::to_string(s.postback_concurrency);
  if (key == "postback.timeout") return std::to_string(s.postback_timeout_ms);
  if (key == "postback.retry_for") return std::to_string(s.postback_retry_for_seconds);
  if (key == "postback.max_backoff") return std::to_string(s.postback_max_backoff_seconds);
  if (key == "screening.blocked_status") return std::to_string(s.blocked_status);
  if (key == "screening.attestation_status") return std::to_string(s.attestation_status);
  if (key == "screening.repeat_status") return std::to_string(s.repeat_status);
  if (key == "screening.repeat_history_max") return std::to_string(s.repeat_history_max);
  if (key == "inbound.token_headers") return joined(s.token_headers);
  if (key == "outbound.pass_headers") return joined(s.pass_headers);
  if (key == "sip.tcp_idle") return std::to_string(s.tcp_idle_seconds);
  if (key == "sip.tcp_message_timeout") return std::to_string(s.tcp_message_timeout_seconds);
  if (key == "sip.max_message_size") return std::to_string(s.max_message_size);
  if (key == "sip.max_headers") return std::to_string(s.max_headers);
  if (key == "sip.overload_wait") return std::to_string(s.overload_wait_ms);
  if (key == "sip.overload_response") return s.overload_drops ? "503+drop" : "503";
  if (key == "sip.transaction_lifetime") return std::to_string(s.transaction_lifetime_ms);
  if (key == "sip.tcp_max_per_source") return std::to_string(s.tcp_max_per_source);
  if (key == "sip.tcp_max_connections") return std::to_string(s.tcp_max_connections);
  if (key == "security.auth_failures") return std::to_string(s.ban_after_failures);
  if (key == "security.auth_window") return std::to_string(s.ban_window_seconds);
  if (key == "security.ban_seconds") return std::to_string(s.ban_seconds);
  if (key == "security.ban_response") return s.ban_drops ? "drop" : "403";
  if (key == "security.request_rate") return std::to_string(s.request_rate);
  if (key == "security.new_request_rate") return std::to_string(s.new_request_rate);
  if (key == "security.flood_ban_seconds") return std::to_string(s.flood_ban_seconds);
  if (key == "security.surge_refusals") return std::to_string(s.surge_refusals);
  return {};
}

}  // namespace sipgw::routing
