// sipgwctl's value parsers and formats: what a flag's text means, and how
// a stored time prints. Plain functions, unit-tested
// (tests/db/ctl_values_test.cpp).
#pragma once

#include "db/admin.h"

#include <cstdint>
#include <expected>
#include <string>

namespace sipgw::db {

// "none" clears a cap; "" leaves it unchanged; otherwise a whole number
// (negatives are refused by Admin). flag names the option in the error.
std::expected<CapChange, std::string> parse_cap(const std::string& flag, const std::string& text);

// Unix seconds, or a UTC date/time "YYYY-MM-DD[THH:MM[:SS]][Z]", as Unix ms.
std::expected<std::int64_t, std::string> parse_time_ms(const std::string& flag, const std::string& text);

// Unix ms as "2026-06-01T12:00:00Z".
std::string format_time(std::int64_t ms);

}  // namespace sipgw::db
