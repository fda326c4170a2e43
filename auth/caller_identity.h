// Who is calling, as the INVITE says it: the caller's number (From, or
// P-Asserted-Identity when the publisher is trusted to assert it), whether
// the call is anonymous, and what STIR/SHAKEN says of it. Plain text in,
// plain values out; nothing here checks a signature or a certificate: the
// PASSporT (RFC 8225) in the Identity header (RFC 8224) is decoded only,
// so its attestation is as good as the publisher that sent it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sipgw::auth {

// SHAKEN attestation levels (ATIS-1000074), weakest first so that
// comparisons read naturally: none < C < B < A.
enum class Attestation { none, C, B, A };
std::string_view to_string(Attestation attestation);  // "A", "B", "C" or "none"
std::optional<Attestation> parse_attestation(std::string_view text);  // A|B|C|none, any case

// The "attest" claim of the PASSporT in an Identity header value
// ("<header>.<payload>.<signature>;info=<...>;alg=ES256;ppt=shaken"):
// none when the header is missing, malformed or has no such claim.
Attestation passport_attestation(std::string_view identity_header);

// The carrier's verification result (ATIS-1000074 "verstat", e.g.
// TN-Validation-Passed) named anywhere in a From or P-Asserted-Identity
// value; empty when absent. At most 64 characters of [A-Za-z0-9-].
std::string verstat(std::string_view header_value);

// The user part of the first sip:, sips: or tel: URI in a name-addr or
// addr-spec value ("\"Bob\" <sip:+1555@host;user=phone>" -> "+1555"), up to
// its first ';' (URI user parameters such as verstat are not the number).
std::string uri_user(std::string_view header_value);

// A caller's number as a block list and the repeat-caller memory key it:
// the digits of "+DIGITS" or "DIGITS", 1 to 15 of them. Anything else
// (anonymous, restricted, letters, empty) is not a usable number.
struct CallerNumber {
  std::uint64_t digits = 0;  // the number's value
  std::uint8_t length = 0;   // how many digits (leading zeros count)
  bool operator==(const CallerNumber&) const = default;
};
std::optional<CallerNumber> parse_caller_number(std::string_view user);
// A key unique to (digits, length): value * 16 + length.
inline std::uint64_t key_of(const CallerNumber& n) { return n.digits * 16 + n.length; }

// The display name of a name-addr ("\"Bob Smith\" <sip:...>" -> Bob Smith,
// 'Bob <sip:...>' -> Bob), or of a display-name alone as Sofia gives it;
// quotes and backslash escapes removed. Empty when there is none.
std::string display_name(std::string_view name_addr);

struct CallerFacts {
  std::string_view from_user;                        // From's user part, raw
  std::optional<std::string_view> asserted_identity;  // the P-Asserted-Identity value, raw
  bool trust_asserted_identity = false;              // the publisher may assert it
  bool privacy_id = false;                           // Privacy: id (or header)
  std::string_view from_display{};                   // From's display name, raw
};

struct Caller {
  std::string number;                  // what the CDR and [caller_number] get: the user part, %XX decoded
                                       // (not yet cleaned of control characters)
  std::optional<CallerNumber> usable;  // none: anonymous
  bool from_asserted_identity = false;
  std::string name;                    // the display name of the same header, unquoted (not yet cleaned)
};
// The precedence: a trusted publisher's P-Asserted-Identity, else From.
// Anonymous: no usable number there, or Privacy: id without an identity
// sipgw may use.
Caller identify_caller(const CallerFacts& facts);

}  // namespace sipgw::auth
