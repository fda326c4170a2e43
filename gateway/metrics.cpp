#include "gateway/metrics.h"

#include <prometheus/text_serializer.h>

#include <array>

namespace sipgw::gateway {

namespace {

// Setup times from 1 ms to 30 s.
const prometheus::Histogram::BucketBoundaries kSetupBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                               0.5,   1,      2.5,   5,    10,    20,   30};

// Lateness and waits from 0.5 ms (the heartbeat's resolution) to 10 s.
const prometheus::Histogram::BucketBoundaries kLagBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                             0.1,    0.25,  0.5,    1,     2.5,  5,     10};

std::string bounded_method(std::string_view method) {
  static constexpr std::array kMethods = {"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "INFO", "UPDATE", "PRACK"};
  for (const char* m : kMethods) {
    if (method == m) return m;
  }
  return "other";
}

}  // namespace

Metrics::Metrics(const std::string& version)
    : registry_(std::make_shared<prometheus::Registry>()),
      sip_requests_(prometheus::BuildCounter().Name("sipgw_sip_requests_total").Help("SIP requests received, by method").Register(*registry_)),
      invites_(prometheus::BuildCounter().Name("sipgw_invites_total").Help("Initial INVITEs by domain and result").Register(*registry_)),
      auth_failures_(prometheus::BuildCounter().Name("sipgw_auth_failures_total").Help("Refused publisher authentication, by domain and reason").Register(*registry_)),
      calls_active_(prometheus::BuildGauge().Name("sipgw_calls_active").Help("Calls in progress").Register(*registry_).Add({})),
      calls_(prometheus::BuildCounter().Name("sipgw_calls_total").Help("Finished calls by outcome").Register(*registry_)),
      calls_ended_(prometheus::BuildCounter()
                       .Name("sipgw_calls_ended_total")
                       .Help("Finished calls by why they ended (the CDR's hangup cause)")
                       .Register(*registry_)),
      buyer_attempts_(prometheus::BuildCounter().Name("sipgw_buyer_attempts_total").Help("Buyer attempts by buyer and result").Register(*registry_)),
      buyer_calls_active_(prometheus::BuildGauge().Name("sipgw_buyer_calls_active").Help("Calls ringing or connected at each buyer").Register(*registry_)),
      buyer_cap_(prometheus::BuildGauge().Name("sipgw_buyer_concurrency_cap").Help("Concurrency cap of each buyer (0: none)").Register(*registry_)),
      session_refreshes_(prometheus::BuildCounter()
                             .Name("sipgw_session_refreshes_total")
                             .Help("RFC 4028 session refreshes: sent and failed by sipgw, received from peers")
                             .Register(*registry_)),
      requests_refused_(prometheus::BuildCounter()
                            .Name("sipgw_requests_refused_total")
                            .Help("Requests refused before admission, by cause")
                            .Register(*registry_)),
      calls_screened_(prometheus::BuildCounter()
                          .Name("sipgw_calls_screened_total")
                          .Help("Calls refused by screening before any buyer was dialled, by reason")
                          .Register(*registry_)),
      calls_converted_(prometheus::BuildCounter()
                           .Name("sipgw_calls_converted_total")
                           .Help("Calls connected to a buyer for their conversion time")
                           .Register(*registry_)
                           .Add({})),
      postbacks_(prometheus::BuildCounter()
                     .Name("sipgw_postbacks_total")
                     .Help("Postback delivery tries by event and result (sent, retrying, failed)")
                     .Register(*registry_)),
      postback_latency_(prometheus::BuildHistogram()
                            .Name("sipgw_postback_delivery_seconds")
                            .Help("From an event stored to its postback delivered")
                            .Register(*registry_)
                            .Add({}, prometheus::Histogram::BucketBoundaries{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600})),
      outbox_depth_(prometheus::BuildGauge()
                        .Name("sipgw_postback_outbox_depth")
                        .Help("Postback deliveries waiting in the outbox")
                        .Register(*registry_)
                        .Add({})),
      auto_bans_(prometheus::BuildCounter()
                     .Name("sipgw_auto_bans_total")
                     .Help("Sources sipgw banned itself: repeated authentication failures or a request flood")
                     .Register(*registry_)
                     .Add({})),
      kernel_drops_(prometheus::BuildCounter()
                        .Name("sipgw_packets_dropped_total")
                        .Help("Packets the kernel dropped at sipgw's SIP sockets: banned sources (security.ban_response drop) and full receive buffers")
                        .Register(*registry_)
                        .Add({})),
      tcp_connections_(prometheus::BuildGauge()
                           .Name("sipgw_tcp_connections")
                           .Help("Accepted SIP TCP connections open (counted every 2 s)")
                           .Register(*registry_)
                           .Add({})),
      bans_active_(prometheus::BuildGauge().Name("sipgw_bans_active").Help("Bans in force").Register(*registry_).Add({})),
      refusal_surge_(prometheus::BuildGauge()
                         .Name("sipgw_refusal_surge")
                         .Help("1 while refusals of new requests surge and SIP transactions are kept 4 s instead of 32 s")
                         .Register(*registry_)
                         .Add({})),
      loop_lag_(prometheus::BuildHistogram()
                    .Name("sipgw_sip_loop_lag_seconds")
                    .Help("How late the SIP thread's 10 ms heartbeat fired (time it spent on other work)")
                    .Register(*registry_)
                    .Add({}, kLagBuckets)),
      queue_wait_(prometheus::BuildHistogram()
                      .Name("sipgw_sip_queue_wait_seconds")
                      .Help("Wait of the oldest datagram in the SIP UDP receive queues, sampled every heartbeat")
                      .Register(*registry_)
                      .Add({}, kLagBuckets)),
      overload_(prometheus::BuildGauge()
                    .Name("sipgw_overload")
                    .Help("1 while new calls are refused with 503 because the SIP thread is behind (sip.overload_wait)")
                    .Register(*registry_)
                    .Add({})),
      invite_drops_(prometheus::BuildGauge()
                        .Name("sipgw_overload_invite_drop_ratio")
                        .Help("Share of new calls' INVITEs over UDP the kernel drops because refusing them is not enough")
                        .Register(*registry_)
                        .Add({})),
      call_setup_(prometheus::BuildHistogram().Name("sipgw_call_setup_seconds").Help("INVITE received to 200 sent").Register(*registry_).Add({}, kSetupBuckets)),
      post_dial_delay_(prometheus::BuildHistogram().Name("sipgw_post_dial_delay_seconds").Help("INVITE received to first 18x sent").Register(*registry_).Add({}, kSetupBuckets)),
      generation_(prometheus::BuildGauge().Name("sipgw_provisioning_generation").Help("Generation of the provisioning snapshot in use").Register(*registry_).Add({})),
      reloads_(prometheus::BuildCounter().Name("sipgw_provisioning_reloads_total").Help("Provisioning snapshots loaded after a database change").Register(*registry_).Add({})),
      cdr_queue_depth_(prometheus::BuildGauge().Name("sipgw_cdr_queue_depth").Help("Call records waiting to be written").Register(*registry_).Add({})) {
  // At 0 from the start, so a rate() alert on failures has a series.
  for (const std::string result : {"sent", "failed", "received"}) {
    child(session_refreshes_, session_refresh_cache_, result, {{"result", result}});
  }
  prometheus::BuildGauge().Name("sipgw_build_info").Help("sipgw build").Register(*registry_).Add({{"version", version}}).Set(1);
}

