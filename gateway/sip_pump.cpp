#include "gateway/sip_pump.h"

#include "auth/text.h"
#include "gateway/sofia.h"
#include "gateway/sofia_clock.h"
#include "gateway/log_limiter.h"
#include "gateway/sofia_leg.h"
#include "routing/tokens.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace sipgw::gateway {

using sofia::str;

namespace {

// The UDP receive buffer asked of the kernel. Its default (212,992 bytes)
// holds about 90 ordinary requests or three 64 KB datagrams: a stall of
// tens of milliseconds at a few thousand messages a second, or a few large
// datagrams, and the kernel drops what follows (seen as RcvbufErrors: 2,032
// of 9,000 fuzzed datagrams at 1,000/s). The kernel caps the ask at
// net.core.rmem_max (deploy/sysctl/90-sipgw.conf raises it).
constexpr unsigned kUdpReceiveBuffer = 8u << 20;

// The primary local address of a family, as Sofia picks the host of its
// Via for a wildcard bind: From toward a buyer must name a real host, never
// "*". Loopback only when the machine has nothing else.
std::string primary_local_address(int family) {
  su_localinfo_t hints[1] = {};
  hints->li_flags = LI_NUMERIC | LI_CANONNAME;
  hints->li_family = family;
  hints->li_scope = LI_SCOPE_GLOBAL | LI_SCOPE_SITE;
  su_localinfo_t* found = nullptr;
  if (su_getlocalinfo(hints, &found) != 0) {
    hints->li_scope |= LI_SCOPE_HOST;
    found = nullptr;
    if (su_getlocalinfo(hints, &found) != 0) return family == AF_INET6 ? "[::1]" : "127.0.0.1";
  }
  std::string host = found->li_canonname ? found->li_canonname : "";
  su_freelocalinfo(found);
  if (host.empty()) return family == AF_INET6 ? "[::1]" : "127.0.0.1";
  return family == AF_INET6 ? "[" + host + "]" : host;
}

// Sofia's own log lines (a parse error per malformed packet, an accept
// error per wakeup when descriptors run out) went straight to stderr: a
// flood became a disk-filling log. They now go through spdlog, 20 lines a
// second at most; a line comes in pieces, so it is gathered up to its
// newline. Only the SIP thread logs through Sofia.
struct SofiaLogSink {
  std::string line;
  LogLimiter limiter{20};
};

void sofia_log(void* stream, char const* format, va_list ap) {
  auto* sink = static_cast<SofiaLogSink*>(stream);
  char piece[1024];
  const int n = std::vsnprintf(piece, sizeof piece, format, ap);
  if (n <= 0) return;
  sink->line.append(piece, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof piece - 1));
  if (sink->line.size() < 4096 && (sink->line.empty() || sink->line.back() != '\n')) return;
  while (!sink->line.empty() && (sink->line.back() == '\n' || sink->line.back() == '\r')) sink->line.pop_back();
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now().time_since_epoch()).count();
  if (!sink->line.empty() && sink->limiter.allow(now)) {
    // Sofia quotes what it received: printable text only in our log.
    std::string clean = routing::text_from_wire(sink->line, 512);
    if (sink->limiter.suppressed()) {
      spdlog::warn("sofia: {} [{} more Sofia lines not logged]", clean, sink->limiter.suppressed());
    } else {
      spdlog::warn("sofia: {}", clean);
    }
  }
  sink->line.clear();
}

int callstate_of(tagi_t tags[]) {
  int state = nua_callstate_init;
  tl_gets(tags, NUTAG_CALLSTATE_REF(state), TAG_END());
  return state;
}

// The packet source of the request nua is reporting now.
auth::IpAddress source_of(nua_t* nua) {
  if (msg_t* msg = nua_current_request(nua)) {
    if (su_addrinfo_t* ai = msg_addrinfo(msg)) {
      if (auto ip = auth::ip_from_sockaddr(ai->ai_addr, ai->ai_addrlen)) return *ip;
    }
  }
  return {};
}

// Header fields in the request nua is reporting now (the start line and
// the body included: one each).
std::size_t header_count(nua_t* nua) {
  std::size_t n = 0;
  if (msg_t* msg = nua_current_request(nua)) {
    for (msg_header_t* h = *msg_chain_head(msg); h != nullptr; h = h->sh_succ) ++n;
  }
  return n;
}

}  // namespace

std::string IncomingInvite::header(const std::string& name) const {
  for (const auto& [n, value] : extension_headers) {
    if (auth::iequals(n, name)) return value;
  }
  return {};
}

