// Buyer targets: where a call is sent. Either a SIP URI (sip:, dialed as
// written after token expansion) or an E.164 number, which is sent through
// the PSTN carrier trunk. sips: and transport=tls are refused until sipgw
// has a TLS transport, and so is an unknown [token].
#pragma once

#include <expected>
#include <string>
#include <string_view>

namespace sipgw::routing {

enum class TargetKind { sip_uri, pstn };

// Validates a provisioned target (tokens such as [number] are allowed inside
// a SIP URI) and says which kind it is.
std::expected<TargetKind, std::string> classify_target(std::string_view target);

// The Request-URI for a PSTN number through the trunk proxy:
// "+18885551234" and "sip:carrier.example.com:5060" give
// "sip:+18885551234@carrier.example.com:5060". Trunk URI parameters are kept.
std::string pstn_request_uri(std::string_view e164, std::string_view trunk_proxy_uri);

// Validates a trunk proxy ("sip:host[:port][;params]", no user part).
std::expected<void, std::string> validate_trunk_proxy(std::string_view uri);

}  // namespace sipgw::routing
