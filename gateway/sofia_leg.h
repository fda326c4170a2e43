// The Sofia adapter of one leg: one nua handle (its magic is this object),
// the saved events of requests waiting for the other leg, and nua events
// turned into LegListener calls. Protocol mechanics live here: ACK of a 2xx
// to our re-INVITE, the challenge of a buyer kept for authenticate(), which
// sends the INVITE again with sipgw's own digest (auth/digest_client.h).
#pragma once

#include "gateway/leg.h"
#include "gateway/sofia.h"

#include <deque>
#include <optional>
#include <unordered_set>
#include <vector>

namespace sipgw::gateway {

// Handles a leg let go of while their last transaction still runs (a BYE
// to a peer that may have vanished). The pump destroys each when nua
// reports it terminated, and all that are left when it shuts down, since
// nua_shutdown waits up to 30 s for pending requests.
class FinishingHandles {
 public:
  void add(nua_handle_t* nh) { handles_.insert(nh); }
  // True when nh was one of them (the caller destroys it).
  bool ended(nua_handle_t* nh) { return handles_.erase(nh) > 0; }
  void destroy_all() {
    for (auto* nh : handles_) nua_handle_destroy(nh);
    handles_.clear();
  }

 private:
  std::unordered_set<nua_handle_t*> handles_;
};

class SofiaLeg final : public Leg {
 public:
  // A publisher leg over the handle nua made for an incoming INVITE;
  // finishing takes its handle if the leg is released mid-transaction.
  SofiaLeg(nua_t* nua, nua_handle_t* nh, FinishingHandles& finishing);
  // A buyer leg on stack `nua`; invite() makes its handle.
  explicit SofiaLeg(nua_t* nua);
  ~SofiaLeg() override;
  SofiaLeg(const SofiaLeg&) = delete;
  SofiaLeg& operator=(const SofiaLeg&) = delete;

  void bind(LegListener& listener) override { listener_ = &listener; }
  void respond(int status, const char* phrase, const Body& body, const std::string& headers) override;
  bool invite(const OutboundInvite& request, const std::string& max_forwards, const Body& offer) override;
  bool authenticate(const OutboundCredentials& credentials) override;
  void ack() override;
  void bye() override;
  void cancel() override;
  void send_request(InDialogMethod method, const Body& body) override;
  void answer_request(InDialogMethod method, int status, const Body& body) override;
  void release() override;

  // Every nua event on this leg's handle, from the pump.
  void handle(nua_event_t event, int status, char const* phrase, nua_t* nua, sip_t const* sip, tagi_t tags[]);

 private:
  // A buyer's 401/407: its challenges (scheme, params) and the dialog
  // identity the authorized INVITE repeats.
  struct Challenge {
    bool proxy = false;
    std::vector<std::pair<std::string, std::vector<std::string>>> offers;
    std::string call_id;
    std::string from_tag;
    std::uint32_t cseq = 0;
  };
  struct Authorization {
    bool proxy = false;
    std::string value;
  };
  bool send_invite(const Authorization* authorization);
  void drop_handle();
  void on_invite_response(int status, char const* phrase, sip_t const* sip);
  void save_challenge(int status, sip_t const* sip);

  nua_t* nua_;
  nua_handle_t* nh_ = nullptr;
  FinishingHandles* finishing_ = nullptr;  // publisher legs only
  LegListener* listener_ = nullptr;
  const bool outgoing_;    // a buyer leg: we sent the INVITE
  bool established_ = false;  // our INVITE was answered 2xx
  bool terminated_ = false;   // nua reported the dialog terminated
  // INFO/UPDATE from the peer, waiting for the other leg's answer, oldest first.
  std::deque<nua_saved_event_t> pending_;  // nua_saved_event_t is a pointer type
  // A buyer leg's INVITE, kept to send it again with credentials.
  OutboundInvite request_;
  std::string max_forwards_;
  Body offer_;
  std::optional<Challenge> challenge_;
};

}  // namespace sipgw::gateway
