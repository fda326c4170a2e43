#include "auth/e164.h"

namespace sipgw::auth {

bool is_e164(std::string_view text) {
  if (text.size() < 9 || text.size() > 16 || text[0] != '+' || text[1] == '0') return false;
  for (char c : text.substr(1)) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace sipgw::auth
