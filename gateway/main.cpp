// sipgw: the daemon. The SIP thread (SipServer) serves calls; this thread
// runs the Boost.Asio io_context that watches provisioning, writes CDRs in
// batches and handles signals.
#include "auth/digest.h"
#include "auth/text.h"
#include "db/admin.h"
#include "db/call_events.h"
#include "db/schema.h"
#include "db/snapshot_loader.h"
#include "gateway/cdr_queue.h"
#include "gateway/http_server.h"
#include "gateway/listen.h"
#include "gateway/metrics.h"
#include "gateway/outbound.h"
#include "gateway/postback_sender.h"
#include "gateway/provisioning_watcher.h"
#include "gateway/sip_server.h"

#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <boost/asio.hpp>
#include <spdlog/async.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <regex>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using namespace sipgw;

namespace {

void setup_logging(const std::string& level) {
  // Async with overrun: a slow stderr must never block the SIP thread.
  spdlog::init_thread_pool(8192, 1);
  auto logger = std::make_shared<spdlog::async_logger>(
      "sipgw", std::make_shared<spdlog::sinks::stderr_sink_mt>(), spdlog::thread_pool(),
      spdlog::async_overflow_policy::overrun_oldest);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %v");
  logger->set_level(spdlog::level::from_str(level));
  spdlog::set_default_logger(logger);
}

gateway::PostbackOptions postback_options(const routing::Settings& s) {
  return {static_cast<std::size_t>(s.postback_concurrency), std::chrono::milliseconds(s.postback_timeout_ms),
          std::chrono::seconds(s.postback_retry_for_seconds), std::chrono::seconds(s.postback_max_backoff_seconds)};
}

// The bearer token of the call outcome API, from a file (never argv): its
// first line, trimmed; at least 16 characters.
std::expected<std::string, std::string> read_api_token(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::unexpected("cannot read the API token file " + path);
  std::string line;
  std::getline(in, line);
  const std::string token(auth::trim(line));
  if (token.size() < 16) return std::unexpected("the API token in " + path + " is shorter than 16 characters");
  return token;
}

}  // namespace

// Each SIP TCP connection is a descriptor: the soft limit goes up to the
// hard one (the unit sets LimitNOFILE), so sip.tcp_max_connections, not the
// default 1024, is what bounds them, and the metrics endpoint keeps room.
static void raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  const rlim_t before = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) == 0) {
    spdlog::debug("descriptor limit raised from {} to {}", before, limit.rlim_cur);
  }
}

