// [token] replacement in buyer targets and header values.
//
// Values come partly from the publisher (sub id, caller number), so every
// expanded value is sanitized for where it lands: no control character ever
// reaches a header, and a URI gets only URI-safe characters.
#pragma once

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
};

enum class TokenContext { header_value, uri };

// Replaces [call_uuid] [postback_key] [publisher_id] [sub_id] [campaign_id]
// [buyer_id] [number] [caller_number] [attestation] [verstat] and
// [header:Name] for each inbound.token_headers name (any case); unknown
// [tokens] stay as written.
std::string expand_tokens(std::string_view text, const CallFacts& facts, TokenContext context);

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
