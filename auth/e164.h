// E.164 numbers as sipgw accepts them: "+", then 8 to 15 digits, the first
// not 0 (country codes never start with 0). Shorter strings are extensions
// or short codes, which sipgw does not route.
#pragma once

#include <string_view>

namespace sipgw::auth {

bool is_e164(std::string_view text);

}  // namespace sipgw::auth