struct SofiaStacks {
  SofiaStacks(std::vector<ListenAddress> l, Inbox& i, SipPumpHandler& h) : listen(std::move(l)), inbox(i), handler(h) {}

  struct Stack {
    nua_t* nua = nullptr;
    bool ipv6 = false;      // bound to an IPv6 address
    bool wildcard = false;  // bound to * (every address)
    std::string from_host;  // host[:port] in the From of buyer legs leaving by this stack
  };

  std::vector<ListenAddress> listen;
  Inbox& inbox;
  SipPumpHandler& handler;
  StackSettings settings;
  su_root_t* root = nullptr;
  std::unique_ptr<SofiaClock> clock;
  std::vector<Stack> stacks;
  int stacks_running = 0;
  FinishingHandles finishing;
  su_wait_t wait[1] = {};
  bool registered = false;

  std::expected<void, std::string> open();
  void close();
  void apply_settings(nua_t* nua) const;
  const Stack& stack_for(const std::string& request_uri) const;

  static int on_inbox(SofiaStacks* self, su_wait_t*, SofiaStacks*) {
    self->inbox.drain();
    self->handler.after_dispatch();
    return 0;
  }
  static void on_event(nua_event_t event, int status, char const* phrase, nua_t* nua, SofiaStacks* self,
                       nua_handle_t* nh, SofiaLeg* leg, sip_t const* sip, tagi_t tags[]) {
    self->dispatch(event, status, phrase, nua, nh, leg, sip, tags);
    self->handler.after_dispatch();
  }
  void dispatch(nua_event_t event, int status, char const* phrase, nua_t* nua, nua_handle_t* nh, SofiaLeg* leg,
                sip_t const* sip, tagi_t tags[]);
  void on_unbound(nua_event_t event, int status, nua_t* nua, nua_handle_t* nh, sip_t const* sip, tagi_t tags[]);
  void on_new_invite(nua_t* nua, nua_handle_t* nh, sip_t const* sip);
  IncomingInvite incoming_invite(nua_t* nua, sip_t const* sip);
};

std::expected<void, std::string> SofiaStacks::open() {
  su_init();
  root = su_root_create(this);
  if (root == nullptr) {
    su_deinit();
    return std::unexpected("su_root_create failed");
  }
  su_root_threading(root, 0);  // the whole SIP stack runs on this thread
  static SofiaLogSink log_sink;
  su_log_redirect(nullptr, sofia_log, &log_sink);
  clock = std::make_unique<SofiaClock>(root);
  clock->after_fire = [this] { handler.after_dispatch(); };
  for (const auto& address : listen) {
    // One transport per URL (a transport list crashes Sofia 1.12.11). Its
    // nua_stack_init_transport binds NUTAG_URL and then NUTAG_SIPS_URL on
    // the same agent, the latter with the plain "sip" identity when its
    // scheme is sip:, so a UDP and a TCP URL share one stack.
    if (address.bind_urls.empty() || address.bind_urls.size() > 2) {
      close();
      return std::unexpected("a listen address needs one or two bind URLs");
    }
    const std::string& first = address.bind_urls[0];
    const std::string& second = address.bind_urls.size() > 1 ? address.bind_urls[1] : first;
    Stack stack;
    stack.nua = nua_create(root, on_event, this, NUTAG_URL(first.c_str()),
                           TAG_IF(address.bind_urls.size() > 1, NUTAG_SIPS_URL(second.c_str())), NUTAG_MEDIA_ENABLE(0),
                           // Large INVITEs (many buyer headers) stay on the transport
                           // the buyer was configured with instead of jumping to TCP.
                           NTATAG_UDP_MTU(65535), NTATAG_SERVER_RPORT(2), TPTAG_UDP_RMEM(kUdpReceiveBuffer),
                           TAG_END());
    if (stack.nua == nullptr) {
      close();
      return std::unexpected("cannot bind the SIP listen address " + first +
                             (address.bind_urls.size() > 1 ? " and " + second : ""));
    }
    stack.ipv6 = address.ipv6;
    stack.wildcard = address.wildcard;
    stack.from_host = address.from_host.empty() ? primary_local_address(AF_INET) + ":" + address.port : address.from_host;
    if (address.from_host.empty()) {
      spdlog::info("listening on every address: buyer legs name {} in From (set --public-address to choose)", stack.from_host);
    }
    nua_set_params(stack.nua, NUTAG_AUTOALERT(0), NUTAG_AUTOANSWER(0), NUTAG_AUTOACK(0),
                   NUTAG_APPL_METHOD("OPTIONS"), NUTAG_APPL_METHOD("INFO"), NUTAG_APPL_METHOD("UPDATE"),
                   SIPTAG_ALLOW_STR(sofia::kAllowedMethods), TAG_END());
    apply_settings(stack.nua);
    stacks.push_back(stack);
  }
  if (stacks.empty()) {
    close();
    return std::unexpected("no listen address");
  }
  stacks_running = static_cast<int>(stacks.size());
  if (su_wait_create(wait, inbox.fd(), SU_WAIT_IN) != 0 || su_root_register(root, wait, on_inbox, this, su_pri_normal) < 0) {
    close();
    return std::unexpected("cannot watch the SIP thread's inbox");
  }
  registered = true;
  return {};
}