int main(int argc, char** argv) {
  CLI::App app{"sipgw: SIP ingress gateway for pay-per-call traffic"};
  const char* env_db = std::getenv("SIPGW_DB");
  std::string db_path = env_db && *env_db ? env_db : "./sipgw.db";
  std::vector<std::string> listen;
  std::string metrics_address, public_address, log_level = "info", api_token_file;
  int drain_timeout = 30, poll_ms = 250;
  app.add_option("--db", db_path, "SQLite database (default $SIPGW_DB, else ./sipgw.db)");
  app.add_option("--listen", listen, "udp:ADDR:PORT or tcp:ADDR:PORT (repeatable; default udp+tcp 127.0.0.1:5060)");
  app.add_option("--metrics", metrics_address, "ADDR:PORT serving /metrics (Prometheus) and /healthz");
  app.add_option("--api-token-file", api_token_file,
                 "file holding the bearer token of the call outcome API (POST /v1/calls/KEY/convert|reject on "
                 "the --metrics address); without it the API is off");
  app.add_option("--public-address", public_address, "host[:port] toward buyers in From and Contact");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  app.add_option("--drain-timeout", drain_timeout, "seconds calls may run on after SIGTERM (default 30)")
      ->check(CLI::Range(0, 86400));
  app.add_option("--poll-interval-ms", poll_ms, "how often provisioning changes are checked (default 250)")
      ->check(CLI::Range(10, 500));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "sipgw: " << e.what() << "\n";
    return 1;
  }
  setup_logging(log_level);
  raise_descriptor_limit();

  std::string api_token;
  if (!api_token_file.empty()) {
    auto token = read_api_token(api_token_file);
    if (!token) {
      std::cerr << "sipgw: " << token.error() << "\n";
      return 1;
    }
    api_token = *token;
  }
  auto plan = gateway::plan_listen(listen, public_address);
  if (!plan) {
    std::cerr << "sipgw: " << plan.error() << "\n";
    return 1;
  }
  auto db = db::Connection::open(db_path, db::Connection::Mode::read_write_create);
  if (!db) {
    std::cerr << "sipgw: " << db.error().message << "\n";
    return 2;
  }
  if (auto applied = db::migrate(*db); !applied) {
    std::cerr << "sipgw: " << applied.error().message << "\n";
    return 2;
  }
  if (auto closed = db::close_unfinished_calls(*db); !closed) {
    std::cerr << "sipgw: cannot close the call records of a previous run: " << closed.error().message << "\n";
    return 2;
  } else if (*closed > 0) {
    spdlog::warn("{} call(s) were in progress when the previous sipgw stopped: recorded as gateway_restart", *closed);
  }
  auto snapshot = db::load_snapshot(*db, 1);
  if (!snapshot) {
    std::cerr << "sipgw: cannot load provisioning: " << snapshot.error().message << "\n";
    return 2;
  }
  asio::io_context io;
  // Before the SIP thread answers anything: from here on a SIGTERM is
  // queued for the drain below instead of killing the process outright
  // (a supervisor or test may stop sipgw the moment it answers OPTIONS).
  asio::signal_set signals(io, SIGTERM, SIGINT);
  gateway::Metrics metrics(SIPGW_VERSION);
  metrics.provisioning_loaded(1);
  gateway::PostbackSender postbacks(io, *db, metrics, postback_options((*snapshot)->settings));
  gateway::CdrQueue cdrs(io, *db, metrics, [&postbacks] { postbacks.kick(); });
  gateway::SipServerConfig config{plan->addresses};
  gateway::ProvisioningWatcher* watcher_ptr = nullptr;  // set before io.run()
  gateway::SipServer* sip_ptr = nullptr;                  // likewise
  // The SIP thread hands finished calls and its own bans over by value;
  // never a Sofia pointer. A ban is stored, then a snapshot with it loaded.
  gateway::SipServer sip(
      config, *snapshot,
      [&io, &cdrs](db::CallRecord record) {
        asio::post(io, [&cdrs, record = std::move(record)]() mutable { cdrs.push(std::move(record)); });
      },
      [&io, &db, &watcher_ptr, &sip_ptr](gateway::AutoBan ban) {
        asio::post(io, [&db, &watcher_ptr, &sip_ptr, ban] {
          db::Admin admin(*db);
          if (auto stored = admin.record_auto_ban(auth::to_string(ban.cidr), ban.created_at_ms, ban.expires_at_ms, ban.note); !stored) {
            spdlog::error("cannot store the ban of {}: {}", auth::to_string(ban.cidr), stored.error().message);
            return;
          }
          // Only a snapshot read after this moment may lift it (an admin's
          // removal): under load the write can come seconds after the ban.
          const auto stored_at = std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch()).count();
          if (sip_ptr) sip_ptr->ban_stored(ban, stored_at);
          if (watcher_ptr) watcher_ptr->reload();
        });
      },
      metrics);
  // Two days back covers "today" in every time zone.
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  // and the longest repeat-caller window.
  std::int64_t since_ms = now_ms - 48LL * 3600 * 1000;
  for (const auto& [id, campaign] : (*snapshot)->campaigns) {
    if (campaign.screening.repeat_window_seconds) {
      since_ms = std::min(since_ms, now_ms - *campaign.screening.repeat_window_seconds * 1000);
    }
  }
  auto recent = db::load_recent_calls(*db, since_ms);
  if (!recent) {
    std::cerr << "sipgw: cannot read call records for caps and repeat callers: " << recent.error().message << "\n";
    return 2;
  }
  sip.restore_calls(std::move(*recent));
  if (auto started = sip.start(); !started) {
    std::cerr << "sipgw: " << started.error() << "\n";
    return 2;
  }
  for (auto& address : plan->addresses) {
    for (auto& url : address.bind_urls) spdlog::info("listening on {}", url);
  }
  spdlog::info("serving {} domain(s), {} number(s) from {}", (*snapshot)->domains.size(), (*snapshot)->numbers.size(),
               db_path);

  gateway::ProvisioningWatcher watcher(io, *db, sip, metrics, std::chrono::milliseconds(poll_ms), 1);
  watcher.on_loaded([&postbacks](const routing::Snapshot& s) { postbacks.set_options(postback_options(s.settings)); });
  watcher.start();
  watcher_ptr = &watcher;
  postbacks.start();
  sip_ptr = &sip;

  // Health: the SIP thread proves it is turning by running a heartbeat job
  // posted through its inbox; the database must answer; draining is unhealthy
  // so load balancers stop sending new calls.
  std::atomic<std::int64_t> last_heartbeat{std::chrono::steady_clock::now().time_since_epoch().count()};
  std::atomic<bool> draining{false};
  asio::steady_timer heartbeat(io);
  std::function<void()> beat = [&] {
    sip.post([&last_heartbeat] { last_heartbeat = std::chrono::steady_clock::now().time_since_epoch().count(); });
    heartbeat.expires_after(500ms);
    heartbeat.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) beat();
    });
  };
  beat();
  // POST /v1/calls/{postback key}/convert | /reject, with the bearer token:
  // a buyer's system reports an outcome; recorded on the CDR and emitted as
  // an event (once: a repeated report answers the first one's time).
  static const std::regex kOutcomePath("^/v1/calls/([0-9a-f]{32})/(convert|reject)$");
  auto outcome_api = [&](const gateway::HttpRequest& request) -> gateway::HttpResponse {
    if (api_token.empty()) return {404, "text/plain", "not found\n"};
    const std::string expected = "Bearer " + api_token;
    if (!auth::constant_time_equal(expected, request.authorization)) {
      return {401, "application/json", "{\"error\":\"unauthorized\"}\n", "Bearer realm=\"sipgw\""};
    }
    std::smatch m;
    if (!std::regex_match(request.path, m, kOutcomePath)) return {404, "application/json", "{\"error\":\"not found\"}\n"};
    if (request.method != "POST") return {405, "application/json", "{\"error\":\"POST only\"}\n"};
    const std::string key = m[1], event = m[2] == "convert" ? "converted" : "rejected";
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
    auto reported = db::report_outcome(*db, key, event, now, gateway::new_call_uuid());
    if (!reported) {
      spdlog::error("call outcome API: {}", reported.error().message);
      return {503, "application/json", "{\"error\":\"database unavailable\"}\n"};
    }
    if (!*reported) return {404, "application/json", "{\"error\":\"no call with this key\"}\n"};
    const auto& r = **reported;
    if (r.first) {
      spdlog::info("call {} {} through the API", r.call_uuid, event);
      if (event == "converted") {
        metrics.call_converted();
        sip.call_converted(key, r.campaign_id, r.caller, r.at_ms);
      }
      postbacks.kick();
    }
    return {200, "application/json",
            fmt::format("{{\"call_uuid\":\"{}\",\"event\":\"{}\",\"at_ms\":{},\"first\":{}}}\n", r.call_uuid, event,
                        r.at_ms, r.first ? "true" : "false")};
  };
  std::unique_ptr<gateway::HttpServer> http;
  if (!metrics_address.empty()) {
    auto colon = metrics_address.rfind(':');
    std::string host = colon == std::string::npos ? "127.0.0.1" : metrics_address.substr(0, colon);
    if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
    int port = std::atoi(metrics_address.substr(colon == std::string::npos ? 0 : colon + 1).c_str());
    try {
      http = std::make_unique<gateway::HttpServer>(io, host, static_cast<unsigned short>(port), [&](const gateway::HttpRequest& request) {
        const std::string& path = request.path;
        if (path.starts_with("/v1/")) return outcome_api(request);
        if (request.method != "GET" && request.method != "HEAD") {
          return gateway::HttpResponse{405, "text/plain", "GET only\n"};
        }
        if (path == "/metrics") {
          return gateway::HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", metrics.serialize()};
        }
        if (path == "/healthz") {
          auto age = std::chrono::steady_clock::now().time_since_epoch().count() - last_heartbeat.load();
          bool sip_ok = std::chrono::steady_clock::duration(age) < 3s;
          bool db_ok = db->query_int("SELECT 1").has_value();
          if (draining) return gateway::HttpResponse{503, "text/plain", "draining\n"};
          if (!sip_ok) return gateway::HttpResponse{503, "text/plain", "SIP thread not responding\n"};
          if (!db_ok) return gateway::HttpResponse{503, "text/plain", "database not readable\n"};
          return gateway::HttpResponse{200, "text/plain", "ok\n"};
        }
        return gateway::HttpResponse{404, "text/plain", "not found\n"};
      });
    } catch (const std::exception& e) {
      std::cerr << "sipgw: cannot serve metrics on " << metrics_address << ": " << e.what() << "\n";
      sip.drain(0ms, [] {});
      sip.join();
      return 2;
    }
    spdlog::info("metrics on http://{}/metrics, health on /healthz", metrics_address);
  }

  bool stopping = false;
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec || stopping) return;
    stopping = true;
    draining = true;
    spdlog::info("signal {}: draining (up to {} s)", signal, drain_timeout);
    sip.drain(std::chrono::seconds(drain_timeout), [&io] { asio::post(io, [&io] { io.stop(); }); });
  });
  // Keeps io.run() alive until the SIP thread reports it stopped.
  auto guard = asio::make_work_guard(io);
  io.run();
  watcher.stop();
  postbacks.stop();
  heartbeat.cancel();
  if (http) http->stop();
  sip.join();
  io.restart();
  io.poll();  // CDRs posted by the last calls
  for (int attempt = 0; attempt < 50 && !cdrs.flush(); ++attempt) std::this_thread::sleep_for(100ms);
  spdlog::info("stopped; {} CDR(s) unwritten", cdrs.depth());
  spdlog::shutdown();
  return cdrs.depth() == 0 ? 0 : 2;
}
