#include "gateway/sofia_leg.h"

#include "auth/digest_client.h"
#include "auth/text.h"
#include "routing/tokens.h"

#include <spdlog/spdlog.h>

namespace sipgw::gateway {

namespace sofia {

std::string url_text(const url_t* url) {
  if (url == nullptr) return {};
  char buffer[1024];
  int n = snprintf(buffer, sizeof buffer, URL_PRINT_FORMAT, URL_PRINT_ARGS(url));
  if (n < 0 || static_cast<std::size_t>(n) >= sizeof buffer) return {};
  return buffer;
}

std::string normalized_uri(const char* text) {
  if (text == nullptr) return {};
  su_home_t home[1] = {SU_HOME_INIT(home)};
  url_t* parsed = url_make(home, text);
  std::string out = parsed ? url_text(parsed) : std::string(text);
  su_home_deinit(home);
  return out;
}

}  // namespace sofia

namespace {

using sofia::str;

Body body_of(sip_t const* sip, const char* default_type) {
  Body b;
  if (sip && sip->sip_payload && sip->sip_payload->pl_data) {
    b.data.assign(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
    b.type = sip->sip_content_type && sip->sip_content_type->c_type ? sip->sip_content_type->c_type : default_type;
  }
  return b;
}

// Whether nua ends a confirmed dialog after this final answer to a request
// of ours in it. nua asks sip_response_terminates_dialog (RFC 5057): the
// dialog or usage ends on 404, 405, 408, 410, 416, 480-482, 485, 502,
// 604, ...; and where that leaves "graceful" set (500, 501, 503, 504,
// unknown 5xx, 600, unknown 6xx) nua sends BYE by itself
// (nua_client_response sets cr_graceful, nua_invite_client_report turns it
// into a BYE). No nua parameter prevents it, so a 5xx to a relayed
// re-INVITE ends that leg, and the call with it.
bool stack_ends_dialog(int status, sip_method_t method) {
  if (status < 300) return false;
  int graceful = 1;  // nua's own starting value
  const int ends = status < 700 ? sip_response_terminates_dialog(status, method, &graceful) : 0;
  return ends != 0 || graceful != 0;
}

const char* default_body_type(InDialogMethod method) { return method == InDialogMethod::reinvite ? "application/sdp" : ""; }

SessionTimerHeaders timer_headers(sip_t const* sip) {
  SessionTimerHeaders h;
  if (sip == nullptr) return h;
  h.supported = sip_has_feature(sip->sip_supported, "timer");
  h.required = sip_has_feature(sip->sip_require, "timer");
  if (const sip_session_expires_t* x = sip->sip_session_expires) {
    h.expires = static_cast<unsigned>(x->x_delta);
    if (x->x_refresher && strcasecmp(x->x_refresher, "uac") == 0) h.refresher = SessionTimerHeaders::Refresher::uac;
    if (x->x_refresher && strcasecmp(x->x_refresher, "uas") == 0) h.refresher = SessionTimerHeaders::Refresher::uas;
  }
  if (sip->sip_min_se) h.min_se = static_cast<unsigned>(sip->sip_min_se->min_delta);
  return h;
}

bool is_sdp(const Body& body) { return body.present() && (body.type.empty() || auth::iequals(body.type, "application/sdp")); }

// The SDP's o= line: its session id and version change whenever the SDP
// does (RFC 3264 8), so an equal line means the same session description.
std::string sdp_origin(const Body& body) {
  if (!is_sdp(body)) return {};
  const std::string& sdp = body.data;
  std::size_t at = sdp.rfind("o=", 0) == 0 ? 0 : sdp.find("\no=");
  if (at == std::string::npos) return {};
  if (at != 0) ++at;
  std::size_t end = sdp.find_first_of("\r\n", at);
  return sdp.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

// sip_is_allowed reads the parsed Allow's bitmap of well-known methods.
bool allows_update(sip_t const* sip) { return sip && sip_is_allowed(sip->sip_allow, sip_method_update, "UPDATE"); }

// Relays a status with its body; `saved` answers a request kept with
// nua_save_event.
void respond_with(nua_handle_t* nh, int status, const char* phrase, const Body& body, const std::string& headers,
                  nua_saved_event_t* saved) {
  const bool typed = body.present() && !body.type.empty();
  nua_respond(nh, status, phrase, TAG_IF(saved != nullptr, NUTAG_WITH_SAVED(saved)),
              TAG_IF(typed, SIPTAG_CONTENT_TYPE_STR(body.type.c_str())),
              TAG_IF(body.present(), SIPTAG_PAYLOAD_STR(body.data.c_str())),
              TAG_IF(!headers.empty(), SIPTAG_HEADER_STR(headers.c_str())), TAG_END());
}

int callstate_of(tagi_t tags[]) {
  int state = nua_callstate_init;
  tl_gets(tags, NUTAG_CALLSTATE_REF(state), TAG_END());
  return state;
}

}  // namespace

std::string_view to_string(SessionRefresh refresh) {
  switch (refresh) {
    case SessionRefresh::sent: return "sent";
    case SessionRefresh::failed: return "failed";
    case SessionRefresh::received: return "received";
  }
  return "?";
}

std::string_view to_string(DialogState state) {
  switch (state) {
    case DialogState::early: return "early";
    case DialogState::answered: return "answered";
    case DialogState::confirmed: return "confirmed";
    case DialogState::ending: return "ending";
    case DialogState::terminated: return "terminated";
  }
  return "?";
}

std::string_view to_string(InDialogMethod method) {
  switch (method) {
    case InDialogMethod::reinvite: return "re-INVITE";
    case InDialogMethod::info: return "INFO";
    case InDialogMethod::update: return "UPDATE";
  }
  return "?";
}

SofiaLeg::SofiaLeg(nua_t* nua, nua_handle_t* nh, sip_t const* invite, FinishingHandles& finishing, Clock& clock,
                   SessionTimers timers, SessionRefreshObserver& refreshes)
    : nua_(nua), nh_(nh), finishing_(&finishing), refreshes_(&refreshes), timers_(timers),
      session_(agree_as_uas(timer_headers(invite), timers)), expiry_timer_(clock), outgoing_(false) {
  nua_handle_bind(nh_, this);
  learn_peer_methods(invite);
  remember_remote(body_of(invite, "application/sdp"));
}

SofiaLeg::SofiaLeg(nua_t* nua, Clock& clock, SessionTimers timers, SessionRefreshObserver& refreshes)
    : nua_(nua), refreshes_(&refreshes), timers_(timers), expiry_timer_(clock), outgoing_(true) {}

void SofiaLeg::transition(DialogState to, std::string_view cause) {
  spdlog::debug("leg {}: {} -> {} ({})", static_cast<const void*>(this), to_string(state_), to_string(to), cause);
  state_ = to;
  if (to == DialogState::ending || to == DialogState::terminated) expiry_timer_.cancel();
}

void SofiaLeg::refreshed(SessionAgreement agreement) {
  session_ = agreement;
  if (state_ != DialogState::confirmed || !session_.active()) {
    expiry_timer_.cancel();
    return;
  }
  expiry_timer_.start(session_.expiry(), [this] { session_expired(); });
}

void SofiaLeg::session_expired() {
  if (state_ != DialogState::confirmed || listener_ == nullptr) return;
  transition(DialogState::ending, "session expired");
  listener_->on_session_expired();
}

void SofiaLeg::learn_peer_methods(sip_t const* sip) {
  if (nh_ == nullptr || update_refresh_ || !allows_update(sip)) return;
  update_refresh_ = true;
  nua_set_hparams(nh_, NUTAG_UPDATE_REFRESH(1), TAG_END());
}

void SofiaLeg::remember_remote(const Body& body) {
  if (auto origin = sdp_origin(body); !origin.empty()) remote_origin_ = std::move(origin);
}

void SofiaLeg::remember_local(const Body& body) {
  if (is_sdp(body)) local_sdp_ = body;
}

// A peer's session refresh: a re-INVITE with the SDP it sent last (same o=
// line), once this leg has SDP of its own to answer with. A re-INVITE
// without SDP asks for a fresh offer, which only the far side can make: it
// is relayed (delayed offer), never answered here with an old one.
bool SofiaLeg::is_refresh(const Body& offer) const {
  if (!local_sdp_.present() || !offer.present()) return false;
  const std::string origin = sdp_origin(offer);
  return !origin.empty() && origin == remote_origin_;
}

SofiaLeg::~SofiaLeg() { release(); }

void SofiaLeg::release() {
  for (auto pending : pending_) {
    nua_saved_event_t saved[1] = {pending};
    nua_destroy_event(saved);
  }
  pending_.clear();
  expiry_timer_.cancel();
  if (finishing_ && state_ != DialogState::terminated && nh_ != nullptr) {
    // A publisher leg sipgw is done with while its last transaction still
    // runs (a BYE to a peer that may have vanished, a final response
    // awaiting its ACK): nua finishes it, retransmissions included, and the
    // pump destroys the handle when it ends or at shutdown.
    nua_handle_bind(nh_, nullptr);
    finishing_->add(nh_);
    nh_ = nullptr;
  }
  drop_handle();
  listener_ = nullptr;
}

// Late events for a dropped handle go to the pump's handler for unowned ones.
void SofiaLeg::drop_handle() {
  if (nh_ == nullptr) return;
  nua_handle_bind(nh_, nullptr);
  nua_handle_destroy(nh_);
  nh_ = nullptr;
}

void SofiaLeg::respond(int status, const char* phrase, const Body& body, const std::string& headers) {
  if (status < 300) remember_local(body);
  if (nh_) respond_with(nh_, status, phrase ? phrase : sofia::static_phrase(status), body, headers, nullptr);
}

bool SofiaLeg::invite(const OutboundInvite& request, const std::string& max_forwards, const Body& offer) {
  request_ = request;
  max_forwards_ = max_forwards;
  offer_ = offer;
  remember_local(offer);
  return send_invite(nullptr);
}

// The INVITE on a new handle. After a challenge, the same INVITE again
// with our Authorization: same Call-ID, From tag and CSeq + 1 (RFC 3261
// 8.1.3.5), so the buyer matches it to the nonce it issued. The challenged
// handle, which nua keeps waiting for nua_authenticate, is destroyed.
bool SofiaLeg::send_invite(const Authorization* authorization) {
  std::string from = request_.from, cseq;
  if (authorization && challenge_) {
    if (!challenge_->from_tag.empty()) from += ";tag=" + challenge_->from_tag;
    cseq = std::to_string(challenge_->cseq + 1) + " INVITE";
  }
  drop_handle();
  nh_ = nua_handle(nua_, this, SIPTAG_TO_STR(request_.to.c_str()), SIPTAG_FROM_STR(from.c_str()), TAG_END());
  if (nh_ == nullptr) return false;
  update_refresh_ = false;
  last_invite_offered_ = offer_.present();
  const bool www = authorization && !authorization->proxy;
  const bool proxy = authorization && authorization->proxy;
  const char* credentials = authorization ? authorization->value.c_str() : "";
  const bool repeat = authorization && challenge_;
  // Supported in the message, not the stack's "timer, 100rel": a buyer's
  // 18x stay unreliable (see apply_settings). Not as a handle parameter
  // either: a handle with parameters of its own carries a private copy of
  // all of them, about 1.8 KB more per call for the 32 s nua keeps it
  // (measured: PSS 538 -> 513 MB at 1,000 calls/s).
  nua_invite(nh_, NUTAG_URL(request_.request_uri.c_str()), SIPTAG_MAX_FORWARDS_STR(max_forwards_.c_str()),
             SIPTAG_SUPPORTED_STR(timers_.expires > 0 ? "timer" : ""),
             SIPTAG_HEADER_STR(request_.extra_headers.c_str()),
             TAG_IF(repeat, SIPTAG_CALL_ID_STR(repeat ? challenge_->call_id.c_str() : "")),
             TAG_IF(repeat, SIPTAG_CSEQ_STR(cseq.c_str())), TAG_IF(www, SIPTAG_AUTHORIZATION_STR(credentials)),
             TAG_IF(proxy, SIPTAG_PROXY_AUTHORIZATION_STR(credentials)),
             TAG_IF(offer_.present(), SIPTAG_CONTENT_TYPE_STR(offer_.type.c_str())),
             TAG_IF(offer_.present(), SIPTAG_PAYLOAD_STR(offer_.data.c_str())), TAG_END());
  return true;
}

void SofiaLeg::save_challenge(int status, sip_t const* sip) {
  Challenge c;
  c.proxy = status == 407;
  for (const msg_auth_t* a = c.proxy ? sip->sip_proxy_authenticate : sip->sip_www_authenticate; a; a = a->au_next) {
    std::vector<std::string> params;
    for (msg_param_t const* p = a->au_params; p && *p; ++p) params.emplace_back(*p);
    c.offers.emplace_back(str(a->au_scheme), std::move(params));
  }
  if (sip->sip_call_id) c.call_id = str(sip->sip_call_id->i_id);
  if (sip->sip_from && sip->sip_from->a_tag) c.from_tag = sip->sip_from->a_tag;
  if (sip->sip_cseq) c.cseq = sip->sip_cseq->cs_seq;
  challenge_ = std::move(c);
}

bool SofiaLeg::authenticate(const OutboundCredentials& credentials) {
  if (!challenge_ || challenge_->call_id.empty()) return false;
  const std::string uri = sofia::normalized_uri(request_.request_uri.c_str());
  const std::string cnonce = random_hex(12);
  for (const auto& [scheme, params] : challenge_->offers) {
    auto challenge = auth::parse_digest_challenge(scheme, params);
    if (!challenge) continue;
    auto value = auth::digest_authorization(*challenge, credentials.username, credentials.password, {"INVITE", uri, cnonce});
    if (!value) {
      spdlog::info("buyer challenge at {} not answered: {}", request_.request_uri, value.error());
      continue;
    }
    Authorization authorization{challenge_->proxy, std::move(*value)};
    return send_invite(&authorization);
  }
  return false;
}

void SofiaLeg::ack(const Body& answer) {
  if (!ack_owed_ || nh_ == nullptr) return;
  ack_owed_ = false;
  remember_local(answer);
  const bool typed = answer.present() && !answer.type.empty();
  nua_ack(nh_, TAG_IF(typed, SIPTAG_CONTENT_TYPE_STR(answer.type.c_str())),
          TAG_IF(answer.present(), SIPTAG_PAYLOAD_STR(answer.data.c_str())), TAG_END());
}
void SofiaLeg::bye() {
  if (state_ < DialogState::ending) transition(DialogState::ending, "BYE sent");
  ack({});  // a 2xx whose answer never came is ACKed before the BYE (RFC 3261 13.2.2.4)
  if (nh_) nua_bye(nh_, TAG_END());
}
void SofiaLeg::cancel(const std::string& reason) {
  if (nh_) nua_cancel(nh_, TAG_IF(!reason.empty(), SIPTAG_REASON_STR(reason.c_str())), TAG_END());
}

void SofiaLeg::send_request(InDialogMethod method, const Body& body) {
  if (nh_ == nullptr) return;
  const bool typed = body.present() && !body.type.empty();
  if (method == InDialogMethod::reinvite) {
    reinvite_sent_ = true;
    last_invite_offered_ = body.present();
  }
  if (method == InDialogMethod::update) ++updates_sent_;
  if (method != InDialogMethod::info) remember_local(body);
  auto send = method == InDialogMethod::reinvite ? nua_invite : method == InDialogMethod::info ? nua_info : nua_update;
  send(nh_, TAG_IF(typed, SIPTAG_CONTENT_TYPE_STR(body.type.c_str())),
       TAG_IF(body.present(), SIPTAG_PAYLOAD_STR(body.data.c_str())), TAG_END());
}

void SofiaLeg::answer_request(InDialogMethod method, int status, const Body& body) {
  if (nh_ == nullptr) return;
  if (method != InDialogMethod::info && status < 300) {
    remember_local(body);
    refreshed(session_);  // a successful re-INVITE or UPDATE refreshes the session (RFC 4028 10)
  }
  if (method == InDialogMethod::reinvite) {  // answered on the handle's own server request
    respond_with(nh_, status, sofia::static_phrase(status), body, {}, nullptr);
    return;
  }
  if (pending_.empty()) return;
  nua_saved_event_t saved[1] = {pending_.front()};
  pending_.pop_front();
  respond_with(nh_, status, sofia::static_phrase(status), body, {}, saved);
  nua_destroy_event(saved);
}

void SofiaLeg::on_invite_response(int status, char const* phrase, sip_t const* sip) {
  if (outgoing_ && state_ == DialogState::early) {
    const Body body = body_of(sip, "application/sdp");
    // The buyer's reason phrase goes into the CDR and the log.
    const std::string reason = routing::text_from_wire(str(phrase), 128);
    if (status > 100 && status < 300) remember_remote(body);
    if (status < 200) {
      if (status > 100) listener_->on_provisional(status, body);
    } else if (status < 300) {
      ack_owed_ = true;
      transition(DialogState::answered, std::to_string(status));
      session_ = agree_as_uac(timer_headers(sip), timers_);
      learn_peer_methods(sip);
      listener_->on_answered(status, reason, body);
    } else if ((status == 401 || status == 407) && sip) {
      save_challenge(status, sip);
      listener_->on_challenged(status);
    } else {
      listener_->on_failed(status, reason);
    }
    return;
  }
  if (status < 200) return;
  if (!reinvite_sent_) {
    on_refresh_response(status, sip);
    return;
  }
  // The answer to a re-INVITE we relayed on this leg.
  reinvite_sent_ = false;
  if (stack_ends_dialog(status, sip_method_invite) && state_ < DialogState::ending) {  // not a session expiry
    transition(DialogState::ending, "relayed re-INVITE got " + std::to_string(status) + ": the stack ends the dialog");
  }
  const Body answer = body_of(sip, "application/sdp");
  if (status < 300) {
    // A re-INVITE without SDP gets the far side's offer in its 2xx: the ACK
    // carries the answer, which only the other leg's peer can give.
    ack_owed_ = true;
    if (last_invite_offered_ || !answer.present()) ack({});
    remember_remote(answer);
    refreshed(agree_as_uac(timer_headers(sip), timers_));
  }
  listener_->on_request_answered(InDialogMethod::reinvite, status, answer);
}

// The final answer to a re-INVITE nua sent as this leg's refresher. A 2xx
// to one without SDP carries the peer's offer: the ACK answers it with the
// leg's last SDP, which the peer's unchanged offer already agreed to.
void SofiaLeg::on_refresh_response(int status, sip_t const* sip) {
  if (status >= 300) {
    refresh_failed(status);
    return;
  }
  const Body offer = body_of(sip, "application/sdp");
  const bool answer = offer.present() && !last_invite_offered_ && local_sdp_.present();
  nua_ack(nh_, TAG_IF(answer, SIPTAG_CONTENT_TYPE_STR(local_sdp_.type.empty() ? "application/sdp" : local_sdp_.type.c_str())),
          TAG_IF(answer, SIPTAG_PAYLOAD_STR(local_sdp_.data.c_str())), TAG_END());
  refreshes_->on_session_refresh(SessionRefresh::sent);
  refreshed(agree_as_uac(timer_headers(sip), timers_));
}

// RFC 4028 10: a refresh that times out or gets 408 or 481 ends the
// session (nua ends the dialog too); any other failure leaves it running
// until it expires.
void SofiaLeg::refresh_failed(int status) {
  refreshes_->on_session_refresh(SessionRefresh::failed);
  if (status == 408 || status == 481) session_expired();
}

void SofiaLeg::on_update_response(int status, sip_t const* sip) {
  if (status < 200) return;
  if (updates_sent_ == 0) {  // a refresh nua sent
    if (status >= 300) {
      refresh_failed(status);
      return;
    }
    refreshes_->on_session_refresh(SessionRefresh::sent);
    refreshed(agree_as_uac(timer_headers(sip), timers_));
    return;
  }
  --updates_sent_;
  if (stack_ends_dialog(status, sip_method_update) && state_ < DialogState::ending) {
    transition(DialogState::ending, "relayed UPDATE got " + std::to_string(status) + ": the stack ends the dialog");
  }
  const Body answer = body_of(sip, "");
  if (status < 300) {
    remember_remote(answer);
    refreshed(agree_as_uac(timer_headers(sip), timers_));
  }
  listener_->on_request_answered(InDialogMethod::update, status, answer);
}

void SofiaLeg::on_state(int callstate) {
  if (callstate == nua_callstate_ready && state_ < DialogState::confirmed) {
    transition(DialogState::confirmed, "ready");
    refreshed(session_);  // the session starts
  }
  // A connected dialog nobody said BYE on, ended by the stack: its session
  // timer ran out (nua's BYE as non-refresher) or a refresh failed with
  // 408/481. A relayed request's failure is the other leg's business.
  const bool ending = callstate == nua_callstate_terminating || callstate == nua_callstate_terminated;
  if (ending && state_ == DialogState::confirmed && !reinvite_sent_ && updates_sent_ == 0) {
    session_expired();
    if (listener_ == nullptr) return;  // released by the listener
  }
  if (callstate == nua_callstate_terminated) {
    transition(DialogState::terminated, "nua");
    listener_->on_terminated();
  }
}

void SofiaLeg::handle(nua_event_t event, int status, char const* phrase, nua_t* nua, sip_t const* sip, tagi_t tags[]) {
  if (listener_ == nullptr) return;
  switch (event) {
    case nua_r_invite: on_invite_response(status, phrase, sip); return;
    case nua_i_invite: {
      const Body offer = body_of(sip, "application/sdp");
      if (is_refresh(offer)) {  // answered on the handle's own server request
        respond_with(nh_, SIP_200_OK, local_sdp_, {}, nullptr);
        refreshes_->on_session_refresh(SessionRefresh::received);
        refreshed(agree_as_uas(timer_headers(sip), timers_));
        return;
      }
      remember_remote(offer);
      listener_->on_request(InDialogMethod::reinvite, offer);
      return;
    }
    case nua_i_ack: {
      const Body answer = body_of(sip, "application/sdp");
      remember_remote(answer);
      listener_->on_ack(answer);
      return;
    }
    case nua_i_options:
      // A dialog probe (SBCs send one every 30-60 s and hang up when it
      // goes unanswered): the dialog is alive, sipgw says so itself. The
      // other leg is kept alive by its own session timer, not by this.
      nua_respond(nh_, SIP_200_OK, NUTAG_WITH_THIS(nua), SIPTAG_ALLOW_STR(sofia::kAllowedMethods), TAG_END());
      return;
    case nua_i_cancel: listener_->on_cancelled(); return;
    case nua_i_bye:
      if (state_ < DialogState::ending) transition(DialogState::ending, "BYE received");
      listener_->on_bye();
      return;
    case nua_i_update:
      if (sip == nullptr || sip->sip_payload == nullptr) {  // a refresh: no offer to relay
        nua_respond(nh_, SIP_200_OK, NUTAG_WITH_THIS(nua), TAG_END());
        refreshes_->on_session_refresh(SessionRefresh::received);
        refreshed(agree_as_uas(timer_headers(sip), timers_));
        return;
      }
      [[fallthrough]];
    case nua_i_info: {
      // Kept until the other leg answers: nua_save_event works only now.
      nua_saved_event_t saved[1];
      if (nua_save_event(nua, saved) == 0) {  // nothing saved: the request cannot wait for the other leg
        nua_respond(nh_, SIP_500_INTERNAL_SERVER_ERROR, NUTAG_WITH_THIS(nua), TAG_END());
        return;
      }
      pending_.push_back(saved[0]);
      const auto method = event == nua_i_info ? InDialogMethod::info : InDialogMethod::update;
      const Body body = body_of(sip, default_body_type(method));
      if (method == InDialogMethod::update) remember_remote(body);
      listener_->on_request(method, body);
      return;
    }
    case nua_r_info:
      if (status >= 200) listener_->on_request_answered(InDialogMethod::info, status, body_of(sip, ""));
      return;
    case nua_r_update: on_update_response(status, sip); return;
    case nua_i_state: on_state(callstate_of(tags)); return;
    default: return;
  }
}

}  // namespace sipgw::gateway
