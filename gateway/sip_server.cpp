#include "gateway/sip_server.h"

#include "auth/text.h"
#include "gateway/admission.h"
#include "gateway/call_registry.h"
#include "gateway/drop_filter.h"
#include "gateway/refusal_surge.h"
#include "gateway/log_limiter.h"
#include "gateway/metrics.h"
#include "gateway/overload.h"
#include "gateway/receive_queue.h"
#include "gateway/rate_limiter.h"
#include "gateway/sip_pump.h"
#include "routing/tokens.h"

#include <spdlog/spdlog.h>

#include <malloc.h>
#include <unistd.h>

#include <cstdio>

#include <algorithm>
#include <charconv>
#include <future>

namespace sipgw::gateway {

namespace {

constexpr std::size_t kMaxWireText = 128;  // bytes of a caller or sub id kept from the INVITE
constexpr std::size_t kMaxIdentity = 4096;  // bytes of an Identity header (a PASSporT is a few hundred)
constexpr std::size_t kMaxPassedHeader = 1024;  // bytes of one Diversion, History-Info, ... passed to buyers

// A display name for buyers' From and P-Asserted-Identity: printable text,
// no quote or backslash (it goes inside quotes), at most 64 bytes.
std::string caller_display_name(std::string_view raw) {
  std::string name = routing::text_from_wire(raw, 64);
  std::erase_if(name, [](char c) { return c == '"' || c == '\\'; });
  return name;
}

std::vector<std::uint16_t> listen_ports(const std::vector<ListenAddress>& listen) {
  std::vector<std::uint16_t> ports;
  for (const auto& address : listen) {
    std::uint16_t port = 0;
    auto [end, ec] = std::from_chars(address.port.data(), address.port.data() + address.port.size(), port);
    if (ec == std::errc{} && end == address.port.data() + address.port.size() && port != 0) ports.push_back(port);
  }
  return ports;
}

// Monotonic milliseconds (the overload guard's clock: wall time may jump).
std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Resident memory of this process in bytes (0 when /proc cannot tell).
std::size_t resident_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long size = 0, resident = 0;
  const int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE)) : 0;
}

RatePolicy rate_policy(const routing::Settings& s) {
  return {static_cast<std::uint32_t>(s.request_rate), static_cast<std::uint32_t>(s.new_request_rate)};
}

StackSettings stack_settings(const routing::Settings& settings, std::chrono::milliseconds transaction_lifetime) {
  return {{static_cast<unsigned>(settings.session_expires_seconds), static_cast<unsigned>(settings.session_min_se_seconds)},
          settings.user_agent,
          static_cast<unsigned>(settings.tcp_idle_seconds * 1000),
          static_cast<unsigned>(settings.tcp_message_timeout_seconds * 1000),
          static_cast<unsigned>(settings.max_message_size),
          static_cast<unsigned>(transaction_lifetime.count())};
}

}  // namespace

struct SipServer::Impl final : SipPumpHandler {
  Impl(SipServerConfig c, std::shared_ptr<const routing::Snapshot> s, CdrSink sink, BanSink bans, Metrics& m)
      : metrics(m), config(std::move(c)), snapshot(std::move(s)), pump(config.listen, inbox, *this),
        recorder(m, std::move(sink),
                 [this](std::string_view event) {
                   const auto& events = snapshot->postback_events;
                   return std::find(events.begin(), events.end(), event) != events.end();
                 }),
        ban_sink(std::move(bans)), drop_filter(listen_ports(config.listen)) {
    for (const auto& address : config.listen) {
      for (const auto& url : address.bind_urls) listens_on_tcp |= url.find("transport=tcp") != std::string::npos;
    }
  }

