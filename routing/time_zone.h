// IANA time zones (from the system tzdata, through Howard Hinnant's date
// library: GCC 12 has no std::chrono time-zone database).
#pragma once

#include <expected>
#include <string>
#include <string_view>

namespace date {
class time_zone;
}

namespace sipgw::routing {

// The zone for an IANA name such as "America/New_York", or why not.
std::expected<const date::time_zone*, std::string> find_time_zone(std::string_view name);

}  // namespace sipgw::routing