// nua does RFC 4028 when "timer" is in the stack's Supported: 422 with
// Min-SE to a publisher asking less than min_se, Session-Expires and Min-SE
// in the INVITE to a buyer, a 422 from a buyer answered with a new INVITE,
// the refresher chosen per leg (the peer when it supports timers and did
// not say otherwise, else sipgw) and the leg's timer. NUTAG_SESSION_TIMER
// caps what a publisher asks for. Without "timer" none of it happens and a
// request with Require: timer gets 420.
//
// "100rel" in the stack's Supported (RFC 3262): nua checks a new INVITE's
// Require against it (else 420), and on a publisher leg sends every 18x
// reliably when the INVITE requires 100rel, a 183 when it only supports it;
// nta retransmits it until PRACKed, queues a second one behind it and holds
// a 2xx until an 18x with SDP is PRACKed; nua answers the PRACK itself.
// Buyer legs say only "timer" (SofiaLeg::send_invite): buyers' 18x stay
// unreliable, as before.
//
// User-Agent: SIPTAG_USER_AGENT_STR is taken as is (NUTAG_USER_AGENT would
// append "sofia-sip/1.12.11devel"); SIPTAG_USER_AGENT(SIP_NONE) leaves the
// header out of requests and responses alike (nta adds no Server header).
void SofiaStacks::apply_settings(nua_t* nua) const {
  const SessionTimers& timers = settings.session;
  const bool on = timers.expires > 0;
  const bool named = !settings.user_agent.empty();
  nua_set_params(nua, SIPTAG_SUPPORTED_STR(on ? "timer, 100rel" : "100rel"), NUTAG_SESSION_TIMER(timers.expires),
                 NUTAG_MIN_SE(timers.min_se), NUTAG_SESSION_REFRESHER(nua_no_refresher), NUTAG_UPDATE_REFRESH(0),
                 TAG_IF(named, SIPTAG_USER_AGENT_STR(settings.user_agent.c_str())),
                 TAG_IF(!named, SIPTAG_USER_AGENT(reinterpret_cast<sip_user_agent_t const*>(SIP_NONE))), TAG_END());
  // nta hands these to its transports (nta_agent_set_params walks them);
  // connections share their primary's parameters, so open ones follow too.
  // TPTAG_TIMEOUT counts from the last byte received, so a message
  // trickled faster than it lives on until max_message_size ends it.
  nua_set_params(nua, TPTAG_IDLE(settings.tcp_idle_ms), TPTAG_TIMEOUT(settings.tcp_message_timeout_ms),
                 NTATAG_MAXSIZE(settings.max_message_size), NTATAG_SIP_T1X64(settings.transaction_lifetime_ms),
                 TAG_END());
}

void SofiaStacks::close() {
  for (auto& stack : stacks) nua_destroy(stack.nua);
  stacks.clear();
  if (registered) su_root_unregister(root, wait, on_inbox, this);
  registered = false;
  clock.reset();
  if (root) su_root_destroy(root);
  root = nullptr;
  su_deinit();
}

// The stack a buyer leg leaves from: one of the target's address family (an
// IPv6 literal host, else IPv4 or a name), else a wildcard stack, else the
// first.
const SofiaStacks::Stack& SofiaStacks::stack_for(const std::string& request_uri) const {
  auto at = request_uri.find('@');
  auto host_at = at == std::string::npos ? request_uri.find(':') + 1 : at + 1;
  const bool ipv6 = request_uri.compare(host_at, 1, "[") == 0;
  for (const auto& stack : stacks) {
    if (!stack.wildcard && stack.ipv6 == ipv6) return stack;
  }
  for (const auto& stack : stacks) {
    if (stack.wildcard) return stack;
  }
  return stacks.front();
}

