#include "gateway/sofia_leg.h"

#include "auth/digest_client.h"

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

const char* default_body_type(InDialogMethod method) { return method == InDialogMethod::reinvite ? "application/sdp" : ""; }

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

std::string_view to_string(InDialogMethod method) {
  switch (method) {
    case InDialogMethod::reinvite: return "re-INVITE";
    case InDialogMethod::info: return "INFO";
    case InDialogMethod::update: return "UPDATE";
  }
  return "?";
}

SofiaLeg::SofiaLeg(nua_t* nua, nua_handle_t* nh, FinishingHandles& finishing)
    : nua_(nua), nh_(nh), finishing_(&finishing), outgoing_(false) {
  nua_handle_bind(nh_, this);
}

SofiaLeg::SofiaLeg(nua_t* nua) : nua_(nua), outgoing_(true) {}

SofiaLeg::~SofiaLeg() { release(); }

void SofiaLeg::release() {
  for (auto pending : pending_) {
    nua_saved_event_t saved[1] = {pending};
    nua_destroy_event(saved);
  }
  pending_.clear();
  if (finishing_ && !terminated_ && nh_ != nullptr) {
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
  if (nh_) respond_with(nh_, status, phrase ? phrase : sofia::static_phrase(status), body, headers, nullptr);
}

bool SofiaLeg::invite(const OutboundInvite& request, const std::string& max_forwards, const Body& offer) {
  request_ = request;
  max_forwards_ = max_forwards;
  offer_ = offer;
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
  established_ = false;
  const bool www = authorization && !authorization->proxy;
  const bool proxy = authorization && authorization->proxy;
  const char* credentials = authorization ? authorization->value.c_str() : "";
  const bool repeat = authorization && challenge_;
  nua_invite(nh_, NUTAG_URL(request_.request_uri.c_str()), SIPTAG_MAX_FORWARDS_STR(max_forwards_.c_str()),
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

void SofiaLeg::ack() {
  if (nh_) nua_ack(nh_, TAG_END());
}
void SofiaLeg::bye() {
  if (nh_) nua_bye(nh_, TAG_END());
}
void SofiaLeg::cancel() {
  if (nh_) nua_cancel(nh_, TAG_END());
}

void SofiaLeg::send_request(InDialogMethod method, const Body& body) {
  if (nh_ == nullptr) return;
  const bool typed = body.present() && !body.type.empty();
  auto send = method == InDialogMethod::reinvite ? nua_invite : method == InDialogMethod::info ? nua_info : nua_update;
  send(nh_, TAG_IF(typed, SIPTAG_CONTENT_TYPE_STR(body.type.c_str())),
       TAG_IF(body.present(), SIPTAG_PAYLOAD_STR(body.data.c_str())), TAG_END());
}

void SofiaLeg::answer_request(InDialogMethod method, int status, const Body& body) {
  if (nh_ == nullptr) return;
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
  if (outgoing_ && !established_) {
    if (status < 200) {
      if (status > 100) listener_->on_provisional(status, body_of(sip, "application/sdp"));
    } else if (status < 300) {
      established_ = true;
      listener_->on_answered(status, str(phrase), body_of(sip, "application/sdp"));
    } else if ((status == 401 || status == 407) && sip) {
      save_challenge(status, sip);
      listener_->on_challenged(status);
    } else {
      listener_->on_failed(status, str(phrase));
    }
    return;
  }
  // The answer to a re-INVITE we relayed on this leg.
  if (status < 200) return;
  if (status < 300) nua_ack(nh_, TAG_END());
  listener_->on_request_answered(InDialogMethod::reinvite, status, body_of(sip, "application/sdp"));
}

void SofiaLeg::handle(nua_event_t event, int status, char const* phrase, nua_t* nua, sip_t const* sip, tagi_t tags[]) {
  if (listener_ == nullptr) return;
  switch (event) {
    case nua_r_invite: on_invite_response(status, phrase, sip); return;
    case nua_i_invite: listener_->on_request(InDialogMethod::reinvite, body_of(sip, "application/sdp")); return;
    case nua_i_cancel: listener_->on_cancelled(); return;
    case nua_i_bye: listener_->on_bye(); return;
    case nua_i_info:
    case nua_i_update: {
      // Kept until the other leg answers: nua_save_event works only now.
      nua_saved_event_t saved[1];
      if (nua_save_event(nua, saved) == 0) {  // nothing saved: the request cannot wait for the other leg
        nua_respond(nh_, SIP_500_INTERNAL_SERVER_ERROR, NUTAG_WITH_THIS(nua), TAG_END());
        return;
      }
      pending_.push_back(saved[0]);
      const auto method = event == nua_i_info ? InDialogMethod::info : InDialogMethod::update;
      listener_->on_request(method, body_of(sip, default_body_type(method)));
      return;
    }
    case nua_r_info:
    case nua_r_update:
      if (status >= 200) {
        const auto method = event == nua_r_info ? InDialogMethod::info : InDialogMethod::update;
        listener_->on_request_answered(method, status, body_of(sip, ""));
      }
      return;
    case nua_i_state:
      if (callstate_of(tags) == nua_callstate_terminated) {
        terminated_ = true;
        listener_->on_terminated();
      }
      return;
    default: return;
  }
}

}  // namespace sipgw::gateway
