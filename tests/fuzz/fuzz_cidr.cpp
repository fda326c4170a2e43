// CIDR and IP parsing (allowlists, bans, front ends, the forwarded source
// header a front end names): whatever parses prints back to itself.
#include "auth/cidr.h"
#include "fuzz_input.h"

using namespace sipgw;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = fuzz::text(data, size);
  if (auto ip = auth::parse_ip(input)) {
    const std::string printed = auth::to_string(*ip);
    auto again = auth::parse_ip(printed);
    fuzz::require(again && *again == *ip, "an IP prints to text that parses to the same IP", printed);
  }
  if (auto cidr = auth::parse_cidr(input)) {
    const std::string printed = auth::to_string(*cidr);
    auto again = auth::parse_cidr(printed);
    fuzz::require(again && again->network == cidr->network && again->length == cidr->length,
                  "a prefix prints to text that parses to the same prefix", printed);
    fuzz::require(auth::contains(*cidr, cidr->network), "a prefix contains its own network", printed);
  }
  return 0;
}
