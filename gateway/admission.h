// Call admission: may this INVITE enter, and for which publisher, number and
// campaign? Plain C++ over the provisioning snapshot (no Sofia), so every
// rule is unit-tested without a network. The SIP layer turns the decision
// into a response. The steps, in order: draining, Max-Forwards, domain,
// source address or digest, publisher, E.164, number, campaign, the
// publisher's concurrency cap.
#pragma once

#include "auth/cidr.h"
#include "auth/nonce.h"
#include "routing/provisioning.h"

#include <cstdint>
#include <functional>
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
  std::string uri;          // normalized as Sofia prints a Request-URI, to compare with it
  std::string uri_as_sent;  // exactly as the client wrote it: what its hash covers
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
  std::optional<unsigned long> max_forwards;  // absent: 70
};

// Why an INVITE was refused: a bounded label for logs and metrics.
enum class RejectReason {
  draining,
  too_many_hops,
  unknown_domain,
  ip_not_allowed,
  bad_credentials,
  publisher_disabled,
  not_e164,
  unknown_number,
  number_disabled,
  number_restricted,
  publisher_at_cap,
};
std::string_view to_string(RejectReason reason);
// Counted in sipgw_auth_failures_total.
bool is_auth_failure(RejectReason reason);

// What admission needs to know about the gateway itself.
struct Door {
  bool draining = false;
  std::int64_t retry_after_seconds = 0;  // for the 503 while draining
  // Calls the publisher has in progress now; empty: no cap is checked.
  std::function<std::int64_t(const std::string& publisher_id)> publisher_calls;
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
  RejectReason reason;
  std::string detail{};  // free text for the log only
  std::optional<std::int64_t> retry_after{};  // seconds, for a Retry-After header
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
               std::int64_t now_seconds, const Door& door = {});

// The Proxy-Authenticate header values for a challenge, one per algorithm
// in the domain's order.
std::vector<std::string> challenge_headers(const Challenge& challenge, DigestState& digest, std::int64_t now_seconds);

}  // namespace sipgw::gateway