  Metrics& metrics;
  SipServerConfig config;
  std::shared_ptr<const routing::Snapshot> snapshot;  // new calls take this generation
  Inbox inbox;
  SipPump pump;
  CallRecorder recorder;
  BanSink ban_sink;
  SourceGuard guard;
  SourceRateLimiter rate_limiter;
  RefusalSurge surge{static_cast<std::uint32_t>(snapshot->settings.surge_refusals)};
  std::int64_t last_trim_ms = 0;
  std::size_t residue_after_trim = 0;  // resident bytes beyond the heap in use, right after the last trim
  std::size_t in_use_at_trim = 0;      // the heap in use then
  std::uint64_t requests_seen = 0;     // every request received (the tick's measure of traffic)
  std::uint64_t requests_at_tick = 0;
  std::uint64_t busiest_tick = 0;      // most requests in one tick since the last trim
  OverloadGuard overload{std::chrono::milliseconds(snapshot->settings.overload_wait_ms)};
  ReceiveQueueProbe receive_queue;
  std::optional<Timer> heartbeat_timer;
  std::chrono::steady_clock::time_point heartbeat_due;
  DropFilter drop_filter;
  bool drop_filter_failed = false;  // logged once
  bool invite_drops_failed = false;  // logged once
  bool listens_on_tcp = false;
  LogLimiter refusal_log{20};  // "INVITE ... rejected" lines: a flood must not fill the disk
  std::optional<Timer> ban_gauge_timer;
  routing::BuyerLedger ledger;
  routing::BuyerSelector selector;
  routing::Screener screener{ledger};
  DigestState digest{auth::NonceIssuer::with_random_secret(), {}};
  std::optional<CallServices> services;  // once the pump is open (its clock)
  CallRegistry registry;
  std::uint64_t calls_admitted = 0;
  bool draining = false;
  bool shutting_down = false;
  std::optional<Timer> drain_timer;
  std::function<void()> on_stopped;

  void run(std::promise<std::expected<void, std::string>>& started);

  // SipPumpHandler
  std::optional<Refusal> on_request(std::string_view method, const auth::IpAddress& source, bool new_request,
                                    std::size_t headers) override;
  void on_session_refresh(SessionRefresh refresh) override { metrics.session_refresh(to_string(refresh)); }
  std::optional<Refusal> on_invite(IncomingInvite& invite,
                                   const std::function<std::unique_ptr<Leg>()>& accept) override;
  Refusal on_options(const std::string& request_host, const auth::IpAddress& source) override;
  void after_dispatch() override {
    registry.collect();
    maybe_shut_down();
  }

  void begin_drain(std::chrono::milliseconds timeout);
  void count_failed_authentication(const auth::IpAddress& source, std::int64_t now_ms);
  void publish_bans();
  void drop_new_invites(double fraction);
  void refused_new_request();
  void surge_changed();
  void give_back_memory(std::int64_t now_ms);
  StackSettings current_stack_settings() const {
    return stack_settings(snapshot->settings, std::min(surge.transaction_lifetime(),
                                                       std::chrono::milliseconds(snapshot->settings.transaction_lifetime_ms)));
  }
  void tick();
  void heartbeat();
  void police_connections();
  void ban(const AutoBan& ban);
  void flood_ban(const auth::IpAddress& source, const char* note);
  bool rate_exempt(const auth::IpAddress& source) const;
  void maybe_shut_down();
  void publish_buyer_caps();
  // The nonce secrets of the snapshot (shared by the deployment's gateways)
  // sign and verify from now on; none provisioned: the random one of this
  // process, as before.
  void apply_nonce_secrets();
  std::vector<std::string> applied_nonce_secrets;  // what the issuer holds, as provisioned
  // Screening (routing/screening.h) of an admitted INVITE: the refusal to
  // send, or nullopt with the call's facts completed from the INVITE.
  std::optional<Refusal> screen(const IncomingInvite& invite, const Admitted& admitted, const routing::Snapshot& snap,
                                CallSetup& setup);
};

void SipServer::Impl::run(std::promise<std::expected<void, std::string>>& started) {
  if (auto opened = pump.open(current_stack_settings()); !opened) {
    started.set_value(std::unexpected(opened.error()));
    return;
  }
  services.emplace(CallServices{pump.clock(), ledger, selector, screener, metrics, recorder,
                                [this](const std::string& uri) { return pump.make_buyer_leg(uri); },
                                [this](const std::string& uri) { return pump.from_host(uri); }});
  publish_buyer_caps();
  apply_nonce_secrets();
  // Linux reports twice what it granted (half is its own bookkeeping).
  if (const std::size_t granted = drop_filter.udp_receive_buffer() / 2; granted > 0 && granted < (4u << 20)) {
    spdlog::warn("the SIP UDP receive buffer is {} KB (net.core.rmem_max caps it): bursts may be dropped by the "
                 "kernel (sipgw_packets_dropped_total); deploy/sysctl/90-sipgw.conf raises it",
                 granted / 1024);
  }
  ban_gauge_timer.emplace(pump.clock());
  tick();
  receive_queue.watch(drop_filter.udp_sockets());
  heartbeat_timer.emplace(pump.clock());
  heartbeat();
  started.set_value({});
  pump.run();
  // Legs and timers go before the stacks and the clock they use.
  registry.clear();
  drain_timer.reset();
  ban_gauge_timer.reset();
  heartbeat_timer.reset();
  pump.close();
  if (on_stopped) on_stopped();
}