template <class Metric>
Metric& Metrics::child(prometheus::Family<Metric>& family, std::map<std::string, Metric*>& cache, const std::string& key,
                       const prometheus::Labels& labels) {
  auto it = cache.find(key);
  if (it != cache.end()) return *it->second;
  Metric& m = family.Add(labels);
  cache.emplace(key, &m);
  return m;
}

void Metrics::request_received(std::string_view method) {
  auto m = bounded_method(method);
  child(sip_requests_, sip_request_cache_, m, {{"method", m}}).Increment();
}

void Metrics::invite(const std::string& domain, std::string_view result) {
  std::string r(result);
  child(invites_, invite_cache_, domain + '\0' + r, {{"domain", domain}, {"result", r}}).Increment();
}

void Metrics::auth_failure(const std::string& domain, std::string_view reason) {
  std::string r(reason);
  child(auth_failures_, auth_failure_cache_, domain + '\0' + r, {{"domain", domain}, {"reason", r}}).Increment();
}

void Metrics::call_started() { calls_active_.Increment(); }

void Metrics::call_ended(std::string_view outcome) {
  calls_active_.Decrement();
  std::string o(outcome);
  child(calls_, call_cache_, o, {{"outcome", o}}).Increment();
}

void Metrics::call_ended_cause(std::string_view cause) {
  std::string c(cause);
  child(calls_ended_, call_ended_cache_, c, {{"cause", c}}).Increment();
}

