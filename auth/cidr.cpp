#include "auth/cidr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <charconv>
#include <cstddef>
#include <cstring>

namespace sipgw::auth {

namespace {

constexpr uint128 kMappedPrefix = uint128{0xffff} << 32;  // ::ffff:0:0/96
constexpr uint128 kMappedMask = ~uint128{0} << 32;

IpAddress from_v6_bytes(const unsigned char* bytes) {
  uint128 value = 0;
  for (int i = 0; i < 16; ++i) value = (value << 8) | bytes[i];
  if ((value & kMappedMask) == kMappedPrefix) return {IpFamily::v4, value & 0xffffffffu};
  return {IpFamily::v6, value};
}

}  // namespace

uint128 prefix_mask(IpFamily family, std::uint8_t length) {
  const int bits = family == IpFamily::v4 ? 32 : 128;
  if (length == 0) return 0;
  uint128 all = family == IpFamily::v4 ? uint128{0xffffffffu} : ~uint128{0};
  return (all << (bits - length)) & all;
}

std::expected<IpAddress, std::string> parse_ip(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  if (text.empty() || text.size() > INET6_ADDRSTRLEN) return std::unexpected("'" + std::string(text) + "' is not an IP address");
  std::string copy(text);
  in_addr v4{};
  if (inet_pton(AF_INET, copy.c_str(), &v4) == 1) return IpAddress{IpFamily::v4, ntohl(v4.s_addr)};
  in6_addr v6{};
  if (inet_pton(AF_INET6, copy.c_str(), &v6) == 1) return from_v6_bytes(v6.s6_addr);
  return std::unexpected("'" + copy + "' is not an IP address");
}

std::string to_string(const IpAddress& address) {
  char buffer[INET6_ADDRSTRLEN] = {};
  if (address.family == IpFamily::v4) {
    in_addr v4{htonl(static_cast<std::uint32_t>(address.value))};
    inet_ntop(AF_INET, &v4, buffer, sizeof buffer);
  } else {
    in6_addr v6{};
    for (int i = 15; i >= 0; --i) v6.s6_addr[i] = static_cast<unsigned char>(address.value >> (8 * (15 - i)));
    inet_ntop(AF_INET6, &v6, buffer, sizeof buffer);
  }
  return buffer;
}

std::expected<IpAddress, std::string> ip_from_sockaddr(const void* sockaddr, std::size_t length) {
  sa_family_t family{};
  if (sockaddr == nullptr || length < sizeof family) return std::unexpected("no socket address");
  std::memcpy(&family, static_cast<const char*>(sockaddr) + offsetof(struct sockaddr, sa_family), sizeof family);
  if (family == AF_INET && length >= sizeof(sockaddr_in)) {
    sockaddr_in in{};
    std::memcpy(&in, sockaddr, sizeof in);
    return IpAddress{IpFamily::v4, ntohl(in.sin_addr.s_addr)};
  }
  if (family == AF_INET6 && length >= sizeof(sockaddr_in6)) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, sockaddr, sizeof in6);
    return from_v6_bytes(in6.sin6_addr.s6_addr);
  }
  return std::unexpected("unsupported address family");
}

std::expected<Cidr, std::string> parse_cidr(std::string_view text) {
  const std::string original(text);
  auto slash = text.find('/');
  auto address = parse_ip(text.substr(0, slash));
  if (!address) return std::unexpected("'" + original + "' is not a CIDR: " + address.error());

  // A mapped IPv6 prefix of /96 or longer is an IPv4 prefix in disguise.
  bool was_mapped_v6 = address->family == IpFamily::v4 && text.substr(0, slash).find(':') != std::string_view::npos;
  const int max_length = address->family == IpFamily::v4 && !was_mapped_v6 ? 32 : 128;
  int length = address->family == IpFamily::v4 ? 32 : 128;
  if (slash != std::string_view::npos) {
    auto digits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
    if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || length < 0 || length > max_length) {
      return std::unexpected("'" + original + "' has an invalid prefix length (0 to " + std::to_string(max_length) + ")");
    }
  } else if (was_mapped_v6) {
    length = 128;
  }
  if (was_mapped_v6) {
    if (length < 96) {
      return std::unexpected("'" + original + "' spans beyond the IPv4-mapped range; use a prefix of /96 or longer");
    }
    length -= 96;
  }
  Cidr cidr{*address, static_cast<std::uint8_t>(length)};
  uint128 masked = address->value & prefix_mask(address->family, cidr.length);
  if (masked != address->value) {
    Cidr normalized{{address->family, masked}, cidr.length};
    return std::unexpected("'" + original + "' has host bits set; did you mean " + to_string(normalized) + "?");
  }
  return cidr;
}

std::string to_string(const Cidr& cidr) {
  return to_string(cidr.network) + "/" + std::to_string(cidr.length);
}

bool contains(const Cidr& cidr, const IpAddress& address) {
  return address.family == cidr.network.family &&
         (address.value & prefix_mask(address.family, cidr.length)) == cidr.network.value;
}

}  // namespace sipgw::auth