void SofiaStacks::dispatch(nua_event_t event, int status, char const* phrase, nua_t* nua, nua_handle_t* nh,
                           SofiaLeg* leg, sip_t const* sip, tagi_t tags[]) {
  if (event == nua_r_shutdown) {
    if (status >= 200 && --stacks_running == 0) su_root_break(root);
    return;
  }
  if (nua_event_is_incoming_request(event) && sip && sip->sip_request) {
    const bool fresh = leg == nullptr && (event == nua_i_invite || event == nua_i_options);
    auto refusal = handler.on_request(str(sip->sip_request->rq_method_name), source_of(nua), fresh, header_count(nua));
    if (refusal && fresh) {
      // A refused INVITE's handle ends with its nua_i_state (on_unbound).
      nua_respond(nh, refusal->status, refusal->phrase,
                  TAG_IF(!refusal->headers.empty(), SIPTAG_HEADER_STR(refusal->headers.c_str())), NUTAG_WITH_THIS(nua),
                  TAG_END());
      if (event == nua_i_options) nua_handle_destroy(nh);
      return;
    }
  }
  if (leg != nullptr) {
    leg->handle(event, status, phrase, nua, sip, tags);
  } else {
    on_unbound(event, status, nua, nh, sip, tags);
  }
}

// Handles no leg owns: new requests, refused INVITEs finishing, legs an
// attempt or a call let go of.
void SofiaStacks::on_unbound(nua_event_t event, int status, nua_t* nua, nua_handle_t* nh, sip_t const* sip,
                             tagi_t tags[]) {
  switch (event) {
    case nua_i_invite: on_new_invite(nua, nh, sip); return;
    case nua_i_options: {
      const url_t* ruri = sip && sip->sip_request ? sip->sip_request->rq_url : nullptr;
      Refusal answer = handler.on_options(ruri ? str(ruri->url_host) : "", source_of(nua));
      nua_respond(nh, answer.status, answer.phrase, NUTAG_WITH_THIS(nua), TAG_END());
      nua_handle_destroy(nh);
      return;
    }
    case nua_i_state:
      if (callstate_of(tags) == nua_callstate_terminated) {
        finishing.ended(nh);
        nua_handle_destroy(nh);
      }
      return;
    case nua_r_invite:
      // A late answer on a leg nobody owns any more: ACK and hang up a
      // 2xx; a final failure ends the handle.
      if (status >= 200 && status < 300) {
        nua_ack(nh, TAG_END());
        nua_bye(nh, TAG_END());
      } else if (status >= 300) {
        nua_handle_destroy(nh);
      }
      return;
    case nua_i_info:
    case nua_i_update:
      nua_respond(nh, SIP_481_NO_TRANSACTION, NUTAG_WITH_THIS(nua), TAG_END());
      nua_handle_destroy(nh);
      return;
    default:
      // Any other request nua created a handle for is not ours to keep
      // (with the exact Allow list none should arrive): answer it if nua
      // has not, and never leave the handle behind.
      if (nua_event_is_incoming_request(event) && nh != nullptr) {
        if (event != nua_i_ack && event != nua_i_cancel && event != nua_i_bye) {
          nua_respond(nh, SIP_405_METHOD_NOT_ALLOWED, SIPTAG_ALLOW_STR(sofia::kAllowedMethods), NUTAG_WITH_THIS(nua), TAG_END());
        }
        nua_handle_destroy(nh);
      }
      return;
  }
}

void SofiaStacks::on_new_invite(nua_t* nua, nua_handle_t* nh, sip_t const* sip) {
  if (sip == nullptr || sip->sip_request == nullptr) {
    nua_respond(nh, 400, "Bad Request", TAG_END());
    return;
  }
  IncomingInvite invite = incoming_invite(nua, sip);
  bool accepted = false;
  auto refusal = handler.on_invite(invite, [&]() -> std::unique_ptr<Leg> {
    if (accepted) return nullptr;
    accepted = true;
    return std::make_unique<SofiaLeg>(nua, nh, sip, finishing, *clock, settings.session, handler);
  });
  if (!accepted) {
    const Refusal r = refusal.value_or(Refusal{500, "Server Internal Error"});
    nua_respond(nh, r.status, r.phrase, TAG_IF(!r.headers.empty(), SIPTAG_HEADER_STR(r.headers.c_str())), TAG_END());
  }
}

