#include "db/validation.h"

#include "routing/headers.h"

#include <algorithm>
#include <cctype>

namespace sipgw::db {

AdminError invalid(std::string message) { return {AdminError::Kind::invalid, std::move(message)}; }

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

AdminResult<void> check_host(std::string_view what, std::string_view host) {
  const bool ok = !host.empty() && host.size() <= 253 && std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == ':' || c == '[' || c == ']';
  });
  if (!ok) return std::unexpected(invalid(std::string(what) + " '" + std::string(host) + "' is not a host name"));
  return {};
}

AdminResult<void> check_realm(std::string_view realm) {
  if (realm.empty() || !routing::is_safe_header_value(realm) || realm.find('"') != std::string_view::npos) {
    return std::unexpected(invalid("realm '" + std::string(realm) + "' is empty or has a quote or control character"));
  }
  return {};
}

AdminResult<void> check_inbound_user(std::string_view username) {
  if (username.empty() || !routing::is_safe_header_value(username) ||
      username.find_first_of("\":") != std::string_view::npos) {
    return std::unexpected(
        invalid("username '" + std::string(username) + "' is empty or has a quote, colon or control character"));
  }
  return {};
}

AdminResult<void> check_outbound_user(std::string_view username) {
  if (username.empty() || !routing::is_safe_header_value(username) ||
      username.find_first_of("\"\\") != std::string_view::npos) {
    return std::unexpected(invalid("auth user is empty or has a quote, backslash or control character"));
  }
  return {};
}

AdminResult<void> check_password(std::string_view password) {
  if (password.empty()) return std::unexpected(invalid("password is empty"));
  if (!routing::is_safe_header_value(password)) return std::unexpected(invalid("password has a control character"));
  return {};
}

AdminResult<void> check_range(std::string_view what, std::int64_t value, std::int64_t lo, std::int64_t hi,
                              std::string_view unit) {
  if (value >= lo && value <= hi) return {};
  return std::unexpected(invalid(std::string(what) + " must be " + std::to_string(lo) + " to " + std::to_string(hi) +
                                 (unit.empty() ? "" : " " + std::string(unit))));
}

AdminResult<void> check_cap(std::string_view what, const CapChange& cap) {
  if (cap && *cap && **cap < 0) return std::unexpected(invalid(std::string(what) + " must not be negative"));
  return {};
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace sipgw::db
