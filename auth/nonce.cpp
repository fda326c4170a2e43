#include "auth/nonce.h"

#include "auth/digest.h"
#include "auth/text.h"

#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <charconv>
#include <cstdio>
#include <stdexcept>

namespace sipgw::auth {

namespace {

constexpr std::size_t kPayloadHex = 32;  // 16 hex time + 16 hex random
constexpr std::size_t kMacHex = 32;      // first 16 bytes of HMAC-SHA256

}  // namespace

NonceIssuer NonceIssuer::with_random_secret() {
  Secret secret{};
  if (RAND_bytes(secret.data(), static_cast<int>(secret.size())) != 1) {
    // Without randomness the nonces would be forgeable; refuse to start.
    throw std::runtime_error("RAND_bytes failed: no randomness for the nonce secret");
  }
  return NonceIssuer(secret);
}

std::optional<NonceIssuer::Secret> NonceIssuer::secret_from_hex(std::string_view hex) {
  Secret secret{};
  if (hex.size() != secret.size() * 2) return std::nullopt;
  for (std::size_t i = 0; i < secret.size(); ++i) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(hex.data() + 2 * i, hex.data() + 2 * i + 2, value, 16);
    if (ec != std::errc{} || end != hex.data() + 2 * i + 2) return std::nullopt;
    secret[i] = static_cast<unsigned char>(value);
  }
  return secret;
}

void NonceIssuer::use_secrets(const Secret& current, const std::optional<Secret>& previous) {
  secret_ = current;
  previous_ = previous;
}

std::string NonceIssuer::mac(const Secret& secret, std::string_view payload_hex, std::string_view realm) {
  std::string input;
  input.append(payload_hex).append(":").append(realm);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest, &length);
  return to_hex(digest, kMacHex / 2);
}

std::string NonceIssuer::issue(std::string_view realm, std::int64_t now_seconds) const {
  unsigned char payload[16];
  auto t = static_cast<std::uint64_t>(now_seconds);
  for (int i = 0; i < 8; ++i) payload[i] = static_cast<unsigned char>(t >> (8 * (7 - i)));
  RAND_bytes(payload + 8, 8);
  std::string nonce = to_hex(payload, sizeof payload);
  nonce += mac(secret_, nonce, realm);
  return nonce;
}

NonceVerdict NonceIssuer::verify(std::string_view nonce, std::string_view realm, std::int64_t now_seconds,
                                 std::int64_t lifetime_seconds) const {
  if (nonce.size() != kPayloadHex + kMacHex) return NonceVerdict::invalid;
  auto payload = nonce.substr(0, kPayloadHex);
  const auto signature = nonce.substr(kPayloadHex);
  const bool ours = constant_time_equal(mac(secret_, payload, realm), signature) ||
                    (previous_ && constant_time_equal(mac(*previous_, payload, realm), signature));
  if (!ours) return NonceVerdict::invalid;
  std::uint64_t issued = 0;
  auto [end, ec] = std::from_chars(payload.data(), payload.data() + 16, issued, 16);
  if (ec != std::errc{} || end != payload.data() + 16) return NonceVerdict::invalid;
  auto age = now_seconds - static_cast<std::int64_t>(issued);
  if (age < -5) return NonceVerdict::invalid;  // from the future: not ours
  return age > lifetime_seconds ? NonceVerdict::stale : NonceVerdict::valid;
}

bool NonceCountTracker::accept(std::string_view nonce, std::uint32_t nc, std::int64_t now_seconds,
                               std::int64_t lifetime_seconds) {
  prune(now_seconds);
  auto [it, inserted] = seen_.try_emplace(std::string(nonce), Seen{nc, now_seconds + lifetime_seconds});
  if (inserted) return true;
  if (nc <= it->second.highest_nc) return false;
  it->second.highest_nc = nc;
  return true;
}

void NonceCountTracker::spend(std::string_view nonce, std::int64_t now_seconds, std::int64_t lifetime_seconds) {
  prune(now_seconds);
  auto [it, inserted] = seen_.try_emplace(std::string(nonce), Seen{0, now_seconds + lifetime_seconds});
  it->second.spent = true;
}

bool NonceCountTracker::spent(std::string_view nonce) const {
  auto it = seen_.find(std::string(nonce));
  return it != seen_.end() && it->second.spent;
}

void NonceCountTracker::prune(std::int64_t now_seconds) {
  if (now_seconds < next_prune_) return;
  next_prune_ = now_seconds + 10;
  std::erase_if(seen_, [now_seconds](const auto& entry) { return entry.second.expires < now_seconds; });
}

}  // namespace sipgw::auth
