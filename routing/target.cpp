#include "routing/target.h"

#include "auth/e164.h"
#include "routing/tokens.h"

#include <cctype>

namespace sipgw::routing {

namespace {

bool has_prefix_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

// The part after the scheme: [user@]host[:port][;params][?headers]
std::expected<void, std::string> check_sip_rest(std::string_view original, std::string_view rest, bool user_allowed) {
  for (char c : rest) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '<' || c == '>' || c == '"') {
      return std::unexpected("target '" + std::string(original) + "' has a space, control character or <>\" in it");
    }
  }
  auto at = rest.rfind('@');
  if (at != std::string_view::npos) {
    if (!user_allowed) return std::unexpected("'" + std::string(original) + "' must not have a user part");
    if (at == 0) return std::unexpected("target '" + std::string(original) + "' has an empty user part");
    rest.remove_prefix(at + 1);
  }
  auto host_end = rest.find_first_of(";?");
  // sipgw has no TLS transport yet: a target that asks for it would fail
  // every call at the stack; say so when it is provisioned.
  for (auto param = rest.find(';'); param != std::string_view::npos; param = rest.find(';', param + 1)) {
    if (has_prefix_ci(rest.substr(param + 1), "transport=tls")) {
      return std::unexpected("'" + std::string(original) + "' asks for transport=tls; sipgw has no TLS transport yet");
    }
  }
  auto hostport = rest.substr(0, host_end);
  std::string_view host = hostport;
  if (!hostport.empty() && hostport.front() == '[') {
    auto close = hostport.find(']');
    if (close == std::string_view::npos) return std::unexpected("target '" + std::string(original) + "' has an unclosed IPv6 host");
    host = hostport.substr(0, close + 1);
    hostport.remove_prefix(close + 1);
  } else {
    auto colon = hostport.find(':');
    host = hostport.substr(0, colon);
    hostport = colon == std::string_view::npos ? std::string_view{} : hostport.substr(colon);
  }
  if (host.empty()) return std::unexpected("target '" + std::string(original) + "' has no host");
  if (!hostport.empty()) {
    auto port = hostport.substr(1);
    if (hostport.front() != ':' || port.empty() || port.size() > 5) {
      return std::unexpected("target '" + std::string(original) + "' has an invalid port");
    }
    unsigned value = 0;
    for (char c : port) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return std::unexpected("target '" + std::string(original) + "' has an invalid port");
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) return std::unexpected("target '" + std::string(original) + "' has an invalid port");
  }
  return {};
}

}  // namespace

std::expected<TargetKind, std::string> classify_target(std::string_view target) {
  if (!target.empty() && target.front() == '+') {
    if (auth::is_e164(target)) return TargetKind::pstn;
    return std::unexpected("target '" + std::string(target) + "' is not an E.164 number (+ and 8 to 15 digits)");
  }
  std::string_view rest;
  if (has_prefix_ci(target, "sip:")) {
    rest = target.substr(4);
  } else if (has_prefix_ci(target, "sips:")) {
    return std::unexpected("target '" + std::string(target) + "' is a sips: URI; sipgw has no TLS transport yet (use sip:)");
  } else {
    return std::unexpected("target '" + std::string(target) + "' is neither a sip: URI nor an E.164 number");
  }
  auto ok = check_sip_rest(target, rest, true);
  if (!ok) return std::unexpected(ok.error());
  if (auto tokens = check_tokens(target); !tokens) return std::unexpected("target '" + std::string(target) + "': " + tokens.error());
  return TargetKind::sip_uri;
}

std::expected<void, std::string> validate_trunk_proxy(std::string_view uri) {
  std::string_view rest;
  if (has_prefix_ci(uri, "sip:")) {
    rest = uri.substr(4);
  } else if (has_prefix_ci(uri, "sips:")) {
    return std::unexpected("trunk proxy '" + std::string(uri) + "' is a sips: URI; sipgw has no TLS transport yet (use sip:)");
  } else {
    return std::unexpected("trunk proxy '" + std::string(uri) + "' is not a sip: URI");
  }
  return check_sip_rest(uri, rest, false);
}

std::string pstn_request_uri(std::string_view e164, std::string_view trunk_proxy_uri) {
  auto colon = trunk_proxy_uri.find(':');
  std::string out(trunk_proxy_uri.substr(0, colon + 1));
  out.append(e164).append("@").append(trunk_proxy_uri.substr(colon + 1));
  return out;
}

}  // namespace sipgw::routing
