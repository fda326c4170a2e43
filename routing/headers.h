// Buyer header rules: what a configured "Name: value" may contain, so that
// nothing provisioned can break or inject into the outbound INVITE.
#pragma once

#include <expected>
#include <string>
#include <string_view>

namespace sipgw::routing {

struct HeaderTemplate {
  std::string name;
  std::string value;  // may hold [tokens], expanded per call
};

// RFC 3261 token: alphanumerics and -.!%*_+`'~ ; never empty.
bool is_sip_token(std::string_view text);
// No control characters (CR, LF, NUL, DEL ...); horizontal tab is allowed.
bool is_safe_header_value(std::string_view text);
// Headers the B2BUA itself owns (Via, From, Call-ID, ... and compact forms):
// a buyer header of that name would corrupt the dialog.
bool is_reserved_header_name(std::string_view name);

// Parses "Name: value" (value trimmed) and applies the three rules above;
// every [token] in the value must be a known one (routing/tokens.h).
std::expected<HeaderTemplate, std::string> parse_header_template(std::string_view line);

}  // namespace sipgw::routing
