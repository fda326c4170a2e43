// Raw SIP over loopback sockets for tests that need no SIPp: a request
// built by hand, its responses read back. Used to probe a starting daemon
// and to send methods sipgw must refuse.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>
#include <optional>
#include <string>
#include <vector>

namespace sipgw::integration {

struct SipEndpoint {
  std::string host = "127.0.0.1";  // IPv4 or IPv6 literal, no brackets
  int port = 0;
  bool tcp = false;
  bool ipv6() const { return host.find(':') != std::string::npos; }
  std::string uri_host() const { return ipv6() ? "[" + host + "]" : host; }
};

// An out-of-dialog request from a probe at local_port; to_tag makes it look
// in-dialog. Every request gets its own Call-ID and branch.
inline std::string sip_request(const std::string& method, const SipEndpoint& to, int local_port,
                               const std::string& to_tag = "", const std::string& extra_headers = "") {
  static std::atomic<int> sequence{0};
  const std::string id = std::to_string(::getpid()) + "-" + std::to_string(++sequence);
  const std::string local = to.uri_host() + ":" + std::to_string(local_port);
  const std::string target = "sip:" + to.uri_host() + ":" + std::to_string(to.port);
  return method + " " + target + " SIP/2.0\r\nVia: SIP/2.0/" + (to.tcp ? "TCP " : "UDP ") + local +
         ";branch=z9hG4bK-probe-" + id + "\r\nFrom: <sip:probe@" + local + ">;tag=p" + id + "\r\nTo: <" + target + ">" +
         (to_tag.empty() ? "" : ";tag=" + to_tag) + "\r\nCall-ID: probe-" + id + "@" + to.uri_host() + "\r\nCSeq: 1 " +
         method + "\r\nContact: <sip:probe@" + local + ">\r\nMax-Forwards: 70\r\n" + extra_headers +
         "Content-Length: 0\r\n\r\n";
}

inline std::optional<std::string> header_of(const std::string& message, const std::string& name) {
  auto at = message.find("\r\n" + name + ":");
  if (at == std::string::npos) return std::nullopt;
  at += name.size() + 3;
  while (at < message.size() && message[at] == ' ') ++at;
  return message.substr(at, message.find("\r\n", at) - at);
}

inline int status_of(const std::string& response) {
  return response.rfind("SIP/2.0 ", 0) == 0 && response.size() > 11 ? std::atoi(response.c_str() + 8) : 0;
}

// One socket toward the daemon (UDP, or a TCP connection kept open).
class SipProbe {
 public:
  // local_ip: an IPv4 source to send from (e.g. 127.0.0.2, another
  // "machine" on loopback); empty: the kernel's choice.
  explicit SipProbe(SipEndpoint to, const std::string& local_ip = "") : to_(std::move(to)) {
    const int family = to_.ipv6() ? AF_INET6 : AF_INET;
    fd_ = ::socket(family, to_.tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
    if (fd_ >= 0 && !local_ip.empty()) {
      sockaddr_in source{};
      source.sin_family = AF_INET;
      inet_pton(AF_INET, local_ip.c_str(), &source.sin_addr);
      if (::bind(fd_, reinterpret_cast<sockaddr*>(&source), sizeof source) != 0) {
        ::close(fd_);
        fd_ = -1;
      }
    }
    sockaddr_storage peer{};
    socklen_t length = 0;
    if (to_.ipv6()) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&peer);
      a->sin6_family = AF_INET6;
      a->sin6_port = htons(static_cast<std::uint16_t>(to_.port));
      inet_pton(AF_INET6, to_.host.c_str(), &a->sin6_addr);
      length = sizeof *a;
    } else {
      auto* a = reinterpret_cast<sockaddr_in*>(&peer);
      a->sin_family = AF_INET;
      a->sin_port = htons(static_cast<std::uint16_t>(to_.port));
      inet_pton(AF_INET, to_.host.c_str(), &a->sin_addr);
      length = sizeof *a;
    }
    connected_ = fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&peer), length) == 0;
    sockaddr_storage local{};
    socklen_t local_length = sizeof local;
    if (connected_ && getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &local_length) == 0) {
      local_port_ = ntohs(to_.ipv6() ? reinterpret_cast<sockaddr_in6*>(&local)->sin6_port
                                     : reinterpret_cast<sockaddr_in*>(&local)->sin_port);
    }
  }
  ~SipProbe() {
    if (fd_ >= 0) ::close(fd_);
  }
  SipProbe(const SipProbe&) = delete;
  SipProbe& operator=(const SipProbe&) = delete;

  bool connected() const { return connected_; }
  int local_port() const { return local_port_; }
  const SipEndpoint& peer() const { return to_; }

  bool send(const std::string& message) {
    return connected_ && ::send(fd_, message.data(), message.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(message.size());
  }

  // The next message from the daemon, or nullopt when none comes in time.
  std::optional<std::string> receive(std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (true) {
      if (auto message = take_message()) return message;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buffer[65536];
      ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) {
        if (to_.tcp) return std::nullopt;  // connection closed
        continue;                          // e.g. ECONNREFUSED from an ICMP error: nobody listens yet
      }
      pending_.append(buffer, static_cast<std::size_t>(n));
    }
  }

  // Sends and returns the first final (>= 200) response.
  std::optional<std::string> final_response(const std::string& request, std::chrono::milliseconds limit) {
    if (!send(request)) return std::nullopt;
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (auto message = receive(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()))) {
      if (status_of(*message) >= 200) return message;
    }
    return std::nullopt;
  }

 private:
  // One whole message out of what was received (headers plus Content-Length).
  std::optional<std::string> take_message() {
    auto end = pending_.find("\r\n\r\n");
    if (end == std::string::npos) return std::nullopt;
    std::size_t body = 0;
    if (auto length = header_of(pending_.substr(0, end + 2), "Content-Length")) body = std::stoul(*length);
    if (pending_.size() < end + 4 + body) return std::nullopt;
    std::string message = pending_.substr(0, end + 4 + body);
    pending_.erase(0, end + 4 + body);
    return message;
  }

  SipEndpoint to_;
  int fd_ = -1;
  bool connected_ = false;
  int local_port_ = 0;
  std::string pending_;
};

// Sends OPTIONS until the daemon answers or `alive` says it died; a new
// socket each try, since the listener may not be up yet.
inline std::optional<std::string> options_reply(const SipEndpoint& endpoint, std::chrono::milliseconds limit,
                                                const std::function<bool()>& alive) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (alive() && std::chrono::steady_clock::now() < deadline) {
    SipProbe probe(endpoint);
    if (probe.connected()) {
      if (auto reply = probe.final_response(sip_request("OPTIONS", endpoint, probe.local_port()), std::chrono::milliseconds(200))) {
        return reply;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::nullopt;
}

}  // namespace sipgw::integration