IncomingInvite SofiaStacks::incoming_invite(nua_t* nua, sip_t const* sip) {
  IncomingInvite out;
  InboundInvite& invite = out.admission;
  const url_t* ruri = sip->sip_request->rq_url;
  invite.request_host = str(ruri->url_host);
  invite.request_user = str(ruri->url_user);
  invite.request_uri = sofia::url_text(ruri);
  invite.source = source_of(nua);
  for (const sip_unknown_t* u = sip->sip_unknown; u; u = u->un_next) {
    if (u->un_name) out.extension_headers.emplace_back(u->un_name, str(u->un_value));
  }
  su_home_t home[1] = {SU_HOME_INIT(home)};
  for (const sip_proxy_authorization_t* a = sip->sip_proxy_authorization; a; a = a->au_next) {
    // "Proxy-Authorization: Digest" with no parameters parses with
    // au_params NULL, and auth_digest_response_get asserts on that: one such
    // packet used to abort the daemon (found by tests/fuzz/sip_fuzz.py).
    if (a->au_scheme == nullptr || strcasecmp(a->au_scheme, "Digest") != 0 || a->au_params == nullptr) continue;
    auth_response_t ar[1];
    std::memset(ar, 0, sizeof ar);
    ar->ar_size = sizeof ar[0];
    if (auth_digest_response_get(home, ar, a->au_params) < 0) continue;
    DigestCredentials c;
    c.username = str(ar->ar_username);
    c.realm = str(ar->ar_realm);
    c.nonce = str(ar->ar_nonce);
    c.uri = sofia::normalized_uri(ar->ar_uri);
    c.uri_as_sent = str(ar->ar_uri);
    c.response = str(ar->ar_response);
    c.algorithm = str(ar->ar_algorithm);
    c.qop = str(ar->ar_qop);
    c.nc = str(ar->ar_nc);
    c.cnonce = str(ar->ar_cnonce);
    invite.credentials.push_back(std::move(c));
  }
  su_home_deinit(home);
  if (sip->sip_from) {
    out.caller_user = str(sip->sip_from->a_url->url_user);
    out.from_display = str(sip->sip_from->a_display);
    out.from_uri = sofia::url_text(sip->sip_from->a_url);
  }
  if (sip->sip_privacy && sip->sip_privacy->priv_values) {
    for (msg_param_t const* v = sip->sip_privacy->priv_values; *v; ++v) {
      out.privacy_id |= strcasecmp(*v, "id") == 0 || strcasecmp(*v, "header") == 0;
    }
  }
  if (sip->sip_payload && sip->sip_payload->pl_data) {
    out.offer.data.assign(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
    out.offer.type = sip->sip_content_type && sip->sip_content_type->c_type ? sip->sip_content_type->c_type : "application/sdp";
  }
  if (sip->sip_max_forwards) invite.max_forwards = sip->sip_max_forwards->mf_count;
  return out;
}

// ------------------------------------------------------------------ SipPump

SipPump::SipPump(std::vector<ListenAddress> listen, Inbox& inbox, SipPumpHandler& handler)
    : stacks_(std::make_unique<SofiaStacks>(std::move(listen), inbox, handler)) {}

SipPump::~SipPump() {
  if (stacks_->root) stacks_->close();
}

std::expected<void, std::string> SipPump::open(StackSettings settings) {
  stacks_->settings = std::move(settings);
  return stacks_->open();
}

void SipPump::apply(StackSettings settings) {
  if (settings == stacks_->settings) return;
  stacks_->settings = std::move(settings);
  for (auto& stack : stacks_->stacks) stacks_->apply_settings(stack.nua);
}

void SipPump::run() { su_root_run(stacks_->root); }

void SipPump::close() {
  if (stacks_->root) stacks_->close();
}

void SipPump::shut_down() {
  stacks_->finishing.destroy_all();  // nua_shutdown would wait up to 30 s for them
  for (auto& stack : stacks_->stacks) nua_shutdown(stack.nua);
}

Clock& SipPump::clock() { return *stacks_->clock; }

std::unique_ptr<Leg> SipPump::make_buyer_leg(const std::string& request_uri) {
  return std::make_unique<SofiaLeg>(stacks_->stack_for(request_uri).nua, *stacks_->clock, stacks_->settings.session,
                                    stacks_->handler);
}

std::string SipPump::from_host(const std::string& request_uri) const { return stacks_->stack_for(request_uri).from_host; }

}  // namespace sipgw::gateway
