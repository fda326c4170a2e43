#include "routing/tokens.h"

#include <cctype>
#include <cstring>

namespace sipgw::routing {

namespace {

const std::string* lookup(std::string_view name, const CallFacts& f) {
  if (name == "call_uuid") return &f.call_uuid;
  if (name == "postback_key") return &f.postback_key;
  if (name == "publisher_id") return &f.publisher_id;
  if (name == "sub_id") return &f.sub_id;
  if (name == "campaign_id") return &f.campaign_id;
  if (name == "buyer_id") return &f.buyer_id;
  if (name == "number") return &f.number;
  if (name == "caller_number") return &f.caller_number;
  return nullptr;
}

}  // namespace

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

std::string escape_uri_user(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || std::strchr("-_.!~*'()+", c) != nullptr) {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    }
  }
  return out;
}

std::string expand_tokens(std::string_view text, const CallFacts& facts, TokenContext context) {
  std::string out;
  out.reserve(text.size() + 32);
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto open = text.find('[', pos);
    if (open == std::string_view::npos) break;
    auto close = text.find(']', open + 1);
    if (close == std::string_view::npos) break;
    out.append(text.substr(pos, open - pos));
    const std::string* value = lookup(text.substr(open + 1, close - open - 1), facts);
    if (value == nullptr) {
      out.append(text.substr(open, close - open + 1));
    } else if (context == TokenContext::uri) {
      out += escape_uri_user(*value);
    } else {
      out += sanitize_header_value(*value);
    }
    pos = close + 1;
  }
  out.append(text.substr(pos));
  // The template itself was validated when provisioned; sanitizing the whole
  // result as well keeps the guarantee local to this function.
  return context == TokenContext::header_value ? sanitize_header_value(out) : out;
}

}  // namespace sipgw::routing
