// Who is calling, from wire text: the PASSporT's attest claim, verstat, the
// caller's number, and block list entries. Fields: an Identity value, a
// From or P-Asserted-Identity value, a block entry.
#include "auth/caller_identity.h"
#include "fuzz_input.h"
#include "routing/screening.h"

using namespace sipgw;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto f = fuzz::fields(data, size, 3);
  const auto level = auth::passport_attestation(f[0]);
  fuzz::require(level == auth::Attestation::none || level == auth::Attestation::A || level == auth::Attestation::B ||
                    level == auth::Attestation::C,
                "an attestation is A, B, C or none", f[0]);

  const std::string v = auth::verstat(f[1]);
  fuzz::require(v.size() <= 64, "verstat is at most 64 characters", f[1]);
  for (char c : v) {
    fuzz::require((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-',
                  "verstat has letters, digits and '-' only", f[1]);
  }
  const auto caller = auth::identify_caller({f[1], f[1], true, false});
  if (caller.usable) {
    fuzz::require(caller.usable->length >= 1 && caller.usable->length <= 15, "a usable caller has 1 to 15 digits", f[1]);
    // The number is decoded ("%2B" is '+'): a usable one is '+' and digits.
    fuzz::require(caller.number.find_first_not_of("+0123456789") == std::string::npos,
                  "a usable caller's number is '+' and digits", f[1]);
  }

  auto entry = routing::parse_block_entry(f[2]);
  if (entry) {
    const std::string stored = entry->text();
    auto again = routing::parse_block_entry(stored);
    fuzz::require(again && again->text() == stored, "a stored block entry reads back the same", f[2]);
    routing::BlockList blocks;
    blocks.add("c", *entry);
    std::optional<auth::CallerNumber> number;
    if (entry->kind != routing::BlockEntry::Kind::anonymous) number = entry->number;
    fuzz::require(blocks.match("c", number).has_value(), "an entry blocks what it names", f[2]);
    fuzz::require(!blocks.match("other", number).has_value(), "a campaign's entry blocks no other campaign", f[2]);
  }
  return 0;
}
