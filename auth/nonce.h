// Stateless digest nonces: the nonce carries its own issue time and an HMAC
// under a secret, so verifying needs no table of issued nonces. The secret
// is per process (a restart invalidates the nonces: clients get a fresh
// 407) unless the deployment provisions one that all its gateways share,
// so that an authenticated retry may land on any of them; the secret it
// replaced keeps verifying until the next rotation.
//
// Replay protection needs a little state: NonceCountTracker remembers the
// highest nonce-count seen per nonce until the nonce expires.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sipgw::auth {

enum class NonceVerdict { valid, stale, invalid };

class NonceIssuer {
 public:
  using Secret = std::array<unsigned char, 32>;

  explicit NonceIssuer(const Secret& secret) : secret_(secret) {}
  // A secret from the OS random generator.
  static NonceIssuer with_random_secret();
  // 64 hex characters (either case) as a secret, or nothing.
  static std::optional<Secret> secret_from_hex(std::string_view hex);

  // Signs new nonces with current from now on; nonces under previous (if
  // any) still verify.
  void use_secrets(const Secret& current, const std::optional<Secret>& previous);

  // 64 hex characters bound to the realm and the issue time (Unix seconds).
  std::string issue(std::string_view realm, std::int64_t now_seconds) const;
  // stale: genuine but older than lifetime (the client should retry with the
  // new nonce, RFC 7616 stale=true); invalid: forged, mangled or for another
  // realm.
  NonceVerdict verify(std::string_view nonce, std::string_view realm, std::int64_t now_seconds,
                      std::int64_t lifetime_seconds) const;

 private:
  static std::string mac(const Secret& secret, std::string_view payload_hex, std::string_view realm);
  Secret secret_;
  std::optional<Secret> previous_;
};

// Not thread-safe: owned by the SIP thread.
class NonceCountTracker {
 public:
  // True when nc is higher than every count seen before for this nonce.
  bool accept(std::string_view nonce, std::uint32_t nc, std::int64_t now_seconds, std::int64_t lifetime_seconds);
  // A wrong answer was given with this nonce: it buys no second guess.
  void spend(std::string_view nonce, std::int64_t now_seconds, std::int64_t lifetime_seconds);
  bool spent(std::string_view nonce) const;
  std::size_t size() const { return seen_.size(); }

 private:
  struct Seen {
    std::uint32_t highest_nc;
    std::int64_t expires;
    bool spent = false;
  };
  void prune(std::int64_t now_seconds);
  std::unordered_map<std::string, Seen> seen_;
  std::int64_t next_prune_ = 0;
};

}  // namespace sipgw::auth