// Sources that are never rate limited: a publisher's allowlisted address
// (its traffic is what sipgw is for) and the front ends that carry many
// publishers' traffic.
bool SipServer::Impl::rate_exempt(const auth::IpAddress& source) const {
  if (snapshot->publisher_for_source(source) != nullptr) return true;
  const auto& front_ends = snapshot->settings.front_end_addresses;
  return std::any_of(front_ends.begin(), front_ends.end(), [&](const auth::Cidr& c) { return auth::contains(c, source); });
}

std::optional<Refusal> SipServer::Impl::on_request(std::string_view method, const auth::IpAddress& source,
                                                   bool new_request, std::size_t headers) {
  metrics.request_received(method);
  ++requests_seen;
  const auto max_headers = static_cast<std::size_t>(snapshot->settings.max_headers);
  if (max_headers > 0 && headers > max_headers) {
    // Sofia already paid for parsing it (quadratic in the header count);
    // no real peer sends this many, so its source pays with a ban.
    metrics.request_refused("too_many_headers");
    if (!rate_exempt(source)) {
      spdlog::warn("banning {} for {} s: a {} with {} header fields (sip.max_headers {})", auth::to_string(source),
                   snapshot->settings.flood_ban_seconds, routing::text_from_wire(method, 16), headers, max_headers);
      flood_ban(source, "too many headers");
    }
    if (!new_request) return std::nullopt;
    refused_new_request();
    return Refusal{400, "Too Many Headers"};
  }
  if (new_request && method == "INVITE" &&
      !overload.admit_new_call(receive_queue.oldest_wait(), steady_ms())) {
    // Before any call state, and before the publisher's INVITE timer fires.
    metrics.request_refused("overload");
    metrics.overload(true);
    refused_new_request();
    return Refusal{503, "Service Unavailable", "Retry-After: 1"};
  }
  const RatePolicy policy = rate_policy(snapshot->settings);
  if (policy.requests_per_second == 0 && policy.new_requests_per_second == 0) return std::nullopt;
  if (rate_exempt(source)) return std::nullopt;
  const std::int64_t now = pump.clock().now_ms();
  const RateVerdict verdict = rate_limiter.admit(source, new_request, now, policy);
  if (verdict == RateVerdict::pass) return std::nullopt;
  metrics.request_refused(verdict == RateVerdict::flood ? "flood" : "rate_limited");
  if (verdict == RateVerdict::flood) {
    spdlog::warn("banning {} for {} s: over its request rate {} times within a second", auth::to_string(source),
                 snapshot->settings.flood_ban_seconds,
                 SourceRateLimiter::flood_line(new_request ? policy.new_requests_per_second : policy.requests_per_second));
    flood_ban(source, "request flood");
  }
  if (!new_request) return std::nullopt;  // counted, never refused: it belongs to a call
  refused_new_request();
  return Refusal{503, "Service Unavailable", "Retry-After: 1"};
}

Refusal SipServer::Impl::on_options(const std::string& host, const auth::IpAddress& source) {
  if (guard.banned(*snapshot, source, pump.clock().now_ms())) {
    metrics.request_refused("banned");
    refused_new_request();
    return {403, "Forbidden"};
  }
  // Probes from publishers name our domain; load balancers probe the box
  // by address.
  const bool ours = snapshot->find_domain(host) != nullptr || auth::parse_ip(host).has_value();
  if (!ours) {
    refused_new_request();
    return {403, "Forbidden"};  // as an INVITE to it: no hint of which domains exist
  }
  if (draining) return {503, "Service Unavailable (Draining)"};
  return {200, "OK"};
}

