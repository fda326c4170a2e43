// E.164 numbers (the dialed number, PSTN targets): what is accepted is a
// '+', a non-zero digit and digits only, 9 to 16 characters in all.
#include "auth/e164.h"
#include "fuzz_input.h"

using namespace sipgw;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = fuzz::text(data, size);
  if (!auth::is_e164(input)) return 0;
  fuzz::require(input.size() >= 9 && input.size() <= 16 && input[0] == '+' && input[1] != '0',
                "an E.164 number is + and 8 to 15 digits, not starting with 0", input);
  for (char c : input.substr(1)) fuzz::require(c >= '0' && c <= '9', "an E.164 number has digits only", input);
  return 0;
}
