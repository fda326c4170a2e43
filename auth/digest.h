// SIP digest authentication arithmetic (RFC 2617 / RFC 7616 / RFC 8760).
//
// Only the hashing lives here: parsing Authorization headers is the SIP
// stack's job (gateway/). Stored secrets are HA1 values, so the daemon never
// needs a password to verify a response.
#pragma once

#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sipgw::auth {

enum class DigestAlgorithm { md5, sha256 };

// "MD5" or "SHA-256": the spelling used on the wire and in the database.
std::string_view to_string(DigestAlgorithm algorithm);

// Case-insensitive; accepts "MD5" and "SHA-256". Anything else is nullopt.
std::optional<DigestAlgorithm> parse_digest_algorithm(std::string_view text);

// Parses a domain's challenge order, e.g. "MD5,SHA-256". Refuses empty
// lists, unknown names and repeats, with the reason as the error.
std::expected<std::vector<DigestAlgorithm>, std::string> parse_algorithm_list(std::string_view text);
std::string format_algorithm_list(const std::vector<DigestAlgorithm>& algorithms);

// Lower-case hex digest of data.
std::string hex_hash(DigestAlgorithm algorithm, std::string_view data);

// H(username:realm:password), lower-case hex.
std::string ha1(DigestAlgorithm algorithm, std::string_view username, std::string_view realm,
                std::string_view password);

// The fields of an Authorization header that enter the response hash.
struct DigestAnswer {
  std::string_view method;
  std::string_view uri;
  std::string_view nonce;
  std::string_view nc;      // 8 hex digits; empty when qop is absent
  std::string_view cnonce;  // empty when qop is absent
  std::string_view qop;     // "auth" or empty (RFC 2069 compatibility)
};

// The expected `response=` value for a stored HA1.
std::string digest_response(DigestAlgorithm algorithm, std::string_view ha1_hex, const DigestAnswer& answer);

// Compares secrets without leaking the position of the first difference.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace sipgw::auth