std::optional<Refusal> SipServer::Impl::on_invite(IncomingInvite& invite,
                                                  const std::function<std::unique_ptr<Leg>()>& accept) {
  auto snap = snapshot;  // the call keeps this generation
  InboundInvite& admission = invite.admission;
  admission.forwarded_source = invite.header(snap->settings.front_end_source_header);
  const std::int64_t now = pump.clock().now_ms();
  // A banned source hears what any refused caller hears, before anything
  // else is looked at.
  const auth::IpAddress address = publisher_address(*snap, admission);
  if (guard.banned(*snap, address, now)) {
    metrics.request_refused("banned");
    refused_new_request();
    return Refusal{403, "Forbidden"};
  }
  const Door door{draining, snap->settings.retry_after_seconds,
                  [this](const std::string& publisher_id) { return ledger.publisher_calls(publisher_id); }};
  Decision decision = admit(*snap, admission, digest, now / 1000, door);
  const routing::Domain* domain = snap->find_domain(admission.request_host);
  const std::string domain_label = domain ? domain->name : "unknown";  // bounded: provisioned names only

  if (auto* challenge = std::get_if<Challenge>(&decision)) {
    metrics.invite(domain_label, "challenged");
    refused_new_request();
    std::string headers;
    for (auto& value : challenge_headers(*challenge, digest, now / 1000)) {
      if (!headers.empty()) headers += "\r\n";
      headers += "Proxy-Authenticate: " + value;
    }
    return Refusal{407, "Proxy Authentication Required", std::move(headers)};
  }
  if (auto* rejected = std::get_if<Rejected>(&decision)) {
    const std::string_view reason = to_string(rejected->reason);
    refused_new_request();
    if (rejected->reason == RejectReason::draining) {
      metrics.invite("unknown", "draining");
    } else {
      metrics.invite(domain_label, "rejected");
    }
    if (is_auth_failure(rejected->reason)) metrics.auth_failure(domain_label, reason);
    if (rejected->reason == RejectReason::bad_credentials) {
      count_failed_authentication(address, now);
    }
    if (refusal_log.allow(now)) {
      spdlog::info("INVITE sip:{}@{} from {} rejected {} ({}{}{}){}", admission.request_user, admission.request_host,
                   auth::to_string(address), rejected->status, reason, rejected->detail.empty() ? "" : ": ",
                   rejected->detail,
                   refusal_log.suppressed() ? fmt::format(" [{} more refusals not logged]", refusal_log.suppressed()) : "");
    }
    return Refusal{rejected->status, rejected->phrase,
                   rejected->retry_after ? "Retry-After: " + std::to_string(*rejected->retry_after) : std::string()};
  }

  auto& admitted = std::get<Admitted>(decision);
  const std::string max_forwards = std::to_string(admission.max_forwards.value_or(70) - 1);
  CallSetup setup{snap, admitted.campaign, {}, std::move(invite.offer), max_forwards, now};
  auto& f = setup.facts;
  f.call_uuid = new_call_uuid();
  f.postback_key = new_postback_key();
  f.publisher_id = admitted.publisher_id;
  f.campaign_id = admitted.campaign->id;
  f.number = admitted.number->e164;
  f.sub_id = routing::text_from_wire(invite.header(snap->settings.inbound_sub_id_header), kMaxWireText);
  if (auto refusal = screen(invite, admitted, *snap, setup)) {
    metrics.invite(domain_label, "screened");
    return refusal;
  }
  spdlog::info("call {} INVITE {} from publisher {} ({}) campaign {}{}", f.call_uuid, f.number, f.publisher_id,
               auth::to_string(address), f.campaign_id,
               setup.only_buyer ? fmt::format(" (repeat caller: buyer {} only)", *setup.only_buyer) : std::string());
  metrics.invite(domain_label, "admitted");

  recorder.call_inbound(f, now);
  PublisherSlot slot(ledger, f.publisher_id);
  Call& call = registry.add(std::make_unique<Call>(*services, std::move(setup), accept(), std::move(slot),
                                                   [this](Call& ended) { registry.ended(ended); }));
  if (++calls_admitted % 1024 == 0) {
    ledger.prune(std::chrono::system_clock::now());
    screener.prune(*snap, now);
  }
  call.start();
  return std::nullopt;
}

