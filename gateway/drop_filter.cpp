#include "gateway/drop_filter.h"

#include <linux/filter.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <system_error>
#include <tuple>

namespace sipgw::gateway {

namespace {

static_assert(sizeof(FilterInstruction) == sizeof(sock_filter));

constexpr std::uint32_t kPass = 0xFFFFFFFF;  // keep the whole packet
// The IP header's source address, relative to the network header (socket
// filters see the transport payload at offset 0).
constexpr std::uint32_t kV4Source = static_cast<std::uint32_t>(SKF_NET_OFF + 12);
constexpr std::uint32_t kV6Source = static_cast<std::uint32_t>(SKF_NET_OFF + 8);

FilterInstruction stmt(std::uint16_t code, std::uint32_t k) { return {code, 0, 0, k}; }
FilterInstruction jump(std::uint16_t code, std::uint32_t k, std::uint8_t jt, std::uint8_t jf) { return {code, jt, jf, k}; }

// The 32-bit word `word` (0 = most significant) of a prefix and its mask.
struct Word {
  std::uint32_t value;
  std::uint32_t mask;
};

Word word_of(const auth::Cidr& cidr, int word, int words) {
  const auth::uint128 mask = auth::prefix_mask(cidr.network.family, cidr.length);
  const int shift = 32 * (words - 1 - word);
  return {static_cast<std::uint32_t>(cidr.network.value >> shift), static_cast<std::uint32_t>(mask >> shift)};
}

// Drops the packet when its source lies in cidr: for each 32-bit word the
// prefix covers, load it, mask it and compare; a mismatch jumps to the
// next entry, a full match reaches "return 0" (drop).
std::vector<FilterInstruction> entry_for(const auth::Cidr& cidr) {
  const bool v4 = cidr.network.family == auth::IpFamily::v4;
  const int words = v4 ? 1 : 4;
  if (cidr.length == 0) return {stmt(BPF_RET | BPF_K, 0)};
  const int covered = (cidr.length + 31) / 32;
  std::vector<FilterInstruction> out;
  std::vector<std::size_t> mismatch_jumps;
  for (int w = 0; w < covered; ++w) {
    const Word word = word_of(cidr, w, words);
    out.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, (v4 ? kV4Source : kV6Source) + 4 * w));
    if (word.mask != 0xFFFFFFFF) out.push_back(stmt(BPF_ALU | BPF_AND | BPF_K, word.mask));
    mismatch_jumps.push_back(out.size());
    out.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, word.value & word.mask, 0, 0));
  }
  out.push_back(stmt(BPF_RET | BPF_K, 0));
  // A mismatch skips the rest of the entry, its "drop" included.
  for (std::size_t at : mismatch_jumps) out[at].jf = static_cast<std::uint8_t>(out.size() - at - 1);
  return out;
}

void append(std::vector<FilterInstruction>& program, const auth::Cidr& cidr, std::size_t max_instructions,
            std::size_t& left_out) {
  auto entry = entry_for(cidr);
  if (program.size() + entry.size() + 1 > max_instructions) {
    ++left_out;
    return;
  }
  program.insert(program.end(), entry.begin(), entry.end());
}

std::expected<void, std::string> attach(int fd, const std::vector<FilterInstruction>& program) {
  if (program.size() == 1) {
    // Nothing to drop: no filter at all (ENOENT when there was none).
    // The kernel wants an int-sized option here, though it reads none.
    const int unused = 0;
    if (setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &unused, sizeof unused) != 0 && errno != ENOENT) {
      return std::unexpected(std::string("SO_DETACH_FILTER: ") + std::strerror(errno));
    }
    return {};
  }
  sock_fprog fprog{static_cast<unsigned short>(program.size()),
                   reinterpret_cast<sock_filter*>(const_cast<FilterInstruction*>(program.data()))};
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog) != 0) {
    return std::unexpected(std::string("SO_ATTACH_FILTER: ") + std::strerror(errno));
  }
  return {};
}

struct SipSocket {
  int fd;
  bool v6;
  int type;
  bool listening;
};

// Every socket of this process whose local port is a SIP port.
template <class F>
std::expected<void, std::string> for_each_sip_socket(const std::vector<std::uint16_t>& ports, F&& f) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    int fd = -1;
    try {
      fd = std::stoi(entry.path().filename().string());
    } catch (...) {
      continue;
    }
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    sockaddr_storage local{};
    socklen_t length = sizeof local;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0) continue;
    std::uint16_t port = 0;
    if (local.ss_family == AF_INET) {
      port = ntohs(reinterpret_cast<sockaddr_in*>(&local)->sin_port);
    } else if (local.ss_family == AF_INET6) {
      port = ntohs(reinterpret_cast<sockaddr_in6*>(&local)->sin6_port);
    } else {
      continue;
    }
    if (std::find(ports.begin(), ports.end(), port) == ports.end()) continue;
    int type = 0, listening = 0;
    socklen_t size = sizeof type;
    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &size);
    size = sizeof listening;
    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size);
    f(SipSocket{fd, local.ss_family == AF_INET6, type, listening != 0});
  }
  if (ec) return std::unexpected("cannot list /proc/self/fd: " + ec.message());
  return {};
}

