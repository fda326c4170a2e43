#include "routing/time_zone.h"

#include <date/tz.h>

#include <exception>

namespace sipgw::routing {

std::expected<const date::time_zone*, std::string> find_time_zone(std::string_view name) {
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    // date reports an unknown zone by throwing; keep that inside this module.
    return std::unexpected("unknown time zone '" + std::string(name) + "' (use an IANA name such as America/New_York)");
  }
}

}  // namespace sipgw::routing
