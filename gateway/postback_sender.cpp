#include "gateway/postback_sender.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

namespace sipgw::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

http::request<http::string_body> build_request(const db::Delivery& d, const PostbackUrl& url) {
  http::request<http::string_body> req{d.method == "POST" ? http::verb::post : http::verb::get, url.target, 11};
  const bool default_port = url.port == (url.tls ? "443" : "80");
  req.set(http::field::host, default_port ? url.host : url.host + ":" + url.port);
  req.set(http::field::user_agent, "sipgw");
  req.set("Idempotency-Key", d.event_id);
  bool has_type = false;
  std::size_t start = 0;
  while (start < d.headers.size()) {
    auto end = d.headers.find('\n', start);
    if (end == std::string::npos) end = d.headers.size();
    const std::string line = d.headers.substr(start, end - start);
    start = end + 1;
    const auto colon = line.find(':');
    if (colon == std::string::npos || colon == 0) continue;
    std::string name = line.substr(0, colon);
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    has_type |= beast::iequals(name, "Content-Type");
    req.set(name, value);
  }
  if (req.method() == http::verb::post) {
    if (!has_type) req.set(http::field::content_type, "application/x-www-form-urlencoded");
    req.body() = d.body;
  }
  req.keep_alive(false);
  req.prepare_payload();
  return req;
}

template <class Stream>
asio::awaitable<int> round_trip(Stream& stream, http::request<http::string_body>& req) {
  co_await http::async_write(stream, req, asio::use_awaitable);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024);  // the answer is not read; a receiver cannot make sipgw hold more
  co_await http::async_read(stream, buffer, parser, asio::use_awaitable);
  co_return static_cast<int>(parser.get().result_int());
}

}  // namespace

PostbackUrl parse_postback_url(const std::string& text) {
  PostbackUrl url;
  std::string_view rest = text;
  if (rest.starts_with("https://")) {
    url.tls = true;
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else {
    return url;
  }
  const auto slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  url.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (url.target.front() == '?') url.target.insert(0, "/");
  if (authority.find('@') != std::string_view::npos) return url;  // no credentials in URLs
  std::string_view host = authority, port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return url;
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return url;
      port = authority.substr(close + 2);
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return url;
  for (char c : port) {
    if (c < '0' || c > '9') return url;
  }
  for (char c : host) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':')) return url;
  }
  if (port.size() > 5 || (!port.empty() && std::stoi(std::string(port)) > 65535)) return url;
  url.host = host;
  url.port = port.empty() ? (url.tls ? "443" : "80") : std::string(port);
  url.ok = true;
  return url;
}

std::chrono::seconds postback_backoff(std::int64_t attempts, std::chrono::seconds max_backoff) {
  const std::int64_t doublings = std::clamp<std::int64_t>(attempts - 1, 0, 30);
  return std::min(max_backoff, std::chrono::seconds(std::int64_t{1} << doublings));
}

PostbackSender::PostbackSender(asio::io_context& io, db::Connection& db, Metrics& metrics, PostbackOptions options)
    : io_(io), db_(db), metrics_(metrics), options_(options), tls_(asio::ssl::context::tls_client), timer_(io),
      flush_timer_(io) {
  // The system's trust store (or SSL_CERT_FILE / SSL_CERT_DIR), the peer
  // always verified, its name checked against the URL's host.
  tls_.set_default_verify_paths();
  tls_.set_verify_mode(asio::ssl::verify_peer);
}

PostbackSender::~PostbackSender() { *alive_ = false; }

void PostbackSender::start() { schedule(std::chrono::milliseconds(0)); }

void PostbackSender::stop() {
  stopped_ = true;
  timer_.cancel();
  flush_timer_.cancel();
  flush_outcomes();
}

void PostbackSender::kick() {
  if (!stopped_) asio::post(io_, [this, alive = alive_] {
      if (*alive) poll();
    });
}

// Every second: the outbox depth for the gauge, and what came due.
void PostbackSender::schedule(std::chrono::milliseconds after) {
  timer_.expires_after(after);
  timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (ec || !*alive || stopped_) return;
    if (auto pending = db::pending_deliveries(db_)) metrics_.outbox_depth(*pending);
    poll();
    schedule(std::chrono::seconds(1));
  });
}

void PostbackSender::poll() {
  if (stopped_ || in_flight_ >= options_.concurrency) return;
  // Calls whose outcome is not stored yet stay busy: their rows still read
  // pending.
  auto due = db::due_deliveries(db_, now_ms(), options_.concurrency - in_flight_, busy_);
  if (!due) {
    spdlog::error("postback outbox read failed: {}", due.error().message);
    return;
  }
  for (auto& d : *due) send(std::move(d));
}

