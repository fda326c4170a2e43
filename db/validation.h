// What sipgwctl accepts, written once: every rule an admin's input must
// pass before it reaches the database, each failing with a one-line reason
// (AdminError::Kind::invalid). Unit-tested in tests/db/validation_test.cpp.
#pragma once

#include "db/admin.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace sipgw::db {

AdminError invalid(std::string message);

// Ids become SIP header values (AFID) and CLI arguments: 1 to 128
// printable characters, no spaces or brackets. what: "publisher", ...
AdminResult<void> check_id(std::string_view what, std::string_view id);
// Free text (names, notes): no control characters.
AdminResult<void> check_text(std::string_view what, std::string_view text);
// A domain, from-domain or similar host: letters, digits, - . : [ ].
AdminResult<void> check_host(std::string_view what, std::string_view host);
// A digest realm: not empty, no quote, no control character.
AdminResult<void> check_realm(std::string_view realm);
// A publisher's digest username: no quote, colon (HA1 = H(user:realm:pw))
// or control character.
AdminResult<void> check_inbound_user(std::string_view username);
// A username sipgw sends to a buyer or the trunk: any printable character,
// ':' included (sipgw computes the digest itself), except '"' and '\'.
AdminResult<void> check_outbound_user(std::string_view username);
// Any password: not empty, no control character.
AdminResult<void> check_password(std::string_view password);
// lo <= value <= hi; the message says "what must be lo to hi unit".
AdminResult<void> check_range(std::string_view what, std::int64_t value, std::int64_t lo, std::int64_t hi,
                              std::string_view unit = "");
// A cap being set must not be negative.
AdminResult<void> check_cap(std::string_view what, const CapChange& cap);

std::string lower(std::string text);

}  // namespace sipgw::db
