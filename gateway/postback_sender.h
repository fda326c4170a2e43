// Postback delivery on the Asio side: takes due deliveries from the outbox
// (db/call_events.h) and makes their HTTP(S) requests, at most `concurrency`
// at once, each with a timeout; a delivery that fails is tried again with
// exponential backoff (1 s, 2 s, 4 s ... capped at max_backoff) until
// retry_for has passed since its event, then it is failed for good (the
// dead letter: `sipgwctl postback failures`). A 4xx other than 408 and 429
// fails at once: the same request will not do better. Every request
// carries `Idempotency-Key: <event id>` (delivery is at least once). The
// backlog lives in SQLite; only the requests in flight are in memory. The
// SIP thread never waits on any of it.
#pragma once

#include "db/call_events.h"
#include "gateway/log_limiter.h"
#include "gateway/metrics.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace sipgw::gateway {

struct PostbackOptions {
  std::size_t concurrency = 8;
  std::chrono::milliseconds timeout{5000};
  std::chrono::seconds retry_for{86400};
  std::chrono::seconds max_backoff{300};
};

// A postback URL taken apart; nullopt-like `ok == false` for anything but
// http:// or https:// with a host.
struct PostbackUrl {
  bool ok = false;
  bool tls = false;
  std::string host;
  std::string port;
  std::string target;  // path and query, at least "/"
};
PostbackUrl parse_postback_url(const std::string& url);

// The wait before try number `attempts + 1` after `attempts` failures.
std::chrono::seconds postback_backoff(std::int64_t attempts, std::chrono::seconds max_backoff);

class PostbackSender {
 public:
  PostbackSender(boost::asio::io_context& io, db::Connection& db, Metrics& metrics, PostbackOptions options);
  ~PostbackSender();
  PostbackSender(const PostbackSender&) = delete;
  PostbackSender& operator=(const PostbackSender&) = delete;

  void start();
  void stop();
  // New deliveries may be due now (a CDR batch with events was stored).
  void kick();
  void set_options(PostbackOptions options) { options_ = options; }

 private:
  struct Request;
  void poll();
  void schedule(std::chrono::milliseconds after);
  void send(db::Delivery delivery);
  void finished(const db::Delivery& delivery, int status, const std::string& error);
  // Stores the outcomes gathered since the last flush in one transaction
  // (one fsync for many deliveries), then frees their calls for the next.
  void flush_outcomes();

  boost::asio::io_context& io_;
  db::Connection& db_;
  Metrics& metrics_;
  PostbackOptions options_;
  boost::asio::ssl::context tls_;
  boost::asio::steady_timer timer_;
  struct Outcome {
    db::Delivery delivery;
    int status;
    std::string error;
    std::int64_t at_ms;
  };
  std::set<std::string> busy_;  // calls with a delivery in flight or its outcome not yet stored
  std::size_t in_flight_ = 0;
  std::vector<Outcome> outcomes_;
  boost::asio::steady_timer flush_timer_;
  bool flush_scheduled_ = false;
  bool stopped_ = false;
  LogLimiter failure_log_{10};  // a dead receiver must not fill the disk
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace sipgw::gateway