void PostbackSender::send(db::Delivery d) {
  ++in_flight_;
  busy_.insert(d.call_uuid);
  asio::co_spawn(
      io_,
      [this, alive = alive_, d = std::move(d)]() mutable -> asio::awaitable<void> {
        int status = 0;
        std::string error;
        const PostbackUrl url = parse_postback_url(d.url);
        if (!url.ok) {
          error = "not an http:// or https:// URL";
        } else {
          try {
            auto executor = co_await asio::this_coro::executor;
            beast::tcp_stream stream(executor);
            stream.expires_after(options_.timeout);
            boost::system::error_code not_ip;
            const auto address = asio::ip::make_address(url.host, not_ip);
            if (!not_ip) {
              // An address needs no resolver (whose getaddrinfo runs on a
              // thread of its own: a hand-off per request).
              co_await stream.async_connect(tcp::endpoint(address, static_cast<unsigned short>(std::stoi(url.port))),
                                            asio::use_awaitable);
            } else {
              tcp::resolver resolver(executor);
              auto endpoints = co_await resolver.async_resolve(url.host, url.port, asio::use_awaitable);
              co_await stream.async_connect(endpoints, asio::use_awaitable);
            }
            auto req = build_request(d, url);
            if (url.tls) {
              beast::ssl_stream<beast::tcp_stream> tls(std::move(stream), tls_);
              if (!SSL_set_tlsext_host_name(tls.native_handle(), url.host.c_str())) {
                throw boost::system::system_error(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category());
              }
              tls.set_verify_callback(asio::ssl::host_name_verification(url.host));
              co_await tls.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
              status = co_await round_trip(tls, req);
            } else {
              status = co_await round_trip(stream, req);
            }
          } catch (const boost::system::system_error& e) {
            error = e.code().message();
          }
        }
        if (*alive) finished(d, status, error);
      },
      asio::detached);
}

void PostbackSender::finished(const db::Delivery& d, int status, const std::string& error) {
  --in_flight_;
  outcomes_.push_back({d, status, error, now_ms()});
  if (stopped_) return;
  poll();  // keep `concurrency` requests going; this call stays busy until its outcome is stored
  if (flush_scheduled_) return;
  flush_scheduled_ = true;
  // Gathered for up to 20 ms: at hundreds of deliveries a second one
  // transaction (one fsync) stores many outcomes.
  flush_timer_.expires_after(std::chrono::milliseconds(20));
  flush_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (!*alive) return;
    flush_scheduled_ = false;
    if (!ec) flush_outcomes();
  });
}

void PostbackSender::flush_outcomes() {
  if (outcomes_.empty()) return;
  auto tx = db::Transaction::begin(db_);
  if (!tx) {
    spdlog::error("postback outcomes not stored, will retry: {}", tx.error().message);
    flush_scheduled_ = true;
    flush_timer_.expires_after(std::chrono::seconds(1));
    flush_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
      if (!*alive) return;
      flush_scheduled_ = false;
      if (!ec) flush_outcomes();
    });
    return;
  }
  std::vector<std::pair<std::string, std::string>> counted;  // (event, result) for the metrics once stored
  std::vector<double> latencies;
  for (const auto& o : outcomes_) {
    const auto& d = o.delivery;
    if (o.status >= 200 && o.status < 300) {
      if (auto ok = db::delivery_succeeded(db_, d.id, o.status, o.at_ms); !ok) {
        spdlog::error("postback {} delivered but not recorded: {}", d.id, ok.error().message);
      }
      counted.emplace_back(d.event, "sent");
      latencies.push_back(static_cast<double>(o.at_ms - d.created_at) / 1000.0);
      continue;
    }
    const bool permanent = o.error == "not an http:// or https:// URL" ||
                           (o.status >= 400 && o.status < 500 && o.status != 408 && o.status != 429);
    const std::int64_t next =
        o.at_ms + std::chrono::milliseconds(postback_backoff(d.attempts + 1, options_.max_backoff)).count();
    const bool give_up = permanent || next - d.created_at > std::chrono::milliseconds(options_.retry_for).count();
    const std::string why = o.status ? "HTTP " + std::to_string(o.status) : o.error;
    std::optional<int> code;
    if (o.status) code = o.status;
    if (auto ok = db::delivery_failed(db_, d.id, code, why, give_up ? std::nullopt : std::optional(next)); !ok) {
      spdlog::error("postback {} failure not recorded: {}", d.id, ok.error().message);
    }
    counted.emplace_back(d.event, give_up ? "failed" : "retrying");
    if (failure_log_.allow(o.at_ms)) {
      spdlog::warn("postback {} ({} of call {}) to {}: {}; {}", d.id, d.event, d.call_uuid, d.url.substr(0, 200), why,
                   give_up ? "failed for good (sipgwctl postback failures)" : "will retry");
    }
  }
  if (auto ok = tx->commit(); !ok) {
    spdlog::error("postback outcomes not stored: {}", ok.error().message);  // the deliveries stay pending: sent again
  } else {
    for (const auto& [event, result] : counted) metrics_.postback(event, result);
    for (double seconds : latencies) metrics_.postback_latency(seconds);
  }
  for (const auto& o : outcomes_) busy_.erase(o.delivery.call_uuid);
  outcomes_.clear();
  if (!stopped_) poll();
}

}  // namespace sipgw::gateway
