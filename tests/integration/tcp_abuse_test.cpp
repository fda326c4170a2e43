// What a hostile TCP peer does to a SIP port: connections that say nothing,
// a message trickled and left unfinished (slowloris), a message far past any
// real INVITE's size, one source holding many connections. Each is closed
// or refused, and the publisher's own traffic and /metrics go on.
#include "harness.h"

#include <fcntl.h>

namespace sipgw::integration {
namespace {

class TcpAbuse : public GatewayTest {
 protected:
  // A TCP connection to the gateway from source_ip; -1 when refused or not
  // accepted within the limit.
  int connect_from(const std::string& source_ip, std::chrono::milliseconds limit = 1s) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in from{};
    from.sin_family = AF_INET;
    inet_pton(AF_INET, source_ip.c_str(), &from.sin_addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) {
      ::close(fd);
      return -1;
    }
    fcntl(fd, F_SETFL, O_NONBLOCK);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<std::uint16_t>(sip_port_));
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to);
    pollfd p{fd, POLLOUT, 0};
    int error = 0;
    socklen_t length = sizeof error;
    if (::poll(&p, 1, static_cast<int>(limit.count())) <= 0 ||
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0) {
      ::close(fd);
      return -1;
    }
    fcntl(fd, F_SETFL, 0);
    return fd;
  }

  // Whether the gateway closes the connection within the limit (what it
  // sends first, e.g. a 400 or 413, is kept in `said`).
  static bool closed_within(int fd, std::chrono::milliseconds limit, std::string* said = nullptr) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (::poll(&p, 1, static_cast<int>(std::max<long>(1, left.count()))) <= 0) continue;
      char buffer[4096];
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) return true;
      if (said) said->append(buffer, static_cast<std::size_t>(n));
    }
    return false;
  }

  bool tcp_options_answered() {
    SipEndpoint gateway{"127.0.0.1", sip_port_, true};
    SipProbe probe(gateway);
    auto reply = probe.final_response(sip_request("OPTIONS", gateway, probe.local_port()), 3s);
    return reply && status_of(*reply) == 200;
  }
};

TEST_F(TcpAbuse, IdleTrickledAndOversizedConnectionsAreClosedAndOneSourceCannotHoldMany) {
  provision_basic();
  ASSERT_EQ(ctl({"setting", "set", "sip.tcp_idle", "2"}), 0);
  ASSERT_EQ(ctl({"setting", "set", "sip.tcp_message_timeout", "1"}), 0);
  ASSERT_EQ(ctl({"setting", "set", "sip.max_message_size", "8192"}), 0);
  ASSERT_EQ(ctl({"setting", "set", "sip.tcp_max_per_source", "20"}), 0);
  start_with_metrics();

  // Silent: closed once idle.
  const int silent = connect_from("127.0.0.5");
  ASSERT_GE(silent, 0);
  // Slowloris: the start of an OPTIONS, then nothing more.
  const int trickle = connect_from("127.0.0.5");
  ASSERT_GE(trickle, 0);
  const std::string start = "OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.5:9;branch=z9hG4bK-slow\r\nFrom: <sip:x@127.0.0.5>;tag=s\r\n";
  ASSERT_EQ(::send(trickle, start.data(), start.size(), MSG_NOSIGNAL), static_cast<ssize_t>(start.size()));
  // Oversized: 20 KB of headers against a maximum of 8 KB.
  const int big = connect_from("127.0.0.5");
  ASSERT_GE(big, 0);
  std::string huge = sip_request("OPTIONS", SipEndpoint{"127.0.0.1", sip_port_, true}, 9);
  huge.insert(huge.find("Content-Length"), std::string("X-Pad: ") + std::string(20000, 'a') + "\r\n");
  ::send(big, huge.data(), huge.size(), MSG_NOSIGNAL);

  std::string big_said;
  EXPECT_TRUE(closed_within(big, 8s, &big_said)) << "an oversized message kept its connection";
  EXPECT_EQ(big_said.find("SIP/2.0 200"), std::string::npos) << big_said;
  EXPECT_TRUE(closed_within(silent, 8s)) << "an idle connection was never closed";
  std::string trickle_said;
  EXPECT_TRUE(closed_within(trickle, 8s, &trickle_said)) << "a trickled message held its connection";
  EXPECT_EQ(trickle_said.find("SIP/2.0 200"), std::string::npos) << trickle_said;
  for (int fd : {silent, trickle, big}) ::close(fd);

  // One source, 40 connections against a cap of 20: banned, its
  // connections shut, its next connection dropped by the kernel.
  std::vector<int> many;
  for (int i = 0; i < 40; ++i) {
    const int fd = connect_from("127.0.0.6");
    ASSERT_GE(fd, 0) << "connection " << i;
    many.push_back(fd);
  }
  EXPECT_TRUE(eventually([&] {
    auto bans = ctl_json({"ban", "list"});
    return bans.size() == 1 && bans[0]["cidr"] == "127.0.0.6/32" && bans[0]["note"] == "too many connections";
  })) << ctl_json({"ban", "list"}).dump();
  int closed = 0;
  for (int fd : many) closed += closed_within(fd, 3s);
  EXPECT_EQ(closed, 40);
  for (int fd : many) ::close(fd);
  EXPECT_EQ(connect_from("127.0.0.6", 500ms), -1);
  EXPECT_TRUE(has_line(scrape(), "sipgw_requests_refused_total{cause=\"tcp_connections\"} 1")) << scrape();

  // The publisher's address and the metrics endpoint were never touched.
  EXPECT_TRUE(tcp_options_answered());
  EXPECT_EQ(http_get(metrics_port_, "/healthz").status, 200);
}

}  // namespace
}  // namespace sipgw::integration
