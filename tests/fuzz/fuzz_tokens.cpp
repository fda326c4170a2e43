// [token] expansion and the text sipgw takes from the wire. The fields are
// a template and the publisher-controlled values (caller, sub id): however
// hostile, a header value never gains a control character (no CR/LF
// injection), a URI user part never gains a delimiter, and text from the
// wire is valid UTF-8 without control characters within its bound.
#include "fuzz_input.h"
#include "routing/tokens.h"

using namespace sipgw;

namespace {

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto f = fuzz::fields(data, size, 3);
  routing::CallFacts facts{"uuid", "key", "pub", f[1], "camp", "buyer", "+18882223333", f[2]};

  const std::string header = routing::expand_tokens(f[0], facts, routing::TokenContext::header_value);
  if (!fuzz::has_control(f[0], true)) {
    fuzz::require(!fuzz::has_control(header, true), "an expanded header value has no control character", header);
  }
  fuzz::require(!fuzz::has_control(routing::sanitize_header_value(f[0]), true), "a sanitized value has no control character");

  // Only the values are escaped in a URI; a template without delimiters
  // stays without them.
  const std::string uri = routing::expand_tokens("sip:[caller_number]-[sub_id]@buyer.example.com", facts,
                                                 routing::TokenContext::uri);
  fuzz::require(uri.find('@') == uri.rfind('@') && uri.find_first_of(" ;?>\r\n\"<", 0) == std::string::npos &&
                    uri.find(':', 4) == std::string::npos,
                "a token in a URI adds no delimiter", uri);
  const std::string escaped = routing::escape_uri_user(f[1]);
  fuzz::require(escaped.find_first_of("@:;?> \r\n") == std::string::npos, "an escaped user part has no delimiter", escaped);

  for (std::size_t bound : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{128}}) {
    const std::string wire = routing::text_from_wire(f[0], bound);
    fuzz::require(wire.size() <= bound, "text from the wire stays within its bound", wire);
    fuzz::require(valid_utf8(wire), "text from the wire is valid UTF-8", wire);
    for (std::size_t i = 0; i < wire.size(); ++i) {
      const auto c = static_cast<unsigned char>(wire[i]);
      fuzz::require(c >= 0x20 && c != 0x7f, "text from the wire has no C0 or DEL", wire);
      // C1 controls are U+0080..U+009F: C2 80..C2 9F in UTF-8.
      fuzz::require(!(c == 0xc2 && i + 1 < wire.size() && static_cast<unsigned char>(wire[i + 1]) < 0xa0),
                    "text from the wire has no C1 control", wire);
    }
  }
  return 0;
}