// The peer of an accepted TCP connection.
std::optional<auth::IpAddress> peer_of(const SipSocket& socket) {
  if (socket.type != SOCK_STREAM || socket.listening) return std::nullopt;
  sockaddr_storage peer{};
  socklen_t length = sizeof peer;
  if (getpeername(socket.fd, reinterpret_cast<sockaddr*>(&peer), &length) != 0) return std::nullopt;
  auto ip = auth::ip_from_sockaddr(&peer, length);
  if (!ip) return std::nullopt;
  return *ip;
}

}  // namespace

std::vector<FilterInstruction> with_invite_drops(std::vector<FilterInstruction> program, double fraction) {
  if (fraction <= 0 || program.empty()) return program;
  // Dropped when the kernel's random number is below this.
  const auto threshold =
      static_cast<std::uint32_t>(std::min(fraction, 1.0) * static_cast<double>(std::numeric_limits<std::uint32_t>::max()));
  program.pop_back();  // the final "pass": the section below ends with its own
  // A UDP socket's filter sees the UDP header at offset 0, the payload at 8.
  const std::vector<FilterInstruction> section = {
      stmt(BPF_LD | BPF_W | BPF_LEN, 0),
      jump(BPF_JMP | BPF_JGE | BPF_K, 8 + 14, 0, 13),        // shorter than "INVITE sip:%2B": pass
      stmt(BPF_LD | BPF_W | BPF_ABS, 8),
      jump(BPF_JMP | BPF_JEQ | BPF_K, 0x494E5649, 0, 11),    // "INVI"
      stmt(BPF_LD | BPF_W | BPF_ABS, 12),
      jump(BPF_JMP | BPF_JEQ | BPF_K, 0x54452073, 0, 9),     // "TE s"
      stmt(BPF_LD | BPF_W | BPF_ABS, 16),
      jump(BPF_JMP | BPF_JEQ | BPF_K, 0x69703A2B, 4, 0),     // "ip:+": to the draw
      jump(BPF_JMP | BPF_JEQ | BPF_K, 0x69703A25, 0, 6),     // "ip:%"
      stmt(BPF_LD | BPF_H | BPF_ABS, 20),
      stmt(BPF_ALU | BPF_AND | BPF_K, 0xFFDF),               // "2b" as "2B"
      jump(BPF_JMP | BPF_JEQ | BPF_K, 0x3242, 0, 3),         // "2B"
      stmt(BPF_LD | BPF_W | BPF_ABS, static_cast<std::uint32_t>(SKF_AD_OFF + SKF_AD_RANDOM)),
      jump(BPF_JMP | BPF_JGE | BPF_K, threshold, 1, 0),
      stmt(BPF_RET | BPF_K, 0),
  };
  static_assert(kInviteDropInstructions == 15);
  program.insert(program.end(), section.begin(), section.end());
  program.push_back(stmt(BPF_RET | BPF_K, kPass));
  return program;
}

DropProgram compile_drop_program(const std::vector<auth::Cidr>& sources, std::size_t max_instructions) {
  DropProgram program;
  // Shortest prefixes first: they cover the most, and a full program then
  // leaves out single addresses rather than whole networks.
  std::vector<auth::Cidr> sorted = sources;
  std::stable_sort(sorted.begin(), sorted.end(), [](const auth::Cidr& a, const auth::Cidr& b) { return a.length < b.length; });
  for (const auto& cidr : sorted) {
    append(cidr.network.family == auth::IpFamily::v4 ? program.v4 : program.v6, cidr, max_instructions, program.left_out);
  }
  program.v4.push_back(stmt(BPF_RET | BPF_K, kPass));
  program.v6.push_back(stmt(BPF_RET | BPF_K, kPass));
  return program;
}

std::expected<std::size_t, std::string> DropFilter::install(std::vector<auth::Cidr> sources) {
  std::sort(sources.begin(), sources.end(), [](const auth::Cidr& a, const auth::Cidr& b) {
    return std::tie(a.network.family, a.network.value, a.length) < std::tie(b.network.family, b.network.value, b.length);
  });
  const auto same_prefix = [](const auth::Cidr& a, const auth::Cidr& b) {
    return a.network == b.network && a.length == b.length;
  };
  sources.erase(std::unique(sources.begin(), sources.end(), same_prefix), sources.end());
  const bool same = ever_installed_ && sources.size() == installed_.size() &&
                    std::equal(sources.begin(), sources.end(), installed_.begin(), same_prefix);
  if (same) return 0;
  // Room kept for the INVITE drops, which come and go with the load.
  program_ = compile_drop_program(sources, 4096 - kInviteDropInstructions);
  auto sockets = attach_everywhere();
  if (!sockets) return sockets;
  installed_ = std::move(sources);
  ever_installed_ = true;
  left_out_ = program_.left_out;
  return sockets;
}

