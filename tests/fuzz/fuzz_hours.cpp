// Buyer and campaign hours ("mon-fri 09:00-17:00, sat 10:00-14:00", ...):
// parsing any text ends, and parsed hours answer for every minute of the
// week without fault.
#include "fuzz_input.h"
#include "routing/hours.h"

using namespace sipgw;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto hours = routing::parse_hours(fuzz::text(data, size));
  if (!hours) {
    fuzz::require(!hours.error().empty(), "a refusal says why");
    return 0;
  }
  unsigned open = 0;
  for (unsigned day = 0; day < 7; ++day) {
    for (unsigned minute = 0; minute < 1440; minute += 7) open += hours->is_open(day, minute);
  }
  if (hours->is_always_open()) fuzz::require(open == 7 * 206, "always open is open every minute");
  return 0;
}
