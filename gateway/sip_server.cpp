#include "gateway/sip_server.h"

#include "auth/digest_client.h"
#include "gateway/admission.h"
#include "gateway/metrics.h"
#include "gateway/outbound.h"
#include "routing/selection.h"
#include "routing/tokens.h"

namespace sipgw::gateway {
struct Leg;
struct Call;
}  // namespace sipgw::gateway

// Typed magic pointers for Sofia callbacks (must precede the Sofia headers).
#define NUA_MAGIC_T sipgw::gateway::SipServer::Impl
#define NUA_HMAGIC_T sipgw::gateway::Leg
#define SU_ROOT_MAGIC_T sipgw::gateway::SipServer::Impl
#define SU_WAKEUP_ARG_T sipgw::gateway::SipServer::Impl
#define SU_TIMER_ARG_T sipgw::gateway::Call

#include <sofia-sip/auth_digest.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_localinfo.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/url.h>

#include <spdlog/spdlog.h>

#include <openssl/rand.h>

#include <cstring>
#include <deque>
#include <future>
#include <strings.h>
#include <unordered_map>
#include <unordered_set>

namespace sipgw::gateway {

namespace {

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string str(const char* s) { return s ? s : ""; }

std::string url_text(const url_t* url) {
  if (url == nullptr) return {};
  char buffer[1024];
  int n = snprintf(buffer, sizeof buffer, URL_PRINT_FORMAT, URL_PRINT_ARGS(url));
  if (n < 0 || static_cast<std::size_t>(n) >= sizeof buffer) return {};
  return buffer;
}

// A digest uri parameter, normalized the way Sofia prints the Request-URI so
// the two compare as strings.
std::string normalized_uri(su_home_t* home, const char* text) {
  if (text == nullptr) return {};
  url_t* parsed = url_make(home, text);
  return parsed ? url_text(parsed) : std::string(text);
}

// A message body copied out of Sofia's message memory (which dies with the
// callback), ready to be sent on the other leg.
struct Body {
  std::string type;
  std::string data;
  bool present() const { return !data.empty(); }
};

Body body_of(sip_t const* sip, const char* default_type) {
  Body b;
  if (sip && sip->sip_payload && sip->sip_payload->pl_data) {
    b.data.assign(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
    b.type = sip->sip_content_type && sip->sip_content_type->c_type ? sip->sip_content_type->c_type : default_type;
  }
  return b;
}

// nua_respond keeps the phrase pointer and sends later (it copies tags, not
// the phrase), so a relayed status gets Sofia's static phrase, never the
// peer's text, whose buffer is reused once the callback returns.
const char* static_phrase(int status) {
  const char* phrase = sip_status_phrase(status);
  return phrase ? phrase : "Unknown Status";
}

// Relays a peer's status with its body (if any) on a leg; `saved` answers an
// in-dialog request that was kept with nua_save_event.
void relay_response(nua_handle_t* nh, int status, const Body& body, nua_saved_event_t* saved = nullptr) {
  const bool typed = body.present() && !body.type.empty();
  if (saved != nullptr) {
    nua_respond(nh, status, static_phrase(status), NUTAG_WITH_SAVED(saved),
                TAG_IF(typed, SIPTAG_CONTENT_TYPE_STR(body.type.c_str())),
                TAG_IF(body.present(), SIPTAG_PAYLOAD_STR(body.data.c_str())), TAG_END());
  } else {
    nua_respond(nh, status, static_phrase(status), TAG_IF(typed, SIPTAG_CONTENT_TYPE_STR(body.type.c_str())),
                TAG_IF(body.present(), SIPTAG_PAYLOAD_STR(body.data.c_str())), TAG_END());
  }
}

// Sends an in-dialog request (nua_invite, nua_info, nua_update) carrying a
// peer's body.
using RequestFunction = void (*)(nua_handle_t*, tag_type_t, tag_value_t, ...);
void relay_request(RequestFunction send, nua_handle_t* nh, const Body& body) {
  send(nh, TAG_IF(body.present() && !body.type.empty(), SIPTAG_CONTENT_TYPE_STR(body.type.c_str())),
       TAG_IF(body.present(), SIPTAG_PAYLOAD_STR(body.data.c_str())), TAG_END());
}

// Exactly the methods sipgw serves. SIPTAG_ALLOW_STR replaces Sofia's
// default list (NUTAG_ALLOW would merge into it and advertise MESSAGE,
// REFER, SUBSCRIBE, NOTIFY, PRACK); nta then answers every other method
// with 405 and this Allow list before any handle exists, in or out of a
// dialog, so nothing is accepted on sipgw's behalf (no 202 to a REFER and
// no NOTIFY to whatever Contact the sender wrote).
constexpr const char* kAllow = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE";

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

// The challenge params of a buyer's 401/407, copied out of Sofia's memory.
std::vector<std::string> challenge_params(const msg_auth_t* challenge) {
  std::vector<std::string> params;
  for (msg_param_t const* p = challenge->au_params; p && *p; ++p) params.emplace_back(*p);
  return params;
}

std::string random_cnonce() {
  unsigned char bytes[12];
  RAND_bytes(bytes, sizeof bytes);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

int callstate_of(tagi_t tags[]) {
  int state = nua_callstate_init;
  tl_gets(tags, NUTAG_CALLSTATE_REF(state), TAG_END());
  return state;
}

}  // namespace

enum class Side { inbound, outbound };

struct Leg {
  Call* call = nullptr;
  Side side = Side::inbound;
  nua_handle_t* nh = nullptr;
  bool established = false;  // 2xx exchanged
  bool bye_sent = false;
  bool terminated = false;
  // In-dialog requests from this leg's peer that wait for the other side's
  // answer (INFO, UPDATE), oldest first.
  std::deque<nua_saved_event_t> pending;  // nua_saved_event_t is a pointer type
};

struct Call {
  std::uint64_t id = 0;
  std::shared_ptr<const routing::Snapshot> snapshot;
  Leg in;
  Leg out;
  routing::CallFacts facts;
  const routing::Buyer* buyer = nullptr;
  db::CallRecord cdr;
  std::string sdp;
  std::string content_type;
  std::string max_forwards;
  bool publisher_final_sent = false;  // final response to the initial INVITE
  bool provisional_sent = false;      // the publisher hears one 18x, whichever buyer rings
  bool answered = false;
  bool cancel_sent = false;           // for the current attempt
  bool auth_answered = false;         // for the current attempt
  bool attempt_counted = false;       // the ledger counts the current attempt
  bool counted_for_publisher = false;
  // Failover state: buyers tried, and whether every refusal meant "busy".
  std::unordered_set<std::string> tried;
  bool saw_busy = false;
  bool saw_other = false;
  std::string last_failure = "no_buyer";
  Leg* reinvite_from = nullptr;  // leg whose re-INVITE is being relayed
  su_timer_t* ring_timer = nullptr;     // campaign ring timeout, per attempt
  su_timer_t* connect_timer = nullptr;  // buyer connect timeout (first 18x), per attempt
  OutboundInvite outbound;
};

struct SipServer::Impl {
  explicit Impl(Metrics& m) : metrics(m) {}
  Metrics& metrics;
  SipServerConfig config;
  std::shared_ptr<const routing::Snapshot> snapshot;
  CdrSink cdr_sink;
  Inbox inbox;

  su_root_t* root = nullptr;
  // One nua stack per listen address: each owns its sockets, so a request
  // toward an IPv6 peer leaves by an IPv6 socket (one stack bound to both
  // families would send it from the IPv4 one).
  struct Stack {
    nua_t* nua = nullptr;
    bool ipv6 = false;      // bound to an IPv6 address
    bool wildcard = false;  // bound to * (every address)
    std::string from_host;  // host[:port] in the From of buyer legs leaving by this stack
  };
  std::vector<Stack> stacks;
  int stacks_running = 0;
  nua_t* nua = nullptr;  // the stack of the event being handled (set by dispatch)
  su_wait_t wait[1] = {};
  int wait_index = -1;
  su_timer_t* drain_timer = nullptr;
  DigestState digest{auth::NonceIssuer::with_random_secret(), {}};
  std::unordered_map<std::uint64_t, std::unique_ptr<Call>> calls;
  std::uint64_t next_call_id = 1;
  routing::BuyerLedger ledger;
  routing::BuyerSelector selector;
  bool draining = false;
  bool shutting_down = false;
  std::function<void()> on_stopped;

  // ---- thread body ----
  void run(std::promise<std::expected<void, std::string>>& started);
  static int on_inbox(Impl* self, su_wait_t*, Impl*) {
    self->inbox.drain();
    return 0;
  }
  const Stack& stack_for(const std::string& request_uri) const;
  static void on_nua_event(nua_event_t event, int status, char const* phrase, nua_t* nua, Impl* self,
                           nua_handle_t* nh, Leg* leg, sip_t const* sip, tagi_t tags[]) {
    self->dispatch(event, status, phrase, nua, nh, leg, sip, tags);
  }
  void dispatch(nua_event_t event, int status, char const* phrase, nua_t* nua, nua_handle_t* nh, Leg* leg,
                sip_t const* sip, tagi_t tags[]);

  // ---- inbound ----
  void on_new_invite(nua_handle_t* nh, sip_t const* sip);
  void on_options(nua_handle_t* nh, sip_t const* sip);
  InboundInvite inbound_facts(sip_t const* sip);

  // ---- call control ----
  void start_buyer_leg(Call& call);
  // Our answer to a buyer's challenge: Proxy-Authorization after a 407,
  // Authorization after a 401.
  struct BuyerAuthorization {
    bool proxy = false;
    std::string value;
  };
  void send_buyer_invite(Call& call, const BuyerAuthorization* authorization, sip_t const* challenge_response);
  bool answer_buyer_challenge(Call& call, int status, sip_t const* sip);
  void on_buyer_response(Call& call, int status, char const* phrase, sip_t const* sip);
  void on_reinvite(Leg& from, sip_t const* sip);
  void on_reinvite_response(Leg& to, int status, sip_t const* sip);
  void on_in_dialog_request(Leg& from, nua_event_t event, sip_t const* sip);
  void on_in_dialog_response(Leg& to, int status, sip_t const* sip);
  void on_leg_terminated(Leg& leg);
  void release_leg(Leg& leg);  // forget and destroy the leg's handle
  void hang_up(Call& call, Leg& leg);
  void respond_publisher(Call& call, int status, const char* phrase);
  void end_attempt(Call& call, std::optional<int> status, const std::string& reason);
  void buyer_attempt_started(Call& call);
  void buyer_attempt_stopped(Call& call);
  void fail_over(Call& call, const std::string& cause, bool busy);
  void abandon_buyer_leg(Call& call);
  void stop_attempt_timers(Call& call);
  static void on_connect_timeout(Impl* self, su_timer_t*, Call* call);
  void maybe_finish(Call& call);
  static void on_ring_timeout(Impl* self, su_timer_t*, Call* call);
  Leg& other(Leg& leg) { return leg.side == Side::inbound ? leg.call->out : leg.call->in; }

  // ---- drain ----
  void begin_drain(std::chrono::milliseconds timeout);
  static void on_drain_timeout(Impl* self, su_timer_t*, Call*);
  void maybe_shut_down();
  void publish_buyer_caps();
};

// ------------------------------------------------------------------ thread

void SipServer::Impl::run(std::promise<std::expected<void, std::string>>& started) {
  su_init();
  root = su_root_create(this);
  if (root == nullptr) {
    started.set_value(std::unexpected("su_root_create failed"));
    su_deinit();
    return;
  }
  su_root_threading(root, 0);  // the whole SIP stack runs on this thread

  auto fail = [&](const std::string& why) {
    started.set_value(std::unexpected(why));
    for (auto& created : stacks) nua_destroy(created.nua);
    stacks.clear();
    su_root_destroy(root);
    root = nullptr;
    su_deinit();
  };
  for (const auto& address : config.listen) {
    // One transport per URL (a transport list crashes Sofia 1.12.11). Its
    // nua_stack_init_transport binds NUTAG_URL and then NUTAG_SIPS_URL on
    // the same agent, the latter with the plain "sip" identity when its
    // scheme is sip:, so a UDP and a TCP URL share one stack.
    if (address.bind_urls.empty() || address.bind_urls.size() > 2) {
      fail("a listen address needs one or two bind URLs");
      return;
    }
    const std::string& first = address.bind_urls[0];
    const std::string& second = address.bind_urls.size() > 1 ? address.bind_urls[1] : first;
    Stack stack;
    stack.nua = nua_create(root, on_nua_event, this, NUTAG_URL(first.c_str()),
                           TAG_IF(address.bind_urls.size() > 1, NUTAG_SIPS_URL(second.c_str())), NUTAG_MEDIA_ENABLE(0),
                           // Large INVITEs (many buyer headers) stay on the transport
                           // the buyer was configured with instead of jumping to TCP.
                           NTATAG_UDP_MTU(65535), NTATAG_SERVER_RPORT(2), TAG_END());
    if (stack.nua == nullptr) {
      fail("cannot bind the SIP listen address " + first + (address.bind_urls.size() > 1 ? " and " + second : ""));
      return;
    }
    stack.ipv6 = address.ipv6;
    stack.wildcard = address.wildcard;
    stack.from_host = address.from_host.empty() ? primary_local_address(AF_INET) + ":" + address.port : address.from_host;
    if (address.from_host.empty()) {
      spdlog::info("listening on every address: buyer legs name {} in From (set --public-address to choose)", stack.from_host);
    }
    nua_set_params(stack.nua, NUTAG_AUTOALERT(0), NUTAG_AUTOANSWER(0), NUTAG_AUTOACK(0),
                   NUTAG_APPL_METHOD("OPTIONS"), NUTAG_APPL_METHOD("INFO"), NUTAG_APPL_METHOD("UPDATE"),
                   SIPTAG_ALLOW_STR(kAllow), NUTAG_USER_AGENT("sipgw/0.1"), NUTAG_SESSION_TIMER(0),
                   SIPTAG_SUPPORTED_STR(""), TAG_END());
    stacks.push_back(stack);
  }
  if (stacks.empty()) {
    fail("no listen address");
    return;
  }
  stacks_running = static_cast<int>(stacks.size());
  nua = stacks.front().nua;

  publish_buyer_caps();
  su_wait_create(wait, inbox.fd(), SU_WAIT_IN);
  wait_index = su_root_register(root, wait, on_inbox, this, su_pri_normal);
  started.set_value({});

  su_root_run(root);

  for (auto& stack : stacks) nua_destroy(stack.nua);
  stacks.clear();
  nua = nullptr;
  su_root_unregister(root, wait, on_inbox, this);
  if (drain_timer) su_timer_destroy(drain_timer);
  su_root_destroy(root);
  root = nullptr;
  su_deinit();
  if (on_stopped) on_stopped();
}

void SipServer::Impl::dispatch(nua_event_t event, int status, char const* phrase, nua_t* event_nua, nua_handle_t* nh,
                               Leg* leg, sip_t const* sip, tagi_t tags[]) {
  nua = event_nua;  // nua_current_request, NUTAG_WITH_THIS and nua_save_event act on this stack
  if (event == nua_r_shutdown) {
    if (status >= 200 && --stacks_running == 0) su_root_break(root);
    return;
  }
  if (nua_event_is_incoming_request(event) && sip && sip->sip_request) {
    metrics.request_received(str(sip->sip_request->rq_method_name));
  }
  if (leg == nullptr) {
    // Handles we never bound: new requests, or rejected INVITEs finishing.
    switch (event) {
      case nua_i_invite: on_new_invite(nh, sip); return;
      case nua_i_options: on_options(nh, sip); return;
      case nua_i_state:
        if (callstate_of(tags) == nua_callstate_terminated) nua_handle_destroy(nh);
        return;
      case nua_r_invite:
        // A buyer leg we abandoned (timeout, failover): a late answer is
        // ACKed and hung up; a final failure ends the handle.
        if (status >= 200 && status < 300) {
          nua_ack(nh, TAG_END());
          nua_bye(nh, TAG_END());
        } else if (status >= 300) {
          nua_handle_destroy(nh);
        }
        return;
      case nua_i_info:
      case nua_i_update:
        nua_respond(nh, SIP_481_NO_TRANSACTION, TAG_END());
        nua_handle_destroy(nh);
        return;
      default:
        // Any other request nua created a handle for is not ours to keep
        // (with the exact Allow list none should arrive): answer it if nua
        // has not, and never leave the handle behind.
        if (nua_event_is_incoming_request(event) && nh != nullptr) {
          if (event != nua_i_ack && event != nua_i_cancel && event != nua_i_bye) {
            nua_respond(nh, SIP_405_METHOD_NOT_ALLOWED, SIPTAG_ALLOW_STR(kAllow), NUTAG_WITH_THIS(nua), TAG_END());
          }
          nua_handle_destroy(nh);
        }
        return;
    }
  }
  Call& call = *leg->call;
  switch (event) {
    case nua_r_invite:
      if (leg->side == Side::outbound && !call.answered && !leg->established) {
        on_buyer_response(call, status, phrase, sip);
      } else {
        on_reinvite_response(*leg, status, sip);
      }
      return;
    case nua_i_invite: on_reinvite(*leg, sip); return;
    case nua_i_cancel:
      // nua already answered 200 to the CANCEL and 487 to the INVITE.
      if (leg->side == Side::inbound && !call.publisher_final_sent) {
        call.publisher_final_sent = true;
        call.cdr.final_status = 487;
        call.cdr.hangup_side = "publisher";
        call.cdr.hangup_cause = "CANCEL";
        spdlog::info("call {} cancelled by publisher", call.facts.call_uuid);
        hang_up(call, call.out);
      }
      return;
    case nua_i_bye:
      if (call.cdr.hangup_side.empty()) {
        call.cdr.hangup_side = leg->side == Side::inbound ? "publisher" : "buyer";
        call.cdr.hangup_cause = "BYE";
      }
      leg->bye_sent = true;  // nua answers the BYE; nothing more to send here
      spdlog::info("call {} BYE from {}", call.facts.call_uuid, call.cdr.hangup_side);
      hang_up(call, other(*leg));
      return;
    case nua_i_info:
    case nua_i_update: on_in_dialog_request(*leg, event, sip); return;
    case nua_r_info:
    case nua_r_update: on_in_dialog_response(*leg, status, sip); return;
    case nua_i_state:
      if (callstate_of(tags) == nua_callstate_terminated) on_leg_terminated(*leg);
      return;
    default: return;
  }
}

// The stack a buyer leg leaves from: one of the target's address family (an
// IPv6 literal host, else IPv4 or a name), else a wildcard stack, else the
// first.
const SipServer::Impl::Stack& SipServer::Impl::stack_for(const std::string& request_uri) const {
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

// ------------------------------------------------------------------ inbound

InboundInvite SipServer::Impl::inbound_facts(sip_t const* sip) {
  InboundInvite invite;
  const url_t* ruri = sip->sip_request->rq_url;
  invite.request_host = str(ruri->url_host);
  invite.request_user = str(ruri->url_user);
  invite.request_uri = url_text(ruri);
  if (msg_t* msg = nua_current_request(nua)) {
    if (su_addrinfo_t* ai = msg_addrinfo(msg)) {
      if (auto ip = auth::ip_from_sockaddr(ai->ai_addr, ai->ai_addrlen)) invite.source = *ip;
    }
  }
  for (const sip_unknown_t* u = sip->sip_unknown; u; u = u->un_next) {
    if (u->un_name && strcasecmp(u->un_name, snapshot->settings.front_end_source_header.c_str()) == 0) {
      invite.forwarded_source = str(u->un_value);
      break;
    }
  }
  su_home_t home[1] = {SU_HOME_INIT(home)};
  for (const sip_proxy_authorization_t* a = sip->sip_proxy_authorization; a; a = a->au_next) {
    if (a->au_scheme == nullptr || strcasecmp(a->au_scheme, "Digest") != 0) continue;
    auth_response_t ar[1];
    std::memset(ar, 0, sizeof ar);
    ar->ar_size = sizeof ar[0];
    if (auth_digest_response_get(home, ar, a->au_params) < 0) continue;
    DigestCredentials c;
    c.username = str(ar->ar_username);
    c.realm = str(ar->ar_realm);
    c.nonce = str(ar->ar_nonce);
    c.uri = normalized_uri(home, ar->ar_uri);
    c.response = str(ar->ar_response);
    c.algorithm = str(ar->ar_algorithm);
    c.qop = str(ar->ar_qop);
    c.nc = str(ar->ar_nc);
    c.cnonce = str(ar->ar_cnonce);
    invite.credentials.push_back(std::move(c));
  }
  su_home_deinit(home);
  return invite;
}

void SipServer::Impl::on_options(nua_handle_t* nh, sip_t const* sip) {
  const url_t* ruri = sip && sip->sip_request ? sip->sip_request->rq_url : nullptr;
  std::string host = ruri ? str(ruri->url_host) : "";
  // Probes from publishers name our domain; load balancers probe the box
  // by address.
  bool ours = snapshot->find_domain(host) != nullptr || auth::parse_ip(host).has_value();
  if (ours && !draining) {
    nua_respond(nh, SIP_200_OK, NUTAG_WITH_THIS(nua), TAG_END());
  } else if (ours) {
    nua_respond(nh, 503, "Service Unavailable (Draining)", NUTAG_WITH_THIS(nua), TAG_END());
  } else {
    nua_respond(nh, 404, "Not Found (Unknown Domain)", NUTAG_WITH_THIS(nua), TAG_END());
  }
  nua_handle_destroy(nh);
}

void SipServer::Impl::on_new_invite(nua_handle_t* nh, sip_t const* sip) {
  if (draining) {
    metrics.invite("unknown", "draining");
    std::string retry = std::to_string(snapshot->settings.retry_after_seconds);
    nua_respond(nh, 503, "Service Unavailable (Draining)", SIPTAG_RETRY_AFTER_STR(retry.c_str()), TAG_END());
    return;
  }
  if (sip == nullptr || sip->sip_request == nullptr) {
    nua_respond(nh, 400, "Bad Request", TAG_END());
    return;
  }
  unsigned long max_forwards = sip->sip_max_forwards ? sip->sip_max_forwards->mf_count : 70;
  if (max_forwards <= 1) {
    nua_respond(nh, 483, "Too Many Hops", TAG_END());
    return;
  }

  auto snap = snapshot;  // the call keeps this generation
  InboundInvite invite = inbound_facts(sip);
  const std::int64_t now = now_ms();
  Decision decision = admit(*snap, invite, digest, now / 1000);
  const routing::Domain* domain = snap->find_domain(invite.request_host);
  const std::string domain_label = domain ? domain->name : "unknown";  // bounded: provisioned names only

  if (auto* challenge = std::get_if<Challenge>(&decision)) {
    metrics.invite(domain_label, "challenged");
    std::string headers;
    for (auto& value : challenge_headers(*challenge, digest, now / 1000)) {
      if (!headers.empty()) headers += "\r\n";
      headers += "Proxy-Authenticate: " + value;
    }
    nua_respond(nh, SIP_407_PROXY_AUTH_REQUIRED, SIPTAG_HEADER_STR(headers.c_str()), TAG_END());
    return;
  }
  if (auto* rejected = std::get_if<Rejected>(&decision)) {
    metrics.invite(domain_label, "rejected");
    const std::string& r = rejected->reason;
    if (r == "ip_not_allowed" || r == "bad_credentials" || r == "nonce_replay" || r == "publisher_disabled") {
      metrics.auth_failure(domain_label, r);
    }
    spdlog::info("INVITE sip:{}@{} from {} rejected {} ({}{}{})", invite.request_user, invite.request_host,
                 auth::to_string(publisher_address(*snap, invite)), rejected->status, rejected->reason, rejected->detail.empty() ? "" : ": ",
                 rejected->detail);
    nua_respond(nh, rejected->status, rejected->phrase, TAG_END());
    return;
  }

  auto& admitted = std::get<Admitted>(decision);
  const routing::Publisher* publisher = snap->find_publisher(admitted.publisher_id);
  if (publisher && publisher->concurrency_cap && ledger.publisher_calls(publisher->id) >= *publisher->concurrency_cap) {
    spdlog::info("INVITE {} from publisher {} refused: publisher at its concurrency cap", invite.request_user, publisher->id);
    nua_respond(nh, 486, "Busy Here (Publisher Concurrency Cap)", TAG_END());
    return;
  }
  auto owned = std::make_unique<Call>();
  Call& call = *owned;
  call.id = next_call_id++;
  call.snapshot = snap;
  call.in = Leg{&call, Side::inbound, nh, false, false, false, {}};
  call.out = Leg{&call, Side::outbound, nullptr, false, false, false, {}};
  nua_handle_bind(nh, &call.in);

  auto& f = call.facts;
  f.call_uuid = new_call_uuid();
  f.postback_key = new_postback_key();
  f.publisher_id = admitted.publisher_id;
  f.campaign_id = admitted.campaign->id;
  f.number = admitted.number->e164;
  f.caller_number = sip->sip_from ? routing::sanitize_header_value(str(sip->sip_from->a_url->url_user)) : "";
  for (const sip_unknown_t* u = sip->sip_unknown; u; u = u->un_next) {
    if (u->un_name && strcasecmp(u->un_name, snap->settings.inbound_sub_id_header.c_str()) == 0) {
      f.sub_id = routing::sanitize_header_value(str(u->un_value));
      break;
    }
  }
  Body offer = body_of(sip, "application/sdp");
  call.sdp = std::move(offer.data);
  call.content_type = std::move(offer.type);
  call.max_forwards = std::to_string(max_forwards - 1);

  auto& cdr = call.cdr;
  cdr.uuid = f.call_uuid;
  cdr.postback_key = f.postback_key;
  cdr.publisher_id = f.publisher_id;
  if (!f.sub_id.empty()) cdr.sub_id = f.sub_id;
  cdr.caller = f.caller_number;
  cdr.number = f.number;
  cdr.campaign_id = f.campaign_id;
  cdr.invite_at = now;

  spdlog::info("call {} INVITE {} from publisher {} ({}) campaign {}", f.call_uuid, f.number, f.publisher_id,
               auth::to_string(publisher_address(*snap, invite)), f.campaign_id);
  ledger.publisher_call_started(f.publisher_id);
  call.counted_for_publisher = true;
  metrics.invite(domain_label, "admitted");
  metrics.call_started();
  calls.emplace(call.id, std::move(owned));
  if (call.id % 1024 == 0) ledger.prune(std::chrono::system_clock::now());
  start_buyer_leg(call);
}

// ------------------------------------------------------------------ buyer leg

void SipServer::Impl::start_buyer_leg(Call& call) {
  const routing::Snapshot& s = *call.snapshot;
  const routing::Campaign* campaign = s.find_campaign(call.facts.campaign_id);
  while (true) {
    auto selection = selector.select(s, *campaign, ledger, call.tried, std::chrono::system_clock::now());
    for (const auto& [buyer_id, reason] : selection.skipped) {
      if (reason == routing::SkipReason::tried) continue;
      spdlog::debug("call {} skips buyer {}: {}", call.facts.call_uuid, buyer_id, routing::to_string(reason));
      if (reason == routing::SkipReason::no_trunk) {
        spdlog::warn("call {} skips buyer {}: {}", call.facts.call_uuid, buyer_id, routing::to_string(reason));
      }
      (reason == routing::SkipReason::busy ? call.saw_busy : call.saw_other) = true;
    }
    if (selection.buyer == nullptr) {
      // Nobody left: 486 when every buyer was busy, else 480.
      bool all_busy = call.saw_busy && !call.saw_other;
      spdlog::info("call {} has no eligible buyer left after {} attempt(s)", call.facts.call_uuid, call.cdr.attempts.size());
      call.cdr.hangup_side = "gateway";
      call.cdr.hangup_cause = call.last_failure;
      respond_publisher(call, all_busy ? 486 : 480,
                        all_busy ? "Busy Here (All Buyers Busy)" : "Temporarily Unavailable (No Buyer Available)");
      maybe_finish(call);
      return;
    }
    call.buyer = selection.buyer;
    call.tried.insert(call.buyer->id);
    call.facts.buyer_id = call.buyer->id;
    auto outbound = build_outbound_invite(s, *call.buyer, call.facts, [this](const std::string& request_uri) {
      return stack_for(request_uri).from_host;
    });
    if (!outbound) {
      spdlog::warn("call {}: {}", call.facts.call_uuid, outbound.error());
      call.saw_other = true;
      continue;
    }
    call.outbound = std::move(*outbound);
    break;
  }
  call.auth_answered = false;
  call.cancel_sent = false;
  db::CallAttemptRecord attempt;
  attempt.attempt = static_cast<int>(call.cdr.attempts.size()) + 1;
  attempt.buyer_id = call.buyer->id;
  attempt.target = call.outbound.request_uri;
  attempt.started_at = now_ms();
  call.cdr.attempts.push_back(attempt);
  buyer_attempt_started(call);

  send_buyer_invite(call, nullptr, nullptr);
  spdlog::info("call {} -> buyer {} at {} (attempt {})", call.facts.call_uuid, call.buyer->id, call.outbound.request_uri,
               attempt.attempt);

  if (call.ring_timer == nullptr) call.ring_timer = su_timer_create(su_root_task(root), 0);
  if (call.connect_timer == nullptr) call.connect_timer = su_timer_create(su_root_task(root), 0);
  su_timer_set_interval(call.ring_timer, on_ring_timeout, &call,
                        static_cast<su_duration_t>(campaign->ring_timeout_seconds * 1000));
  su_timer_set_interval(call.connect_timer, on_connect_timeout, &call,
                        static_cast<su_duration_t>(call.buyer->connect_timeout_seconds * 1000));
}

// Sends the buyer leg's INVITE on a new handle. After a challenge
// (challenge_response set), the same INVITE again with our Authorization:
// same Call-ID, From tag and CSeq + 1 (RFC 3261 8.1.3.5), so the buyer
// matches it to the nonce it issued. The challenged handle, which nua keeps
// waiting for nua_authenticate, is destroyed.
void SipServer::Impl::send_buyer_invite(Call& call, const BuyerAuthorization* authorization,
                                        sip_t const* challenge_response) {
  std::string from = call.outbound.from;
  std::string call_id, cseq;
  if (challenge_response) {
    if (challenge_response->sip_from && challenge_response->sip_from->a_tag) {
      from += ";tag=" + std::string(challenge_response->sip_from->a_tag);
    }
    if (challenge_response->sip_call_id) call_id = str(challenge_response->sip_call_id->i_id);
    if (challenge_response->sip_cseq) cseq = std::to_string(challenge_response->sip_cseq->cs_seq + 1) + " INVITE";
    release_leg(call.out);
  }
  call.out.nh = nua_handle(stack_for(call.outbound.request_uri).nua, &call.out,
                           SIPTAG_TO_STR(call.outbound.to.c_str()), SIPTAG_FROM_STR(from.c_str()), TAG_END());
  call.out.terminated = false;
  call.out.established = false;
  call.out.bye_sent = false;
  if (call.out.nh == nullptr) {  // out of memory: the attempt fails like a dead buyer
    spdlog::error("call {}: cannot create a buyer leg handle", call.facts.call_uuid);
    call.out.terminated = true;
    return;
  }
  const bool www = authorization && !authorization->proxy;
  const bool proxy = authorization && authorization->proxy;
  const char* credentials = authorization ? authorization->value.c_str() : "";
  nua_invite(call.out.nh, NUTAG_URL(call.outbound.request_uri.c_str()),
             SIPTAG_MAX_FORWARDS_STR(call.max_forwards.c_str()), SIPTAG_HEADER_STR(call.outbound.extra_headers.c_str()),
             TAG_IF(!call_id.empty(), SIPTAG_CALL_ID_STR(call_id.c_str())),
             TAG_IF(!cseq.empty(), SIPTAG_CSEQ_STR(cseq.c_str())),
             TAG_IF(www, SIPTAG_AUTHORIZATION_STR(credentials)), TAG_IF(proxy, SIPTAG_PROXY_AUTHORIZATION_STR(credentials)),
             TAG_IF(!call.sdp.empty(), SIPTAG_CONTENT_TYPE_STR(call.content_type.c_str())),
             TAG_IF(!call.sdp.empty(), SIPTAG_PAYLOAD_STR(call.sdp.c_str())), TAG_END());
}

// Answers a buyer's (or the trunk's) 401/407 with the configured
// credentials, once per attempt: a second challenge means they are wrong.
// sipgw computes the digest itself (auth/digest_client.h) because Sofia's
// NUTAG_AUTH string cannot carry a ':' in the username or password.
bool SipServer::Impl::answer_buyer_challenge(Call& call, int status, sip_t const* sip) {
  if (!call.outbound.credentials || call.auth_answered || sip == nullptr) return false;
  const msg_auth_t* challenges = status == 401 ? sip->sip_www_authenticate : sip->sip_proxy_authenticate;
  su_home_t home[1] = {SU_HOME_INIT(home)};
  const std::string uri = normalized_uri(home, call.outbound.request_uri.c_str());
  su_home_deinit(home);
  const std::string cnonce = random_cnonce();
  for (const msg_auth_t* c = challenges; c; c = c->au_next) {
    auto challenge = auth::parse_digest_challenge(str(c->au_scheme), challenge_params(c));
    if (!challenge) continue;
    auto value = auth::digest_authorization(*challenge, call.outbound.credentials->username,
                                            call.outbound.credentials->password, {"INVITE", uri, cnonce});
    if (!value) {
      spdlog::info("call {} buyer {} challenge not answered: {}", call.facts.call_uuid, call.buyer->id, value.error());
      continue;
    }
    call.auth_answered = true;
    BuyerAuthorization authorization{status == 407, std::move(*value)};
    send_buyer_invite(call, &authorization, sip);
    return true;
  }
  return false;
}

// The ledger (caps) and the buyer gauge count an attempt from its INVITE
// until it fails or, once answered, until the call ends.
void SipServer::Impl::buyer_attempt_started(Call& call) {
  ledger.attempt_started(call.buyer->id);
  metrics.buyer_call_started(call.buyer->id);
  call.attempt_counted = true;
}

void SipServer::Impl::buyer_attempt_stopped(Call& call) {
  if (!call.attempt_counted) return;
  ledger.attempt_ended(call.buyer->id);
  metrics.buyer_call_ended(call.buyer->id);
  call.attempt_counted = false;
}

void SipServer::Impl::stop_attempt_timers(Call& call) {
  if (call.ring_timer) su_timer_reset(call.ring_timer);
  if (call.connect_timer) su_timer_reset(call.connect_timer);
}

// The current attempt is over without an answer: count it out and try the
// next eligible buyer while the publisher keeps waiting.
void SipServer::Impl::fail_over(Call& call, const std::string& cause, bool busy) {
  stop_attempt_timers(call);
  buyer_attempt_stopped(call);
  (busy ? call.saw_busy : call.saw_other) = true;
  call.last_failure = cause;
  // Nobody to connect any more: the publisher got its answer or is gone.
  if (call.publisher_final_sent || call.in.terminated || call.in.nh == nullptr) {
    maybe_finish(call);
    return;
  }
  start_buyer_leg(call);
}

// Leaves the current buyer leg to itself: CANCEL it and unbind the handle;
// late events for it land in the unbound branch of dispatch().
void SipServer::Impl::abandon_buyer_leg(Call& call) {
  if (call.out.nh == nullptr || call.out.terminated) return;
  nua_cancel(call.out.nh, TAG_END());
  nua_handle_bind(call.out.nh, nullptr);
  call.out.nh = nullptr;
  call.out.terminated = true;
}

void SipServer::Impl::on_connect_timeout(Impl* self, su_timer_t*, Call* call) {
  if (call->answered || call->publisher_final_sent) return;
  spdlog::info("call {} buyer {} sent no 18x within {} s: next buyer", call->facts.call_uuid, call->buyer->id,
               call->buyer->connect_timeout_seconds);
  self->end_attempt(*call, std::nullopt, "connect timeout");
  self->abandon_buyer_leg(*call);
  self->fail_over(*call, "connect_timeout", false);
}

void SipServer::Impl::on_buyer_response(Call& call, int status, char const* phrase, sip_t const* sip) {
  if (status < 200) {
    if (status == 100 || call.publisher_final_sent) return;
    if (call.connect_timer) su_timer_reset(call.connect_timer);  // the buyer is alive
    if (call.provisional_sent) return;  // one 18x for the publisher, whichever buyer rings
    call.provisional_sent = true;
    metrics.post_dial_delay(static_cast<double>(now_ms() - call.cdr.invite_at) / 1000.0);
    relay_response(call.in.nh, status, body_of(sip, "application/sdp"));
    return;
  }
  if ((status == 401 || status == 407) && answer_buyer_challenge(call, status, sip)) return;
  if (status < 300) {
    nua_ack(call.out.nh, TAG_END());
    call.out.established = true;
    stop_attempt_timers(call);
    ledger.connected(call.buyer->id, std::chrono::system_clock::now());
    auto& attempt = call.cdr.attempts.back();
    attempt.status = status;
    attempt.reason = str(phrase);
    attempt.answer_at = now_ms();
    if (call.publisher_final_sent) {
      // The publisher is gone (CANCEL or timeout raced the answer).
      hang_up(call, call.out);
      return;
    }
    call.answered = true;
    metrics.buyer_attempt(call.buyer->id, "answered");
    metrics.call_setup(static_cast<double>(attempt.answer_at.value_or(now_ms()) - call.cdr.invite_at) / 1000.0);
    call.cdr.buyer_id = call.buyer->id;
    call.cdr.answer_at = attempt.answer_at;
    call.cdr.final_status = status;
    call.publisher_final_sent = true;
    call.in.established = true;
    relay_response(call.in.nh, status, body_of(sip, "application/sdp"));
    spdlog::info("call {} answered by buyer {}", call.facts.call_uuid, call.buyer->id);
    return;
  }
  // A final failure from the buyer. The INVITE transaction is over (nta
  // ACKs non-2xx itself) but nua keeps the handle in case we authenticate,
  // so the leg is released here rather than on a state event.
  end_attempt(call, status, str(phrase));
  release_leg(call.out);
  if (call.cancel_sent || call.publisher_final_sent) {  // our own CANCEL's 487, or already answered
    fail_over(call, "cancelled", false);
    return;
  }
  spdlog::info("call {} buyer {} answered {} {}", call.facts.call_uuid, call.buyer->id, status, str(phrase));
  // Busy means the buyer could take calls but not this one now.
  fail_over(call, "buyer_status", status == 486 || status == 600);
}

void SipServer::Impl::release_leg(Leg& leg) {
  leg.terminated = true;
  for (auto pending : leg.pending) {
    nua_saved_event_t saved[1] = {pending};
    nua_destroy_event(saved);
  }
  leg.pending.clear();
  if (leg.nh) {
    nua_handle_bind(leg.nh, nullptr);
    nua_handle_destroy(leg.nh);
    leg.nh = nullptr;
  }
}

void SipServer::Impl::end_attempt(Call& call, std::optional<int> status, const std::string& reason) {
  if (call.cdr.attempts.empty()) return;
  auto& attempt = call.cdr.attempts.back();
  if (attempt.ended_at) return;
  if (!attempt.answer_at) {
    int st = status.value_or(0);
    const char* result = st == 486 || st == 600 ? "busy"
                         : reason.find("timeout") != std::string::npos ? "timeout"
                         : call.cancel_sent || st == 487 ? "cancelled"
                                                         : "failed";
    metrics.buyer_attempt(attempt.buyer_id, result);
  }
  if (status && !attempt.status) attempt.status = *status;
  if (attempt.reason.empty()) attempt.reason = reason;
  attempt.ended_at = now_ms();
}

// phrase: static storage only (see static_phrase).
void SipServer::Impl::respond_publisher(Call& call, int status, const char* phrase) {
  if (call.publisher_final_sent) return;
  call.publisher_final_sent = true;
  call.cdr.final_status = status;
  if (call.in.nh && !call.in.terminated) nua_respond(call.in.nh, status, phrase, TAG_END());
}

void SipServer::Impl::on_ring_timeout(Impl* self, su_timer_t*, Call* call) {
  if (call->answered || call->publisher_final_sent) return;
  spdlog::info("call {} ring timeout at buyer {}: next buyer", call->facts.call_uuid, call->buyer ? call->buyer->id : "-");
  self->end_attempt(*call, std::nullopt, "ring timeout");
  self->abandon_buyer_leg(*call);
  self->fail_over(*call, "ring_timeout", false);
}

// Ends one leg in whatever way its state needs.
void SipServer::Impl::hang_up(Call& call, Leg& leg) {
  if (leg.nh == nullptr || leg.terminated || leg.bye_sent) return;
  if (leg.established) {
    leg.bye_sent = true;
    nua_bye(leg.nh, TAG_END());
  } else if (leg.side == Side::outbound) {
    if (!call.cancel_sent) {
      call.cancel_sent = true;
      nua_cancel(leg.nh, TAG_END());
    }
  } else {
    respond_publisher(call, 480, "Temporarily Unavailable");
  }
}

void SipServer::Impl::on_leg_terminated(Leg& leg) {
  Call& call = *leg.call;
  release_leg(leg);
  if (leg.side == Side::outbound && !call.answered && !call.publisher_final_sent) {
    // The buyer leg died before an answer: the next buyer gets the call.
    // (fail_over may finish and free the call: nothing after it.)
    end_attempt(call, std::nullopt, "terminated");
    fail_over(call, "terminated", false);
    return;
  }
  if (leg.side == Side::outbound) end_attempt(call, std::nullopt, "terminated");
  // A leg that vanished (timeout, transport error) takes the other with it.
  if (call.cdr.hangup_side.empty()) {
    call.cdr.hangup_side = leg.side == Side::inbound ? "publisher" : "buyer";
    call.cdr.hangup_cause = "terminated";
  }
  hang_up(call, other(leg));
  maybe_finish(call);
}

void SipServer::Impl::maybe_finish(Call& call) {
  bool in_done = call.in.terminated || call.in.nh == nullptr;
  bool out_done = call.out.terminated || call.out.nh == nullptr;
  if (!in_done || !out_done) return;
  for (su_timer_t** timer : {&call.ring_timer, &call.connect_timer}) {
    if (*timer) {
      su_timer_destroy(*timer);
      *timer = nullptr;
    }
  }
  buyer_attempt_stopped(call);
  if (call.counted_for_publisher) {
    ledger.publisher_call_ended(call.facts.publisher_id);
    call.counted_for_publisher = false;
  }
  call.cdr.end_at = now_ms();
  if (call.cdr.final_status == 0) call.cdr.final_status = call.answered ? 200 : 500;
  const int fs = call.cdr.final_status;
  metrics.call_ended(call.answered ? "answered" : fs == 486 ? "busy" : fs == 480 ? "no_answer" : fs == 487 ? "cancelled" : "failed");
  spdlog::info("call {} ended: status {}, hangup {} ({})", call.facts.call_uuid, call.cdr.final_status,
               call.cdr.hangup_side, call.cdr.hangup_cause);
  if (cdr_sink) cdr_sink(std::move(call.cdr));
  calls.erase(call.id);
  maybe_shut_down();
}

// ------------------------------------------------------------------ in-dialog

void SipServer::Impl::on_reinvite(Leg& from, sip_t const* sip) {
  Call& call = *from.call;
  Leg& to = other(from);
  if (!call.answered || to.nh == nullptr || to.terminated || call.reinvite_from != nullptr) {
    nua_respond(from.nh, 491, "Request Pending", TAG_END());
    return;
  }
  call.reinvite_from = &from;
  relay_request(nua_invite, to.nh, body_of(sip, "application/sdp"));
}

void SipServer::Impl::on_reinvite_response(Leg& to, int status, sip_t const* sip) {
  Call& call = *to.call;
  if (status < 200 || call.reinvite_from == nullptr) return;
  if (status < 300) nua_ack(to.nh, TAG_END());
  Leg* from = call.reinvite_from;
  call.reinvite_from = nullptr;
  if (from->nh == nullptr || from->terminated) return;
  relay_response(from->nh, status, body_of(sip, "application/sdp"));
}

void SipServer::Impl::on_in_dialog_request(Leg& from, nua_event_t event, sip_t const* sip) {
  Leg& to = other(from);
  if (to.nh == nullptr || to.terminated) {
    nua_respond(from.nh, SIP_481_NO_TRANSACTION, NUTAG_WITH_THIS(nua), TAG_END());
    return;
  }
  nua_saved_event_t saved[1];
  nua_save_event(nua, saved);
  from.pending.push_back(saved[0]);
  relay_request(event == nua_i_info ? nua_info : nua_update, to.nh, body_of(sip, ""));
}

void SipServer::Impl::on_in_dialog_response(Leg& to, int status, sip_t const* sip) {
  if (status < 200) return;
  Leg& from = other(to);
  if (from.pending.empty() || from.nh == nullptr) return;
  nua_saved_event_t saved[1] = {from.pending.front()};
  from.pending.pop_front();
  relay_response(from.nh, status, body_of(sip, ""), saved);
  nua_destroy_event(saved);
}

// ------------------------------------------------------------------ drain

void SipServer::Impl::begin_drain(std::chrono::milliseconds timeout) {
  if (draining) return;
  draining = true;
  spdlog::info("draining: {} call(s) in progress, {} ms to finish", calls.size(), timeout.count());
  drain_timer = su_timer_create(su_root_task(root), 0);
  su_timer_set_interval(drain_timer, on_drain_timeout, nullptr, static_cast<su_duration_t>(timeout.count()));
  maybe_shut_down();
}

void SipServer::Impl::on_drain_timeout(Impl* self, su_timer_t*, Call*) {
  spdlog::info("drain timeout: hanging up {} call(s)", self->calls.size());
  std::vector<Call*> remaining;
  for (auto& [id, call] : self->calls) remaining.push_back(call.get());
  for (Call* call : remaining) {
    if (call->cdr.hangup_side.empty()) {
      call->cdr.hangup_side = "gateway";
      call->cdr.hangup_cause = "drain";
    }
    self->hang_up(*call, call->out);
    self->hang_up(*call, call->in);
  }
}

void SipServer::Impl::maybe_shut_down() {
  if (!draining || shutting_down || !calls.empty()) return;
  shutting_down = true;
  for (auto& stack : stacks) nua_shutdown(stack.nua);
}

// ------------------------------------------------------------------ public

SipServer::SipServer(SipServerConfig config, std::shared_ptr<const routing::Snapshot> snapshot, CdrSink cdr_sink,
                     Metrics& metrics)
    : impl_(std::make_unique<Impl>(metrics)) {
  impl_->config = std::move(config);
  impl_->snapshot = std::move(snapshot);
  impl_->cdr_sink = std::move(cdr_sink);
}

SipServer::~SipServer() { join(); }

std::expected<void, std::string> SipServer::start() {
  std::promise<std::expected<void, std::string>> started;
  auto result = started.get_future();
  thread_ = std::thread([this, &started] { impl_->run(started); });
  auto r = result.get();
  if (!r) join();
  return r;
}

void SipServer::restore_connections(std::vector<std::pair<std::string, std::int64_t>> connections) {
  impl_->inbox.post([impl = impl_.get(), connections = std::move(connections)] {
    for (const auto& [buyer_id, answer_ms] : connections) {
      impl->ledger.connected(buyer_id, routing::TimePoint(std::chrono::milliseconds(answer_ms)));
    }
  });
}

void SipServer::update_snapshot(std::shared_ptr<const routing::Snapshot> snapshot) {
  impl_->inbox.post([impl = impl_.get(), snapshot = std::move(snapshot)]() mutable {
    impl->snapshot = std::move(snapshot);
    impl->publish_buyer_caps();
  });
}

void SipServer::Impl::publish_buyer_caps() {
  for (const auto& [id, buyer] : snapshot->buyers) metrics.buyer_concurrency_cap(id, buyer.concurrency_cap.value_or(0));
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
