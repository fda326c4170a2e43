#include "auth/caller_identity.h"

#include "auth/text.h"

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <cctype>
#include <vector>

namespace sipgw::auth {

namespace {

// base64url (RFC 4648 section 5, padding optional) to bytes; nullopt when
// it is not base64url.
std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.empty() || text.size() > 8192) return std::nullopt;
  std::string standard;
  standard.reserve(text.size() + 3);
  for (char c : text) {
    if (c == '-') {
      standard += '+';
    } else if (c == '_') {
      standard += '/';
    } else if (std::isalnum(static_cast<unsigned char>(c))) {
      standard += c;
    } else if (c != '=') {
      return std::nullopt;
    }
  }
  if (standard.size() % 4 == 1) return std::nullopt;
  std::size_t padding = 0;
  while (standard.size() % 4 != 0) {
    standard += '=';
    ++padding;
  }
  std::vector<unsigned char> out(standard.size() / 4 * 3 + 1);
  const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(standard.data()),
                                static_cast<int>(standard.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding as zero bytes.
  return std::string(reinterpret_cast<const char*>(out.data()), static_cast<std::size_t>(n) - padding);
}

bool is_verstat_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-'; }

}  // namespace

std::string_view to_string(Attestation a) {
  switch (a) {
    case Attestation::A: return "A";
    case Attestation::B: return "B";
    case Attestation::C: return "C";
    case Attestation::none: return "none";
  }
  return "none";
}

std::optional<Attestation> parse_attestation(std::string_view text) {
  if (iequals(text, "A")) return Attestation::A;
  if (iequals(text, "B")) return Attestation::B;
  if (iequals(text, "C")) return Attestation::C;
  if (iequals(text, "none")) return Attestation::none;
  return std::nullopt;
}

Attestation passport_attestation(std::string_view header) {
  // The compact JWS is everything before the first ';' (RFC 8224 4.1).
  header = trim(header.substr(0, header.find(';')));
  const auto first = header.find('.');
  if (first == std::string_view::npos) return Attestation::none;
  const auto second = header.find('.', first + 1);
  if (second == std::string_view::npos) return Attestation::none;
  auto payload = base64url_decode(header.substr(first + 1, second - first - 1));
  if (!payload) return Attestation::none;
  auto claims = nlohmann::json::parse(*payload, nullptr, false);
  if (claims.is_discarded() || !claims.is_object()) return Attestation::none;
  auto attest = claims.find("attest");
  if (attest == claims.end() || !attest->is_string()) return Attestation::none;
  auto level = parse_attestation(attest->get_ref<const std::string&>());
  return level && *level != Attestation::none ? *level : Attestation::none;
}

std::string verstat(std::string_view value) {
  constexpr std::string_view kName = "verstat=";
  for (std::size_t i = 0; i + kName.size() <= value.size(); ++i) {
    if (!iequals(value.substr(i, kName.size()), kName)) continue;
    std::size_t end = i + kName.size();
    while (end < value.size() && is_verstat_char(value[end]) && end - i - kName.size() < 64) ++end;
    return std::string(value.substr(i + kName.size(), end - i - kName.size()));
  }
  return {};
}

std::string uri_user(std::string_view value) {
  for (std::string_view scheme : {"sips:", "sip:", "tel:"}) {
    for (std::size_t i = 0; i + scheme.size() <= value.size(); ++i) {
      if (!iequals(value.substr(i, scheme.size()), scheme)) continue;
      std::string_view rest = value.substr(i + scheme.size());
      const auto stop = rest.find_first_of(">, \t");
      rest = rest.substr(0, stop);
      if (scheme != "tel:") {
        const auto at = rest.find('@');
        if (at == std::string_view::npos) return {};  // no user part
        rest = rest.substr(0, at);
      }
      return std::string(rest.substr(0, rest.find(';')));
    }
  }
  return {};
}

std::optional<CallerNumber> parse_caller_number(std::string_view user) {
  user = user.substr(0, user.find(';'));
  if (!user.empty() && user.front() == '+') user.remove_prefix(1);
  if (user.empty() || user.size() > 15) return std::nullopt;
  CallerNumber n;
  for (char c : user) {
    if (c < '0' || c > '9') return std::nullopt;
    n.digits = n.digits * 10 + static_cast<std::uint64_t>(c - '0');
  }
  n.length = static_cast<std::uint8_t>(user.size());
  return n;
}

Caller identify_caller(const CallerFacts& f) {
  Caller caller;
  if (f.trust_asserted_identity && f.asserted_identity) {
    caller.number = uri_user(*f.asserted_identity);
    caller.from_asserted_identity = true;
    caller.usable = parse_caller_number(caller.number);
    return caller;
  }
  caller.number = std::string(f.from_user.substr(0, f.from_user.find(';')));
  if (!f.privacy_id) caller.usable = parse_caller_number(caller.number);
  return caller;
}

}  // namespace sipgw::auth
