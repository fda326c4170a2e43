// sipgw as a digest client: the Authorization value that answers a buyer's
// or carrier's 401/407 (RFC 2617, RFC 7616, RFC 8760).
//
// sipgw computes this itself instead of handing "scheme:realm:user:pass" to
// Sofia's NUTAG_AUTH, which splits on ':' and so cannot carry a colon in the
// username or the password (../shared/sofia-notes.md).
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace sipgw::auth {

// One challenge (WWW-Authenticate or Proxy-Authenticate), values unquoted.
struct DigestChallenge {
  std::string realm;
  std::string nonce;
  std::string opaque;     // echoed back when present
  std::string algorithm;  // as sent; empty means MD5
  std::string qop;        // the qop-options as sent, e.g. "auth,auth-int"; empty: RFC 2069
};

// scheme: "Digest" (any case); params: the challenge's "name=value" items as
// the SIP stack lists them (values may be quoted). Fails for another scheme
// or without realm and nonce.
std::expected<DigestChallenge, std::string> parse_digest_challenge(std::string_view scheme,
                                                                   const std::vector<std::string>& params);

struct DigestClientRequest {
  std::string_view method;  // "INVITE"
  std::string_view uri;     // the Request-URI exactly as sent
  std::string_view cnonce;  // fresh randomness from the caller
};

// The header value, e.g. `Digest username="u", realm="r", nonce="n",
// uri="sip:x@y", response="...", qop=auth, nc=00000001, cnonce="c"`.
// Supports MD5, SHA-256 and their -sess forms, qop "auth" or none. Fails
// (with the reason) for what it cannot answer: auth-int only, an unknown
// algorithm. The password never appears in the result.
std::expected<std::string, std::string> digest_authorization(const DigestChallenge& challenge,
                                                             std::string_view username, std::string_view password,
                                                             const DigestClientRequest& request);

// A quoted-string for a header parameter: quotes, backslash-escaping '"' and
// '\', control characters dropped.
std::string quote_parameter(std::string_view value);

}  // namespace sipgw::auth
