// Buyer targets and trunk proxies as sipgwctl accepts them, and the PSTN
// Request-URI built from them: a PSTN target through a valid trunk gives a
// sip: URI with the number as its user part and nothing else before '@'.
#include "auth/e164.h"
#include "fuzz_input.h"
#include "routing/headers.h"
#include "routing/target.h"

#include <cctype>

using namespace sipgw;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto f = fuzz::fields(data, size, 3);
  auto kind = routing::classify_target(f[0]);
  if (kind && *kind == routing::TargetKind::pstn) fuzz::require(auth::is_e164(f[0]), "a PSTN target is E.164", f[0]);
  if (kind && *kind == routing::TargetKind::sip_uri) {
    std::string scheme = f[0].substr(0, f[0].find(':') + 1);
    for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    fuzz::require(scheme == "sip:", "a SIP target is a sip: URI (any case; no TLS yet)", f[0]);
    fuzz::require(!fuzz::has_control(f[0], false), "a SIP target has no control character", f[0]);
  }
  if (routing::validate_trunk_proxy(f[1]) && auth::is_e164(f[0])) {
    const std::string uri = routing::pstn_request_uri(f[0], f[1]);
    const auto colon = uri.find(':');  // the trunk's scheme, as written
    fuzz::require(colon != std::string::npos && uri.compare(colon + 1, f[0].size() + 1, f[0] + "@") == 0,
                  "the PSTN Request-URI carries the number as its user", uri);
    fuzz::require(!fuzz::has_control(uri, false), "the PSTN Request-URI has no control character", uri);
  }
  if (auto header = routing::parse_header_template(f[2])) {
    fuzz::require(routing::is_sip_token(header->name), "a buyer header's name is a SIP token", header->name);
    fuzz::require(!fuzz::has_control(header->value, true), "a buyer header's value has no control character",
                  header->value);
  }
  return 0;
}
