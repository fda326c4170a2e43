// [token] replacement in buyer targets and header values.
//
// Values come partly from the publisher (sub id, caller number), so every
// expanded value is sanitized for where it lands: no control character ever
// reaches a header, and a URI gets only URI-safe characters.
#pragma once

#include <expected>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sipgw::routing {

struct CallFacts {
  std::string call_uuid;
  std::string postback_key;
  std::string publisher_id;
  std::string sub_id;
  std::string campaign_id;
  std::string buyer_id;
  std::string number;
  std::string caller_number;
  std::string attestation{};  // A, B, C or none (the PASSporT's claim, unverified)
  std::string verstat{};    // the carrier's verification result, or empty
  // Values of the headers named in inbound.token_headers, as (name, value)
  // taken from the INVITE (already text_from_wire-clean); a listed header
  // the INVITE lacks is here with an empty value.
  std::vector<std::pair<std::string, std::string>> inbound_headers{};
  // The publisher's Identity header (RFC 8224), passed to buyers; not a token.
  std::string identity{};
  // How the caller may be shown to a buyer (gateway/outbound.h decides per
  // buyer): its display name (printable, no quotes), whether it asked for
  // privacy (Privacy: id or header), whether caller_number is a number.
  std::string caller_name{};
  bool caller_private = false;
  bool caller_known = false;
  // The instances of the outbound.pass_headers headers in the INVITE, as
  // (name, value), cleaned; passed to every buyer as they are.
  std::vector<std::pair<std::string, std::string>> passed_headers{};
};

// Where an expanded value lands: a SIP or HTTP header value, a SIP URI's
// user part, a URL component (query value or path segment: RFC 3986
// unreserved characters only), the inside of a JSON string.
enum class TokenContext { header_value, uri, url, json };

// Replaces [call_uuid] [postback_key] [publisher_id] [sub_id] [campaign_id]
// [buyer_id] [number] [caller_number] [attestation] [verstat] and
// [header:Name] for each inbound.token_headers name (any case); unknown
// [tokens] stay as written.
std::string expand_tokens(std::string_view text, const CallFacts& facts, TokenContext context);

// The same over any set of tokens: lookup returns the value of a token
// name, or nullptr when it is not one (it then stays as written).
using TokenLookup = std::function<const std::string*(std::string_view name)>;
std::string expand_tokens(std::string_view text, const TokenLookup& lookup, TokenContext context);
// The value of a CallFacts token, or nullptr.
const std::string* fact_token(std::string_view name, const CallFacts& facts);

// Every [name] in a provisioned buyer target or header value must be one of
// the tokens above (any case; [header:Name] with a SIP token for Name):
// an unknown one would be sent literally. Brackets that cannot be a token
// (an IPv6 host such as [2001:db8::1], "[ ]") are left alone. The error
// names the token and lists the known ones.
std::expected<void, std::string> check_tokens(std::string_view text);
// "[call_uuid] [postback_key] ... [header:Name]", for messages.
std::string known_tokens();

// Drops control characters (keeps tab): what header_value expansion applies.
std::string sanitize_header_value(std::string_view value);
// Text taken from a SIP message for a record, a log or a token (the caller,
// the sub id, a buyer's reason phrase): valid UTF-8 only (each byte of a
// broken sequence becomes '?'), no control characters (C0, DEL, C1), at most
// max_bytes, cut on a character boundary. Whatever reads the CDRs (JSON
// included) can then never choke on it.
std::string text_from_wire(std::string_view raw, std::size_t max_bytes);
// Percent-escapes everything but alphanumerics and -_.!~*()+' so a value
// can never end the user part or add parameters (no @ : ; ? > or space).
std::string escape_uri_user(std::string_view value);

}  // namespace sipgw::routing