std::optional<Refusal> SipServer::Impl::screen(const IncomingInvite& invite, const Admitted& admitted,
                                               const routing::Snapshot& snap, CallSetup& setup) {
  auto& f = setup.facts;
  const routing::Publisher& publisher = *snap.find_publisher(admitted.publisher_id);
  const std::string asserted = invite.header("P-Asserted-Identity");
  auth::CallerFacts caller_facts{invite.caller_user, std::nullopt, publisher.trust_asserted_identity, invite.privacy_id,
                                 invite.from_display};
  if (!asserted.empty()) caller_facts.asserted_identity = asserted;
  const auth::Caller caller = auth::identify_caller(caller_facts);
  // Into the CDR, the log and buyers' headers: valid, printable, bounded.
  f.caller_number = routing::text_from_wire(caller.number, kMaxWireText);
  // A PASSporT is a few hundred bytes; anything far larger is not one: it
  // is neither decoded (no attestation) nor passed on.
  const std::string identity = invite.header("Identity");
  const bool plausible_identity = identity.size() <= kMaxIdentity;
  const auth::Attestation attestation =
      plausible_identity ? auth::passport_attestation(identity) : auth::Attestation::none;
  f.attestation = std::string(auth::to_string(attestation));
  f.verstat = auth::verstat(caller.from_asserted_identity ? asserted : invite.from_uri);
  if (plausible_identity) f.identity = routing::text_from_wire(identity, kMaxIdentity);
  for (const auto& name : snap.settings.token_headers) {
    f.inbound_headers.emplace_back(name, routing::text_from_wire(invite.header(name), kMaxWireText));
  }
  f.caller_name = caller_display_name(caller.name);
  f.caller_private = invite.privacy_id;
  f.caller_known = auth::parse_caller_number(caller.number).has_value();
  for (const auto& name : snap.settings.pass_headers) {
    for (const auto& [n, value] : invite.extension_headers) {
      if (auth::iequals(n, name)) f.passed_headers.emplace_back(name, routing::text_from_wire(value, kMaxPassedHeader));
    }
  }

  const std::int64_t now = setup.invite_at_ms;
  auto verdict = screener.screen({snap, publisher, *admitted.campaign, caller, attestation, now});
  if (auto* cleared = std::get_if<routing::Cleared>(&verdict)) {
    setup.only_buyer = cleared->only_buyer;
    screener.admitted(*admitted.campaign, caller, now);
    return std::nullopt;
  }
  const auto& screened = std::get<routing::Screened>(verdict);
  const std::string_view reason = routing::to_string(screened.reason);
  refused_new_request();
  db::CallRecord cdr = new_call_record(f, now);
  cdr.end_at = now;
  cdr.final_status = screened.status;
  cdr.hangup_side = "gateway";
  cdr.hangup_cause = "screened";
  cdr.outcome = "blocked";
  cdr.block_reason = std::string(reason);
  recorder.call_screened(std::move(cdr));
  if (refusal_log.allow(now)) {
    spdlog::info("call {} INVITE {} from publisher {} caller {} screened out: {} ({} {}){}", f.call_uuid, f.number,
                 f.publisher_id, f.caller_number.empty() ? "anonymous" : f.caller_number, reason, screened.status,
                 screened.phrase,
                 refusal_log.suppressed() ? fmt::format(" [{} more refusals not logged]", refusal_log.suppressed()) : "");
  }
  return Refusal{screened.status, screened.phrase,
                 screened.retry_after ? "Retry-After: " + std::to_string(*screened.retry_after) : std::string()};
}

// ------------------------------------------------------------------ drain

void SipServer::Impl::begin_drain(std::chrono::milliseconds timeout) {
  if (draining) return;
  draining = true;
  spdlog::info("draining: {} call(s) in progress, {} ms to finish", registry.size(), timeout.count());
  drain_timer.emplace(pump.clock());
  drain_timer->start(timeout, [this] {
    auto calls = registry.active();
    spdlog::info("drain timeout: hanging up {} call(s)", calls.size());
    for (Call* call : calls) call->hang_up_for_drain();
  });
  maybe_shut_down();
}

void SipServer::Impl::maybe_shut_down() {
  if (!draining || shutting_down || !registry.empty()) return;
  shutting_down = true;
  // Attempts still finishing alone (a BYE or CANCEL to a buyer that may
  // have vanished) would hold nua_shutdown for up to 30 s: their calls'
  // records are written, so they go now.
  registry.clear();
  pump.shut_down();
}

void SipServer::Impl::count_failed_authentication(const auth::IpAddress& source, std::int64_t now_ms) {
  const auto& s = snapshot->settings;
  const BanPolicy policy{static_cast<int>(s.ban_after_failures), std::chrono::seconds(s.ban_window_seconds),
                         std::chrono::seconds(s.ban_seconds)};
  auto ban = guard.failed_authentication(*snapshot, source, now_ms, policy);
  if (!ban) return;
  spdlog::warn("banning {} for {} s after {} failed authentications", auth::to_string(source), s.ban_seconds,
               ban->failures);
  this->ban(*ban);
}

// A ban sipgw hands out itself: stored through the Asio side, dropped by the
// kernel from now on.
// A source that floods (requests, connections, headers): banned for
// security.flood_ban_seconds.
void SipServer::Impl::flood_ban(const auth::IpAddress& source, const char* note) {
  ban(guard.flooding(source, pump.clock().now_ms(), std::chrono::seconds(snapshot->settings.flood_ban_seconds), note));
}

void SipServer::Impl::ban(const AutoBan& ban) {
  metrics.auto_ban();
  if (ban_sink) ban_sink(ban);
  publish_bans();
}

