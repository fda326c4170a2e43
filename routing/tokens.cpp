#include "routing/tokens.h"

#include "auth/text.h"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace sipgw::routing {

namespace {
constexpr std::string_view kFactTokens[] = {"call_uuid",   "postback_key",  "publisher_id", "sub_id",
                                            "campaign_id", "buyer_id",      "number",       "caller_number",
                                            "attestation", "verstat"};
constexpr std::string_view kHeaderToken = "header:";

bool is_token_name_char(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_header_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("-.!%*_+`'~", c) != nullptr;
}
}  // namespace

std::string known_tokens() {
  std::string out;
  for (auto name : kFactTokens) out.append("[").append(name).append("] ");
  return out + "[header:Name]";
}

std::expected<void, std::string> check_tokens(std::string_view text) {
  for (std::size_t open = text.find('['); open != std::string_view::npos; open = text.find('[', open + 1)) {
    const auto close = text.find(']', open + 1);
    if (close == std::string_view::npos) break;
    const std::string_view inside = text.substr(open + 1, close - open - 1);
    std::string lower(inside);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower.starts_with(kHeaderToken)) {
      const std::string_view header = inside.substr(kHeaderToken.size());
      if (!header.empty() && std::all_of(header.begin(), header.end(), is_header_name_char)) continue;
      return std::unexpected("[" + std::string(inside) + "] names no header (use [header:Name])");
    }
    // Only a bare word can be a token; anything else is not one.
    if (inside.empty() || !std::all_of(inside.begin(), inside.end(), is_token_name_char)) continue;
    if (std::find(std::begin(kFactTokens), std::end(kFactTokens), lower) != std::end(kFactTokens)) continue;
    return std::unexpected("unknown token [" + std::string(inside) + "]; the tokens are " + known_tokens());
  }
  return {};
}

const std::string* fact_token(std::string_view name, const CallFacts& f) {
  if (name == "call_uuid") return &f.call_uuid;
  if (name == "postback_key") return &f.postback_key;
  if (name == "publisher_id") return &f.publisher_id;
  if (name == "sub_id") return &f.sub_id;
  if (name == "campaign_id") return &f.campaign_id;
  if (name == "buyer_id") return &f.buyer_id;
  if (name == "number") return &f.number;
  if (name == "caller_number") return &f.caller_number;
  if (name == "attestation") return &f.attestation;
  if (name == "verstat") return &f.verstat;
  constexpr std::string_view kHeader = "header:";
  if (name.substr(0, kHeader.size()) == kHeader) {
    const std::string_view header = name.substr(kHeader.size());
    for (const auto& [n, value] : f.inbound_headers) {
      if (auth::iequals(n, header)) return &value;
    }
  }
  return nullptr;
}

std::string sanitize_header_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && u != '\t') || u == 0x7f) continue;
    out += c;
  }
  return out;
}

namespace {

// Length of the valid UTF-8 sequence at s[i] (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF), 0 if there is none; its code point in cp.
std::size_t utf8_sequence(std::string_view s, std::size_t i, char32_t& cp) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  std::size_t n;
  char32_t min;
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  } else if ((b0 & 0xe0) == 0xc0) {
    n = 2, cp = b0 & 0x1f, min = 0x80;
  } else if ((b0 & 0xf0) == 0xe0) {
    n = 3, cp = b0 & 0x0f, min = 0x800;
  } else if ((b0 & 0xf8) == 0xf0) {
    n = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

}  // namespace

std::string text_from_wire(std::string_view raw, std::size_t max_bytes) {
  std::string out;
  out.reserve(std::min(raw.size(), max_bytes));
  for (std::size_t i = 0; i < raw.size();) {
    char32_t cp = 0;
    std::size_t n = utf8_sequence(raw, i, cp);
    std::string_view piece = n ? raw.substr(i, n) : std::string_view("?");
    i += n ? n : 1;
    if (n && (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))) continue;
    if (out.size() + piece.size() > max_bytes) break;
    out += piece;
  }
  return out;
}

namespace {

// Percent-escapes everything but alphanumerics and the characters in safe.
std::string percent_escape(std::string_view value, const char* safe) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || (c != '\0' && std::strchr(safe, c) != nullptr)) {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    }
  }
  return out;
}

}  // namespace

std::string escape_uri_user(std::string_view value) { return percent_escape(value, "-_.!~*'()+"); }

namespace {

// RFC 3986 unreserved characters only.
std::string escape_url_component(std::string_view value) { return percent_escape(value, "-_.~"); }

// The inside of a JSON string: quotes and backslashes escaped, control
// characters dropped (values are already valid UTF-8 from text_from_wire).
std::string escape_json(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u >= 0x20 && u != 0x7f) {
      out += c;
    }
  }
  return out;
}

std::string escaped(const std::string& value, TokenContext context) {
  switch (context) {
    case TokenContext::uri: return escape_uri_user(value);
    case TokenContext::url: return escape_url_component(value);
    case TokenContext::json: return escape_json(value);
    case TokenContext::header_value: return sanitize_header_value(value);
  }
  return sanitize_header_value(value);
}

}  // namespace

std::string expand_tokens(std::string_view text, const CallFacts& facts, TokenContext context) {
  return expand_tokens(text, [&facts](std::string_view name) { return fact_token(name, facts); }, context);
}

std::string expand_tokens(std::string_view text, const TokenLookup& lookup, TokenContext context) {
  std::string out;
  out.reserve(text.size() + 32);
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto open = text.find('[', pos);
    if (open == std::string_view::npos) break;
    auto close = text.find(']', open + 1);
    if (close == std::string_view::npos) break;
    out.append(text.substr(pos, open - pos));
    const std::string* value = lookup(text.substr(open + 1, close - open - 1));
    if (value == nullptr) {
      out.append(text.substr(open, close - open + 1));
    } else {
      out += escaped(*value, context);
    }
    pos = close + 1;
  }
  out.append(text.substr(pos));
  // The template itself was validated when provisioned; sanitizing the whole
  // result as well keeps the guarantee local to this function.
  return context == TokenContext::header_value ? sanitize_header_value(out) : out;
}

}  // namespace sipgw::routing
