#include "auth/caller_identity.h"

#include "auth/text.h"

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <cctype>

namespace sipgw::auth {

namespace {

// A URI user part as the wire has it ("%2B15551230000") to its characters
// ("+15551230000", RFC 3261 19.1.2): a user escapes what it likes, and a
// number kept escaped would be escaped again on the buyer leg. A '%' not
// followed by two hex digits stays as it is.
std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  const auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex(text[i + 1]) >= 0 && hex(text[i + 2]) >= 0) {
      out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// base64url (RFC 4648 section 5, padding optional) to bytes; nullopt when
// it is not base64url.
std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.empty() || text.size() > 8192) return std::nullopt;
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;
  // The standard alphabet in place of the URL one, padded, for OpenSSL.
  std::string standard((text.size() + 3) / 4 * 4, '=');
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (plain) {
      standard[i] = c;
    } else if (c == '-') {
      standard[i] = '+';
    } else if (c == '_') {
      standard[i] = '/';
    } else {
      return std::nullopt;
    }
  }
  const std::size_t padding = standard.size() - text.size();
  std::string out(standard.size() / 4 * 3 + 1, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(standard.data()), static_cast<int>(standard.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding as zero bytes.
  out.resize(static_cast<std::size_t>(n) - padding);
  return out;
}

bool is_verstat_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-'; }

// Reads the top-level "attest" string of a JSON object without building a
// document (a DOM parse cost 3 us per INVITE; this is a third of it): a
// real JSON parser all the same, so a nested or quoted "attest" is never
// taken for the claim.
class AttestClaim : public nlohmann::json::json_sax_t {
 public:
  std::optional<std::string> value;

  bool null() override { return scalar(); }
  bool boolean(bool) override { return scalar(); }
  bool number_integer(number_integer_t) override { return scalar(); }
  bool number_unsigned(number_unsigned_t) override { return scalar(); }
  bool number_float(number_float_t, const string_t&) override { return scalar(); }
  bool string(string_t& text) override {
    if (depth_ == 1 && at_attest_ && !value) value = text;
    return scalar();
  }
  bool binary(binary_t&) override { return scalar(); }
  bool start_object(std::size_t) override { return open(); }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(); }
  bool end_array() override { return close(); }
  bool key(string_t& name) override {
    at_attest_ = depth_ == 1 && name == "attest";
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

 private:
  bool scalar() {
    at_attest_ = false;
    return depth_ > 0;  // a bare scalar is no claims object
  }
  bool open() {
    at_attest_ = false;
    return ++depth_ < 16;
  }
  bool close() {
    --depth_;
    return true;
  }
  int depth_ = 0;
  bool at_attest_ = false;
};

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
  AttestClaim claim;
  const char* json = payload->data();
  if (!nlohmann::json::sax_parse(json, json + payload->size(), &claim, nlohmann::json::input_format_t::json, false) ||
      !claim.value) {
    return Attestation::none;
  }
  auto level = parse_attestation(*claim.value);
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

std::string display_name(std::string_view value) {
  const auto angle = value.find('<');
  if (angle != std::string_view::npos) value = value.substr(0, angle);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (angle == std::string_view::npos && value.find(':') != std::string_view::npos) return {};  // a bare URI
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '"') continue;
    if (value[i] == '\\' && i + 1 < value.size()) ++i;  // quoted-pair: the character it escapes
    out += value[i];
  }
  return out;
}

namespace {
// A decoded user part as a number: its URI parameters were cut off before
// decoding, so a ';' now is an escaped one ("%3B"), part of the user, and
// the user is no number.
std::optional<CallerNumber> decoded_number(const std::string& user) {
  if (user.find(';') != std::string::npos) return std::nullopt;
  return parse_caller_number(user);
}
}  // namespace

Caller identify_caller(const CallerFacts& f) {
  Caller caller;
  if (f.trust_asserted_identity && f.asserted_identity) {
    caller.number = percent_decode(uri_user(*f.asserted_identity));
    caller.name = display_name(*f.asserted_identity);
    caller.from_asserted_identity = true;
    caller.usable = decoded_number(caller.number);
    return caller;
  }
  caller.number = percent_decode(f.from_user.substr(0, f.from_user.find(';')));
  caller.name = display_name(f.from_display);
  if (!f.privacy_id) caller.usable = decoded_number(caller.number);
  return caller;
}

}  // namespace sipgw::auth