std::expected<std::size_t, std::string> DropFilter::attach_everywhere() {
  if (program_.v4.empty()) program_ = compile_drop_program({});
  std::size_t sockets = 0;
  std::string failure;
  std::vector<UdpSocket> udp;
  auto scanned = for_each_sip_socket(ports_, [&](const SipSocket& socket) {
    if (!failure.empty()) return;
    const auto& base = socket.v6 ? program_.v6 : program_.v4;
    const bool datagram = socket.type == SOCK_DGRAM;
    if (auto attached = attach(socket.fd, datagram ? with_invite_drops(base, invite_drops_) : base); !attached) {
      failure = attached.error();
      return;
    }
    ++sockets;
    if (datagram) udp.push_back({socket.fd, socket.v6});
    if ((datagram || socket.listening) && std::find(counted_.begin(), counted_.end(), socket.fd) == counted_.end()) {
      counted_.push_back(socket.fd);
    }
  });
  if (!failure.empty()) return std::unexpected(failure);
  if (!scanned) return std::unexpected(scanned.error());
  udp_ = std::move(udp);
  return sockets;
}

std::expected<void, std::string> DropFilter::drop_new_invites(double fraction) {
  fraction = std::clamp(fraction, 0.0, 1.0);
  if (fraction == invite_drops_) return {};
  invite_drops_ = fraction;
  if (udp_.empty()) {
    // Nothing installed yet: one walk finds the sockets.
    auto sockets = attach_everywhere();
    if (!sockets) return std::unexpected(sockets.error());
    return {};
  }
  for (const auto& socket : udp_) {
    auto attached = attach(socket.fd, with_invite_drops(socket.v6 ? program_.v6 : program_.v4, invite_drops_));
    if (!attached) return attached;
  }
  return {};
}

std::uint64_t DropFilter::dropped() const {
  std::uint64_t total = 0;
  for (int fd : counted_) {
    std::uint32_t meminfo[SK_MEMINFO_VARS] = {};
    socklen_t size = sizeof meminfo;
    if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, meminfo, &size) == 0 && size > SK_MEMINFO_DROPS * sizeof(std::uint32_t)) {
      total += meminfo[SK_MEMINFO_DROPS];
    }
  }
  return total;
}

TcpCensus DropFilter::police_connections(std::chrono::milliseconds idle) const {
  TcpCensus census;
  const auto limit = static_cast<std::uint64_t>(idle.count());
  std::map<std::pair<int, auth::uint128>, std::size_t> counts;
  (void)for_each_sip_socket(ports_, [&](const SipSocket& socket) {
    auto peer = peer_of(socket);
    if (!peer) return;
    // Counted even when shut now: a source that opens connections faster
    // than they go idle still holds them all.
    ++counts[{static_cast<int>(peer->family), peer->value}];
    tcp_info info{};
    socklen_t length = sizeof info;
    if (getsockopt(socket.fd, IPPROTO_TCP, TCP_INFO, &info, &length) == 0 && info.tcpi_state == TCP_ESTABLISHED &&
        info.tcpi_last_data_recv >= limit && info.tcpi_last_data_sent >= limit && ::shutdown(socket.fd, SHUT_RDWR) == 0) {
      ++census.idle_shut;
    }
  });
  census.by_source.reserve(counts.size());
  for (const auto& [key, n] : counts) {
    census.by_source.push_back({auth::IpAddress{static_cast<auth::IpFamily>(key.first), key.second}, n});
  }
  return census;
}

std::size_t DropFilter::shut_down_connections(const std::vector<auth::IpAddress>& sources) const {
  std::size_t n = 0;
  if (sources.empty()) return n;
  (void)for_each_sip_socket(ports_, [&](const SipSocket& socket) {
    auto peer = peer_of(socket);
    if (peer && std::find(sources.begin(), sources.end(), *peer) != sources.end() && ::shutdown(socket.fd, SHUT_RDWR) == 0) ++n;
  });
  return n;
}

std::size_t DropFilter::udp_receive_buffer() const {
  std::size_t smallest = 0;
  (void)for_each_sip_socket(ports_, [&](const SipSocket& socket) {
    if (socket.type != SOCK_DGRAM) return;
    int size = 0;
    socklen_t length = sizeof size;
    if (getsockopt(socket.fd, SOL_SOCKET, SO_RCVBUF, &size, &length) != 0 || size <= 0) return;
    if (smallest == 0 || static_cast<std::size_t>(size) < smallest) smallest = static_cast<std::size_t>(size);
  });
  return smallest;
}

std::vector<int> DropFilter::udp_sockets() const {
  std::vector<int> fds;
  (void)for_each_sip_socket(ports_, [&](const SipSocket& socket) {
    if (socket.type == SOCK_DGRAM) fds.push_back(socket.fd);
  });
  return fds;
}

}  // namespace sipgw::gateway
