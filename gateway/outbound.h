// What the outbound INVITE to a buyer says: Request-URI, From, To, the
// standard headers and the buyer's own headers with [tokens] expanded, and
// the credentials to answer the buyer's (or trunk's) challenge with.
// Plain C++ (no Sofia): the exact header values are unit-tested.
#pragma once

#include "routing/provisioning.h"
#include "routing/tokens.h"

#include <expected>
#include <functional>
#include <optional>
#include <string>

namespace sipgw::gateway {

struct OutboundCredentials {
  std::string username;
  std::string password;
};

struct OutboundInvite {
  std::string request_uri;
  std::string from;          // header value, e.g. "<sip:+15551230000@gw.example.com>"
  std::string to;            // header value
  std::string extra_headers;  // "Name: value\r\n..." without the final CRLF
  std::optional<OutboundCredentials> credentials;
};

// caller: the inbound From user (the caller's number), already validated as
// safe for a URI user part by the caller of this function.
// from_host: the host (or host:port) for From when no trunk From domain
// applies, given the Request-URI: the address of the stack the INVITE
// leaves by, which depends on the target's address family.
// Fails (with a reason for the log) when a PSTN target has no trunk.
using FromHost = std::function<std::string(const std::string& request_uri)>;
std::expected<OutboundInvite, std::string> build_outbound_invite(const routing::Snapshot& snapshot,
                                                                 const routing::Buyer& buyer,
                                                                 const routing::CallFacts& facts,
                                                                 const FromHost& from_host);
// The same with one From host whatever the target.
std::expected<OutboundInvite, std::string> build_outbound_invite(const routing::Snapshot& snapshot,
                                                                 const routing::Buyer& buyer,
                                                                 const routing::CallFacts& facts,
                                                                 const std::string& from_host);

// About how many bytes the INVITE carrying `request` and a body of
// body_bytes will be on the wire: its own parts plus what the stack adds
// (Via, Call-ID, CSeq, Contact, Max-Forwards, Supported, Allow, session
// timer headers), within a few dozen bytes.
std::size_t estimated_invite_size(const OutboundInvite& request, std::size_t body_bytes);
// RFC 3261 18.1.1: above this a request over UDP risks IP fragmentation
// (and sipgw keeps it on UDP: see NTATAG_UDP_MTU in sip_pump.cpp).
inline constexpr std::size_t kUdpSafeSize = 1300;
// The request goes over UDP (no ;transport=tcp in its Request-URI).
bool over_udp(const OutboundInvite& request);

// Random identifiers for a new call.
std::string new_call_uuid();     // RFC 4122 version 4, lower case
std::string new_postback_key();  // 128 random bits as 32 hex characters
std::string random_hex(std::size_t bytes);  // e.g. a digest cnonce

}  // namespace sipgw::gateway
