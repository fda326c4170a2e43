// Source-IP allowlist building blocks: addresses, CIDR prefixes and a
// longest-prefix-match table (IPv4 and IPv6).
//
// An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 address it maps:
// a dual-stack socket reports IPv4 publishers that way, and an allowlist
// entry for 192.0.2.0/24 must match them.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sipgw::auth {

using uint128 = unsigned __int128;

enum class IpFamily : std::uint8_t { v4, v6 };

struct IpAddress {
  IpFamily family = IpFamily::v4;
  uint128 value = 0;  // IPv4 uses the low 32 bits

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// Parses a literal IPv4 or IPv6 address (brackets allowed around IPv6).
std::expected<IpAddress, std::string> parse_ip(std::string_view text);
std::string to_string(const IpAddress& address);
// From a socket address (sockaddr_in or sockaddr_in6); mapped v6 becomes v4.
std::expected<IpAddress, std::string> ip_from_sockaddr(const void* sockaddr, std::size_t length);

struct Cidr {
  IpAddress network;  // host bits are always zero
  std::uint8_t length = 0;

  friend bool operator==(const Cidr&, const Cidr&) = default;
};

// "10.0.0.0/8", "2001:db8::/32", or a bare address meaning a host route.
// Host bits set are refused (the message names the normalized prefix) so an
// admin typo never silently widens or narrows what is allowed.
std::expected<Cidr, std::string> parse_cidr(std::string_view text);
// Canonical text form, always with the length: "10.0.0.0/8", "2001:db8::/32".
std::string to_string(const Cidr& cidr);
bool contains(const Cidr& cidr, const IpAddress& address);

// Longest-prefix match over any number of prefixes. Lookup cost grows with
// the number of distinct prefix lengths present (at most 33 + 129), not with
// the number of entries: one hash probe per length.
template <class Value>
class PrefixTable {
 public:
  // False when the exact prefix is already present (the value is kept).
  bool insert(const Cidr& cidr, Value value);
  // The value of the longest prefix containing the address, or nullptr.
  const Value* find(const IpAddress& address) const;
  std::size_t size() const { return size_; }
  // Calls f(cidr, value) for every prefix, in no particular order.
  template <class F>
  void for_each(F&& f) const;

 private:
  struct Hash {
    std::size_t operator()(uint128 v) const noexcept {
      auto lo = static_cast<std::uint64_t>(v);
      auto hi = static_cast<std::uint64_t>(v >> 64);
      std::uint64_t h = lo * 0x9E3779B97F4A7C15ull ^ (hi + 0x632BE59BD9B4E019ull + (lo << 6) + (lo >> 2));
      return static_cast<std::size_t>(h ^ (h >> 29));
    }
  };
  struct Level {
    std::uint8_t length;
    std::unordered_map<uint128, Value, Hash> entries;
  };
  // Levels sorted longest prefix first, per family.
  std::vector<Level> levels_[2];
  std::size_t size_ = 0;
};

uint128 prefix_mask(IpFamily family, std::uint8_t length);

template <class Value>
bool PrefixTable<Value>::insert(const Cidr& cidr, Value value) {
  auto& levels = levels_[static_cast<int>(cidr.network.family)];
  auto it = levels.begin();
  while (it != levels.end() && it->length > cidr.length) ++it;
  if (it == levels.end() || it->length != cidr.length) it = levels.insert(it, Level{cidr.length, {}});
  bool inserted = it->entries.emplace(cidr.network.value, std::move(value)).second;
  if (inserted) ++size_;
  return inserted;
}

template <class Value>
template <class F>
void PrefixTable<Value>::for_each(F&& f) const {
  for (int family = 0; family < 2; ++family) {
    for (const auto& level : levels_[family]) {
      for (const auto& [network, value] : level.entries) {
        f(Cidr{IpAddress{static_cast<IpFamily>(family), network}, level.length}, value);
      }
    }
  }
}

template <class Value>
const Value* PrefixTable<Value>::find(const IpAddress& address) const {
  for (const auto& level : levels_[static_cast<int>(address.family)]) {
    auto it = level.entries.find(address.value & prefix_mask(address.family, level.length));
    if (it != level.entries.end()) return &it->second;
  }
  return nullptr;
}

}  // namespace sipgw::auth