// The gauge and the kernel's drop list follow the bans in force; bans also
// run out between events, so both are refreshed every 2 s as well (the drop
// list is reinstalled only when it changed).
void SipServer::Impl::publish_bans() {
  const std::int64_t now = pump.clock().now_ms();
  metrics.bans_active(guard.active_bans(*snapshot, now));
  std::vector<auth::Cidr> drop;
  if (snapshot->settings.ban_drops) drop = guard.bans_in_force(*snapshot, now);
  const std::size_t before = drop_filter.installed().size();
  if (auto installed = drop_filter.install(drop); !installed) {
    if (!drop_filter_failed) spdlog::error("the kernel cannot drop banned sources ({}): sipgw answers them 403", installed.error());
    drop_filter_failed = true;
  } else if (*installed > 0 || before != drop.size()) {
    spdlog::info("the kernel drops {} banned source prefix(es) on {} SIP socket(s){}", drop.size(), *installed,
                 drop_filter.left_out() ? fmt::format(" ({} beyond the program size get 403)", drop_filter.left_out()) : "");
  }
  metrics.kernel_drops(drop_filter.dropped());
}

// Overload past what refusals can shed (gateway/overload.h).
void SipServer::Impl::drop_new_invites(double fraction) {
  if (auto dropped = drop_filter.drop_new_invites(fraction); !dropped) {
    if (!invite_drops_failed) spdlog::error("the kernel cannot drop new INVITEs under overload ({}): they all get 503", dropped.error());
    invite_drops_failed = true;
    metrics.invite_drops(0);
    return;
  }
  metrics.invite_drops(drop_filter.invite_drops());
}

// A refused new request: counted toward a surge (gateway/refusal_surge.h).
void SipServer::Impl::refused_new_request() {
  if (surge.refused(pump.clock().now_ms())) surge_changed();
}

void SipServer::Impl::apply_nonce_secrets() {
  const auto& provisioned = snapshot->nonce_secrets;
  if (provisioned == applied_nonce_secrets) return;
  std::optional<auth::NonceIssuer::Secret> current, previous;
  if (!provisioned.empty()) current = auth::NonceIssuer::secret_from_hex(provisioned[0]);
  if (provisioned.size() > 1) previous = auth::NonceIssuer::secret_from_hex(provisioned[1]);
  if (current) {
    digest.issuer.use_secrets(*current, previous);
    spdlog::info("digest nonces: the deployment's shared secret{}", previous ? " (and the one it replaced)" : "");
  } else {
    digest.issuer = auth::NonceIssuer::with_random_secret();
    spdlog::info("digest nonces: a secret of this gateway's own (none provisioned: sipgwctl nonce-secret set)");
  }
  applied_nonce_secrets = provisioned;
}

// The stacks take the new transaction lifetime (nta shortens the timers of
// transactions already waiting too).
void SipServer::Impl::surge_changed() {
  metrics.refusal_surge(surge.state() == SurgeState::shedding);
  pump.apply(current_stack_settings());
}

