// Call admission: may this INVITE enter, and for which publisher, number and
// campaign? Plain C++ over the provisioning snapshot (no Sofia), so every
// rule is unit-tested without a network. The SIP layer turns the decision
// into a response.
#pragma once

#include "auth/cidr.h"
#include "auth/nonce.h"
#include "routing/provisioning.h"

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace sipgw::gateway {

// One Proxy-Authorization header, as parsed by the SIP layer (unquoted).
struct DigestCredentials {
  std::string username;
  std::string realm;
  std::string nonce;
  std::string uri;
  std::string response;
  std::string algorithm;  // empty means MD5
  std::string qop;
  std::string nc;
  std::string cnonce;
};

struct InboundInvite {
  std::string method = "INVITE";
  std::string request_host;  // Request-URI host: picks the domain
  std::string request_user;  // the dialed number
  std::string request_uri;   // as received, for the digest uri check
  auth::IpAddress source;    // the packet's real source address
  // The publisher's address as named by a front end (settings'
  // front_end_source_header); trusted only when `source` is a front end.
  std::string forwarded_source;
  std::vector<DigestCredentials> credentials;
};

struct Admitted {
  std::string publisher_id;
  const routing::Number* number;
  const routing::Campaign* campaign;
  const routing::Domain* domain;
};

struct Challenge {
  std::string realm;
  std::vector<auth::DigestAlgorithm> algorithms;
  bool stale = false;
};

struct Rejected {
  int status;
  // Reason phrase sent to the publisher. A string literal: Sofia's
  // nua_respond keeps the pointer (it copies tags, not the phrase) and sends
  // the response later, after the caller's strings are gone.
  const char* phrase;
  std::string reason;  // bounded label for logs and metrics
  std::string detail{};  // free text for the log only
};

using Decision = std::variant<Admitted, Challenge, Rejected>;

// The per-process digest state: the nonce secret and replay memory.
// Owned by the SIP thread.
struct DigestState {
  auth::NonceIssuer issuer;
  auth::NonceCountTracker counts;
};

// The address the publisher is judged by: the packet's source, or, when the
// packet comes from a trusted front end, the address it names.
auth::IpAddress publisher_address(const routing::Snapshot& snapshot, const InboundInvite& invite);

Decision admit(const routing::Snapshot& snapshot, const InboundInvite& invite, DigestState& digest,
               std::int64_t now_seconds);

// The Proxy-Authenticate header values for a challenge, one per algorithm
// in the domain's order.
std::vector<std::string> challenge_headers(const Challenge& challenge, DigestState& digest, std::int64_t now_seconds);

}  // namespace sipgw::gateway
