#include "routing/headers.h"

#include "routing/tokens.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>

namespace sipgw::routing {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

bool is_sip_token(std::string_view text) {
  if (text.empty()) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("-.!%*_+`'~", c) != nullptr;
  });
}

bool is_safe_header_value(std::string_view text) {
  return std::none_of(text.begin(), text.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && u != '\t') || u == 0x7f;
  });
}

bool is_reserved_header_name(std::string_view name) {
  static constexpr std::array kReserved = {
      "via", "v", "from", "f", "to", "t", "call-id", "i", "cseq", "contact", "m", "max-forwards",
      "content-length", "l", "content-type", "c", "route", "record-route", "authorization",
      "proxy-authorization", "www-authenticate", "proxy-authenticate", "require", "proxy-require",
      "supported", "k", "allow", "expires", "session-expires", "x", "min-se"};
  auto l = lower(name);
  return std::any_of(kReserved.begin(), kReserved.end(), [&](const char* r) { return l == r; });
}

std::expected<HeaderTemplate, std::string> parse_header_template(std::string_view line) {
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return std::unexpected("header '" + std::string(line) + "' is not 'Name: value'");
  auto name = trim(line.substr(0, colon));
  auto value = trim(line.substr(colon + 1));
  if (!is_sip_token(name)) return std::unexpected("header name '" + std::string(name) + "' is not a SIP token");
  if (is_reserved_header_name(name)) {
    return std::unexpected("header " + std::string(name) + " is set by sipgw itself and cannot be configured");
  }
  if (!is_safe_header_value(value)) {
    return std::unexpected("header " + std::string(name) + " has a control character (CR, LF, ...) in its value");
  }
  if (auto tokens = check_tokens(value); !tokens) {
    return std::unexpected("header " + std::string(name) + ": " + tokens.error());
  }
  return HeaderTemplate{std::string(name), std::string(value)};
}

}  // namespace sipgw::routing
