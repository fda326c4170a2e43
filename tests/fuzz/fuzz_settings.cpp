// sipgwctl setting set KEY VALUE: any key and value is either refused with
// a reason and changes nothing, or stored so that the printed value, set
// again, gives the same settings.
#include "fuzz_input.h"
#include "routing/settings.h"

using namespace sipgw;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto f = fuzz::fields(data, size, 2);
  routing::Settings settings;
  const std::string before = routing::setting_value(settings, f[0]);
  auto applied = routing::apply_setting(settings, f[0], f[1]);
  if (!applied) {
    fuzz::require(!applied.error().empty(), "a refused setting says why");
    fuzz::require(routing::setting_value(settings, f[0]) == before, "a refused setting changes nothing", f[0]);
    return 0;
  }
  const std::string printed = routing::setting_value(settings, f[0]);
  routing::Settings again;
  auto reapplied = routing::apply_setting(again, f[0], printed);
  fuzz::require(reapplied.has_value(), "a stored setting's printed value is accepted", printed);
  fuzz::require(routing::setting_value(again, f[0]) == printed, "a stored setting prints the same after a round trip",
                printed);
  return 0;
}
