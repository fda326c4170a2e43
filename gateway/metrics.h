// sipgw's Prometheus metrics (names and labels are the contract of
// ../shared/design.md). Labels stay bounded: domains and buyers are
// provisioned names (an unknown domain is "unknown"), methods come from a
// fixed list, results and reasons are fixed words; never a number, caller
// or address.
//
// The SIP-thread methods cache each label child in a map only that thread
// touches, so a call costs atomic increments and no registry lock.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace sipgw::gateway {

class Metrics {
 public:
  explicit Metrics(const std::string& version);

  // ---- SIP thread ----
  void request_received(std::string_view method);
  void invite(const std::string& domain, std::string_view result);  // admitted | challenged | rejected | draining
  void auth_failure(const std::string& domain, std::string_view reason);
  void call_started();
  void call_ended(std::string_view outcome);  // answered | busy | no_answer | cancelled | failed
  // Why calls end: the CDR's hangup_cause (BYE, CANCEL, terminated, drain,
  // no_buyer, connect_timeout, ring_timeout, buyer_status, cancelled,
  // max_duration, max_setup, session_expired).
  void call_ended_cause(std::string_view cause);
  void buyer_attempt(const std::string& buyer, std::string_view result);
  void buyer_call_started(const std::string& buyer);
  void buyer_call_ended(const std::string& buyer);
  // The buyer's concurrency cap from provisioning (0 when it has none), so
  // an alert can compare it with sipgw_buyer_calls_active.
  void buyer_concurrency_cap(const std::string& buyer, std::int64_t cap);
  // RFC 4028 refreshes: "sent" (ours, answered 2xx), "failed" (ours,
  // refused or timed out), "received" (a peer's, answered by sipgw).
  void session_refresh(std::string_view result);
  // Requests refused before admission, by cause ("banned").
  void request_refused(std::string_view cause);
  void auto_ban();                         // sipgw banned a source itself
  // The kernel's drop count at the SIP sockets (banned sources, full
  // buffers), as read now: the counter follows it.
  void kernel_drops(std::uint64_t total);
  void tcp_connections(std::size_t count);  // accepted SIP connections open now
  void bans_active(std::size_t count);     // bans in force (admins' and sipgw's)
  void refusal_surge(bool shedding);       // 1 while transactions are kept short (gateway/refusal_surge.h)
  // The SIP thread's load (gateway/overload.h): how late its 10 ms
  // heartbeat fired, how long the oldest datagram waited in the kernel's
  // receive queue at that moment, and 1 while new calls are refused.
  void loop_lag(double seconds);
  void queue_wait(double seconds);
  void overload(bool shedding);
  void invite_drops(double fraction);  // the share of new INVITEs the kernel drops (0 unless dropping)
  // A call screened out before any buyer (routing/screening.h's reasons).
  void call_screened(std::string_view reason);
  void call_converted();  // a connected call reached its conversion time
  // ---- Asio thread: postbacks ----
  // One delivery try: sent (2xx), retrying (failed, tried again later) or
  // failed (for good: the dead letter).
  void postback(std::string_view event, std::string_view result);
  void postback_latency(double seconds);  // event stored to delivered
  void outbox_depth(std::int64_t pending);
  void call_setup(double seconds);       // INVITE in to 200 out
  void post_dial_delay(double seconds);  // INVITE in to first 18x out

  // ---- Asio thread ----
  void provisioning_loaded(std::uint64_t generation);
  void cdr_queue_depth(std::size_t depth);

  // Any thread: the Prometheus text exposition of every metric.
  std::string serialize() const;

 private:
  template <class Metric>
  Metric& child(prometheus::Family<Metric>& family, std::map<std::string, Metric*>& cache, const std::string& key,
                const prometheus::Labels& labels);

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& sip_requests_;
  prometheus::Family<prometheus::Counter>& invites_;
  prometheus::Family<prometheus::Counter>& auth_failures_;
  prometheus::Gauge& calls_active_;
  prometheus::Family<prometheus::Counter>& calls_;
  prometheus::Family<prometheus::Counter>& calls_ended_;
  prometheus::Family<prometheus::Counter>& buyer_attempts_;
  prometheus::Family<prometheus::Gauge>& buyer_calls_active_;
  prometheus::Family<prometheus::Gauge>& buyer_cap_;
  prometheus::Family<prometheus::Counter>& session_refreshes_;
  prometheus::Family<prometheus::Counter>& requests_refused_;
  prometheus::Family<prometheus::Counter>& calls_screened_;
  prometheus::Counter& calls_converted_;
  prometheus::Family<prometheus::Counter>& postbacks_;
  prometheus::Histogram& postback_latency_;
  prometheus::Gauge& outbox_depth_;
  std::map<std::string, prometheus::Counter*> postback_cache_;  // Asio thread only
  prometheus::Counter& auto_bans_;
  prometheus::Counter& kernel_drops_;
  prometheus::Gauge& tcp_connections_;
  std::uint64_t kernel_drops_seen_ = 0;
  prometheus::Gauge& bans_active_;
  prometheus::Gauge& refusal_surge_;
  prometheus::Histogram& loop_lag_;
  prometheus::Histogram& queue_wait_;
  prometheus::Gauge& overload_;
  prometheus::Gauge& invite_drops_;
  prometheus::Histogram& call_setup_;
  prometheus::Histogram& post_dial_delay_;
  prometheus::Gauge& generation_;
  prometheus::Counter& reloads_;
  prometheus::Gauge& cdr_queue_depth_;

  // SIP-thread caches, keyed by the joined label values.
  std::map<std::string, prometheus::Counter*> sip_request_cache_, invite_cache_, auth_failure_cache_, call_cache_,
      call_ended_cache_, buyer_attempt_cache_, session_refresh_cache_,
      refused_cache_, screened_cache_;
  std::map<std::string, prometheus::Gauge*> buyer_active_cache_, buyer_cap_cache_;
};

}  // namespace sipgw::gateway