// glibc keeps freed heap for reuse and returns it to the system only from
// the top of an arena, so after a burst (a flood's transactions, a fuzzer's
// messages, a traffic peak) RSS would stay at the peak for good (measured:
// 18 -> 223 MB after 20,000 spoofed INVITEs, 40 s after the last). sipgw
// hands the free pages back (malloc_trim; madvise under the hood) once the
// burst is mostly over: at least 1 MB free and eight times what is in use,
// and either 1 MB more resident beyond the heap in use than right after the
// last trim (mallinfo counts pages already given back as free) or 1 MB less
// heap in use than at the last trim (a burst drains over its transactions'
// lifetime: what the first trim found still in use is freed later, and
// a 4 s flood's tail once stayed at 36 MB for want of a second trim), at
// most every 10 s. Not sooner: malloc_trim walks and madvises every free chunk
// with the arena locked, so it stalls the SIP thread in proportion to the
// free heap, not to what it returns (measured after 40,000 calls at
// 1,000/s: 150-170 ms at each try while Sofia's 32 s timers still held a
// fifth to a half of the heap; 45 ms once it was all free). The overload
// guard lets such a one-off stall pass (gateway/overload.h).
void SipServer::Impl::give_back_memory(std::int64_t now_ms) {
  constexpr std::size_t kWorthIt = 1u << 20;
  // mallinfo2 walks every free chunk too: 1.4 % of sipgw's CPU when each
  // tick called it at 3,000 calls/s, tens of milliseconds per call with a
  // 1 GB heap. It is worth a look only once traffic has fallen to a quarter
  // of its busiest tick since the last trim, or to 100 requests a second.
  const std::uint64_t this_tick = requests_seen - requests_at_tick;
  requests_at_tick = requests_seen;
  busiest_tick = std::max(busiest_tick, this_tick);
  if (now_ms - last_trim_ms < 10000) return;
  if (this_tick > std::max<std::uint64_t>(200, busiest_tick / 4)) return;
  // Never while the thread is behind: requests_seen misses what the stack
  // refuses by itself (a fuzzer's garbage), the lag does not.
  if (overload.state() != LoadState::normal) return;
  last_trim_ms = now_ms;  // a look at most every 10 s, whether it trims or not
  const struct mallinfo2 heap = mallinfo2();
  if (heap.fordblks < kWorthIt || heap.fordblks < 8 * heap.uordblks) return;
  const std::size_t resident = resident_bytes();
  const std::size_t residue = resident - std::min(resident, heap.uordblks);
  const bool grew = residue >= residue_after_trim + kWorthIt;
  const bool drained = heap.uordblks + kWorthIt <= in_use_at_trim;
  if (!grew && !drained) return;
  busiest_tick = this_tick;
  const auto start = std::chrono::steady_clock::now();
  malloc_trim(0);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  const std::size_t after = resident_bytes();
  residue_after_trim = after - std::min(after, heap.uordblks);
  in_use_at_trim = heap.uordblks;
  // A long one held every call in progress: worth a warning.
  spdlog::log(took.count() >= 50 ? spdlog::level::warn : spdlog::level::info,
              "gave {} MB back to the system in {} ms ({} MB of heap in use)", (resident - std::min(resident, after)) >> 20,
              took.count(), heap.uordblks >> 20);
}

void SipServer::Impl::tick() {
  const std::int64_t now = pump.clock().now_ms();
  if (surge.poll(now)) surge_changed();
  give_back_memory(now);
  if (listens_on_tcp) police_connections();
  publish_bans();
  if (ban_gauge_timer) ban_gauge_timer->start(std::chrono::seconds(2), [this] { tick(); });
}

// Every 10 ms: how late the SIP thread got to it is its loop lag (what
// held it: a burst, a stall), and the kernel's receive queue is sampled.
void SipServer::Impl::heartbeat() {
  using namespace std::chrono;
  constexpr milliseconds kBeat{10};
  const auto now = steady_clock::now();
  if (heartbeat_due.time_since_epoch().count() != 0) {
    const auto late = std::max(duration_cast<microseconds>(now - heartbeat_due), microseconds(0));
    const auto wait = receive_queue.oldest_wait();
    const std::int64_t now_ms = steady_ms();
    overload.heartbeat(late, wait, now_ms);
    metrics.loop_lag(duration<double>(late).count());
    metrics.queue_wait(duration<double>(wait).count());
    if (overload.poll(now_ms)) {
      metrics.overload(overload.state() != LoadState::normal);
    }
    const double drops = snapshot->settings.overload_drops ? overload.drop_fraction() : 0.0;
    if (drops != drop_filter.invite_drops()) drop_new_invites(drops);
  }
  heartbeat_due = now + kBeat;
  heartbeat_timer->start(kBeat, [this] { heartbeat(); });
}

// Sofia accepts every connection until the descriptors run out, so sipgw
// counts them every tick: a source past sip.tcp_max_per_source is banned
// as a flood (the kernel drops its SYNs from now on) and its connections
// are shut; past sip.tcp_max_connections in all, the sources holding most
// lose theirs. Allowlisted sources and front ends are never cut.
void SipServer::Impl::police_connections() {
  const auto& s = snapshot->settings;
  auto census = drop_filter.police_connections(std::chrono::seconds(s.tcp_idle_seconds));
  if (census.idle_shut > 0) spdlog::debug("shut {} SIP TCP connection(s) idle for {} s", census.idle_shut, s.tcp_idle_seconds);
  auto& counts = census.by_source;
  std::size_t total = 0;
  for (const auto& c : counts) total += c.connections;
  metrics.tcp_connections(total);
  std::sort(counts.begin(), counts.end(), [](const auto& a, const auto& b) { return a.connections > b.connections; });
  std::vector<auth::IpAddress> cut;
  for (const auto& c : counts) {
    const bool over_source = c.connections > static_cast<std::size_t>(s.tcp_max_per_source);
    const bool over_total = total > static_cast<std::size_t>(s.tcp_max_connections);
    if (!over_source && !over_total) break;
    if (rate_exempt(c.source)) continue;
    if (over_source) {
      spdlog::warn("banning {} for {} s: it holds {} TCP connections (sip.tcp_max_per_source {})",
                   auth::to_string(c.source), s.flood_ban_seconds, c.connections, s.tcp_max_per_source);
      flood_ban(c.source, "too many connections");
    } else {
      spdlog::warn("cutting the {} TCP connections of {}: {} in all (sip.tcp_max_connections {})", c.connections,
                   auth::to_string(c.source), total, s.tcp_max_connections);
    }
    metrics.request_refused("tcp_connections");
    cut.push_back(c.source);
    total -= c.connections;
  }
  drop_filter.shut_down_connections(cut);
}