void Metrics::buyer_attempt(const std::string& buyer, std::string_view result) {
  std::string r(result);
  child(buyer_attempts_, buyer_attempt_cache_, buyer + '\0' + r, {{"buyer", buyer}, {"result", r}}).Increment();
}

void Metrics::buyer_call_started(const std::string& buyer) {
  child(buyer_calls_active_, buyer_active_cache_, buyer, {{"buyer", buyer}}).Increment();
}

void Metrics::buyer_call_ended(const std::string& buyer) {
  child(buyer_calls_active_, buyer_active_cache_, buyer, {{"buyer", buyer}}).Decrement();
}

void Metrics::buyer_concurrency_cap(const std::string& buyer, std::int64_t cap) {
  child(buyer_cap_, buyer_cap_cache_, buyer, {{"buyer", buyer}}).Set(static_cast<double>(cap));
}

void Metrics::session_refresh(std::string_view result) {
  std::string r(result);
  child(session_refreshes_, session_refresh_cache_, r, {{"result", r}}).Increment();
}

void Metrics::request_refused(std::string_view cause) {
  std::string c(cause);
  child(requests_refused_, refused_cache_, c, {{"cause", c}}).Increment();
}

void Metrics::call_screened(std::string_view reason) {
  std::string r(reason);
  child(calls_screened_, screened_cache_, r, {{"reason", r}}).Increment();
}

void Metrics::call_converted() { calls_converted_.Increment(); }

void Metrics::postback(std::string_view event, std::string_view result) {
  std::string e(event), r(result);
  child(postbacks_, postback_cache_, e + '\0' + r, {{"event", e}, {"result", r}}).Increment();
}

void Metrics::postback_latency(double seconds) { postback_latency_.Observe(seconds); }
void Metrics::outbox_depth(std::int64_t pending) { outbox_depth_.Set(static_cast<double>(pending)); }

void Metrics::auto_ban() { auto_bans_.Increment(); }
void Metrics::tcp_connections(std::size_t count) { tcp_connections_.Set(static_cast<double>(count)); }
void Metrics::kernel_drops(std::uint64_t total) {
  if (total > kernel_drops_seen_) kernel_drops_.Increment(static_cast<double>(total - kernel_drops_seen_));
  kernel_drops_seen_ = total;
}
void Metrics::bans_active(std::size_t count) { bans_active_.Set(static_cast<double>(count)); }
void Metrics::refusal_surge(bool shedding) { refusal_surge_.Set(shedding ? 1 : 0); }

void Metrics::loop_lag(double seconds) { loop_lag_.Observe(seconds); }
void Metrics::queue_wait(double seconds) { queue_wait_.Observe(seconds); }
void Metrics::overload(bool shedding) { overload_.Set(shedding ? 1 : 0); }
void Metrics::invite_drops(double fraction) { invite_drops_.Set(fraction); }

void Metrics::call_setup(double seconds) { call_setup_.Observe(seconds); }
void Metrics::post_dial_delay(double seconds) { post_dial_delay_.Observe(seconds); }

void Metrics::provisioning_loaded(std::uint64_t generation) {
  generation_.Set(static_cast<double>(generation));
  if (generation > 1) reloads_.Increment();
}

void Metrics::cdr_queue_depth(std::size_t depth) { cdr_queue_depth_.Set(static_cast<double>(depth)); }

std::string Metrics::serialize() const { return prometheus::TextSerializer().Serialize(registry_->Collect()); }

}  // namespace sipgw::gateway
