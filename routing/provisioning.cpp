#include "routing/provisioning.h"

#include <algorithm>
#include <cctype>

namespace sipgw::routing {

namespace {

template <class Map>
const typename Map::mapped_type* find_in(const Map& map, std::string_view key) {
  auto it = map.find(std::string(key));
  return it == map.end() ? nullptr : &it->second;
}

}  // namespace

std::string_view to_string(AuthMode mode) {
  switch (mode) {
    case AuthMode::digest: return "digest";
    case AuthMode::ip: return "ip";
    case AuthMode::digest_or_ip: return "digest-or-ip";
  }
  return "digest";
}

std::optional<AuthMode> parse_auth_mode(std::string_view text) {
  if (text == "digest") return AuthMode::digest;
  if (text == "ip") return AuthMode::ip;
  if (text == "digest-or-ip") return AuthMode::digest_or_ip;
  return std::nullopt;
}

std::string Snapshot::credential_key(std::string_view username, std::string_view realm) {
  std::string key;
  key.reserve(username.size() + realm.size() + 1);
  key.append(username).push_back('\0');
  key.append(realm);
  return key;
}

const Domain* Snapshot::find_domain(std::string_view host) const {
  std::string lower(host);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return find_in(domains, lower);
}

const Credential* Snapshot::find_credential(std::string_view username, std::string_view realm) const {
  return find_in(credentials, credential_key(username, realm));
}

const std::string* Snapshot::publisher_for_source(const auth::IpAddress& source) const {
  return allowlist.find(source);
}

const Ban* Snapshot::ban_for(const auth::IpAddress& source, std::int64_t now_ms) const {
  const Ban* ban = bans.find(source);
  if (ban == nullptr || (ban->expires_at && *ban->expires_at <= now_ms)) return nullptr;
  return ban;
}

std::size_t Snapshot::active_ban_count(std::int64_t now_ms) const {
  return static_cast<std::size_t>(std::count_if(ban_expiries.begin(), ban_expiries.end(),
                                                [&](const auto& expires) { return !expires || *expires > now_ms; }));
}

const Number* Snapshot::find_number(std::string_view e164) const { return find_in(numbers, e164); }
const Publisher* Snapshot::find_publisher(std::string_view id) const { return find_in(publishers, id); }
const Campaign* Snapshot::find_campaign(std::string_view id) const { return find_in(campaigns, id); }
const Buyer* Snapshot::find_buyer(std::string_view id) const { return find_in(buyers, id); }

}  // namespace sipgw::routing