void SipServer::Impl::publish_buyer_caps() {
  for (const auto& [id, buyer] : snapshot->buyers) metrics.buyer_concurrency_cap(id, buyer.concurrency_cap.value_or(0));
}

// ------------------------------------------------------------------ public

SipServer::SipServer(SipServerConfig config, std::shared_ptr<const routing::Snapshot> snapshot, CdrSink cdr_sink,
                     BanSink ban_sink, Metrics& metrics)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(snapshot), std::move(cdr_sink), std::move(ban_sink),
                                   metrics)) {}

SipServer::~SipServer() { join(); }

std::expected<void, std::string> SipServer::start() {
  std::promise<std::expected<void, std::string>> started;
  auto result = started.get_future();
  thread_ = std::thread([this, &started] { impl_->run(started); });
  auto r = result.get();
  if (!r) join();
  return r;
}

void SipServer::restore_calls(std::vector<db::RecentCall> calls) {
  impl_->inbox.post([impl = impl_.get(), calls = std::move(calls)] {
    const routing::Snapshot& snap = *impl->snapshot;
    for (const auto& call : calls) {
      if (call.answer_at) {
        const routing::TimePoint answered{std::chrono::milliseconds(*call.answer_at)};
        if (call.buyer_id) impl->ledger.connected(*call.buyer_id, answered);
        impl->ledger.publisher_connected(call.publisher_id, answered);
      }
      if (const routing::Campaign* campaign = snap.find_campaign(call.campaign_id)) {
        impl->screener.restore(*campaign, call.caller, call.invite_at, call.answer_at, call.converted_at);
      }
    }
    impl->screener.prune(snap, impl->pump.clock().now_ms());
  });
}

void SipServer::update_snapshot(std::shared_ptr<const routing::Snapshot> snapshot) {
  impl_->inbox.post([impl = impl_.get(), snapshot = std::move(snapshot)]() mutable {
    impl->snapshot = std::move(snapshot);
    impl->surge.set_threshold(static_cast<std::uint32_t>(impl->snapshot->settings.surge_refusals));
    impl->overload.set_limit(std::chrono::milliseconds(impl->snapshot->settings.overload_wait_ms));
    impl->pump.apply(impl->current_stack_settings());
    impl->guard.snapshot_loaded(*impl->snapshot);
    impl->publish_bans();
    impl->publish_buyer_caps();
    impl->apply_nonce_secrets();
  });
}

void SipServer::call_converted(std::string postback_key, std::string campaign_id, std::string caller, std::int64_t at_ms) {
  impl_->inbox.post([impl = impl_.get(), key = std::move(postback_key), campaign_id = std::move(campaign_id),
                     caller = std::move(caller), at_ms] {
    for (Call* call : impl->registry.active()) {
      if (call->facts().postback_key == key) call->converted_elsewhere(at_ms);
    }
    if (const routing::Campaign* campaign = impl->snapshot->find_campaign(campaign_id)) {
      impl->screener.converted(*campaign, caller, at_ms);
    }
  });
}

void SipServer::ban_stored(AutoBan ban, std::int64_t stored_at_ms) {
  impl_->inbox.post([impl = impl_.get(), ban = std::move(ban), stored_at_ms] { impl->guard.ban_stored(ban, stored_at_ms); });
}

void SipServer::drain(std::chrono::milliseconds timeout, std::function<void()> on_stopped) {
  impl_->inbox.post([impl = impl_.get(), timeout, on_stopped = std::move(on_stopped)]() mutable {
    impl->on_stopped = std::move(on_stopped);
    impl->begin_drain(timeout);
  });
}

void SipServer::post(std::function<void()> job) { impl_->inbox.post(std::move(job)); }

void SipServer::join() {
  if (thread_.joinable()) thread_.join();
}

}  // namespace sipgw::gateway
