// The SIP thread's engine room: the su_root, one nua stack per listen
// address, the inbox's wakeup and the clock. Every nua event goes to the
// leg that owns its handle (sofia_leg.h); requests no leg owns (new INVITEs,
// OPTIONS, stray requests) go to the Handler as plain values; after each
// dispatch the handler's after_dispatch() runs (the call registry deletes
// what ended). This header is Sofia-free; sip_pump.cpp is the adapter.
#pragma once

#include "gateway/admission.h"
#include "gateway/clock.h"
#include "gateway/inbox.h"
#include "gateway/leg.h"
#include "gateway/listen.h"
#include "gateway/session_timer.h"

#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sipgw::gateway {

struct SofiaStacks;

// A new INVITE, copied out of the stack's memory.
struct IncomingInvite {
  InboundInvite admission;                 // forwarded_source left to the handler
  std::string caller_user;                 // From's user part, raw
  std::string from_display;                // From's display name, raw (quotes and all)
  std::string from_uri;                    // From's URI, raw (a carrier's verstat may be in it)
  bool privacy_id = false;                 // Privacy: id or header (RFC 3323/3325)
  std::vector<std::pair<std::string, std::string>> extension_headers;  // headers Sofia does not know (X-...)
  Body offer;

  // The value of an extension header (case-insensitive name), or "".
  std::string header(const std::string& name) const;
};

// A final response sipgw gives without a call: phrase of static storage
// only; headers "Name: value" lines joined by CRLF.
struct Refusal {
  int status;
  const char* phrase;
  std::string headers{};
};

// What every stack is told from the settings, at start and on each change.
struct StackSettings {
  SessionTimers session;
  std::string user_agent;  // empty: no User-Agent header at all
  unsigned tcp_idle_ms = 600000;
  unsigned tcp_message_timeout_ms = 10000;
  unsigned max_message_size = 65536;
  // 64 x T1 (NTATAG_SIP_T1X64): how long a finished transaction is kept and
  // an unanswered one retried; shortened during a refusal surge.
  unsigned transaction_lifetime_ms = 32000;
  bool operator==(const StackSettings&) const = default;
};

class SipPumpHandler : public SessionRefreshObserver {
 public:
  // Every request received, with its packet source and how many header
  // fields it has; new_request: an INVITE or OPTIONS out of any dialog. A
  // refusal returned for a new request is its answer (nothing else sees
  // it); in-dialog requests are never refused here.
  virtual std::optional<Refusal> on_request(std::string_view method, const auth::IpAddress& source,
                                            bool new_request, std::size_t headers) = 0;
  // accept() binds the INVITE to a new publisher leg (once); without it the
  // INVITE gets the returned refusal. The handler may take what it keeps
  // out of invite (the offer).
  virtual std::optional<Refusal> on_invite(IncomingInvite& invite,
                                           const std::function<std::unique_ptr<Leg>()>& accept) = 0;
  virtual Refusal on_options(const std::string& request_host, const auth::IpAddress& source) = 0;
  virtual void after_dispatch() = 0;
};

class SipPump {
 public:
  SipPump(std::vector<ListenAddress> listen, Inbox& inbox, SipPumpHandler& handler);
  ~SipPump();
  SipPump(const SipPump&) = delete;
  SipPump& operator=(const SipPump&) = delete;

  // On the SIP thread: the root, the clock and one stack per address.
  std::expected<void, std::string> open(StackSettings settings);
  // On the SIP thread: every stack uses these from now on (dialogs already
  // up keep the session timers they negotiated until their next refresh).
  void apply(StackSettings settings);
  // Turns until every stack has shut down.
  void run();
  // Asks every stack to shut down (run() then returns).
  void shut_down();
  // After run(): destroys the stacks, the clock and the root. Every leg and
  // timer must be gone first.
  void close();

  Clock& clock();
  // A buyer leg on the stack of the target's address family.
  std::unique_ptr<Leg> make_buyer_leg(const std::string& request_uri);
  // host[:port] for From on the stack a request to request_uri leaves by.
  std::string from_host(const std::string& request_uri) const;

 private:
  std::unique_ptr<SofiaStacks> stacks_;
};

}  // namespace sipgw::gateway
