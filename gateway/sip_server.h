// The SIP side of sipgw: one thread that owns the stacks (sip_pump.h) and
// every call (call.h, in a call_registry.h). Other threads talk to it only
// through its inbox (update the snapshot, drain). Read the call flow in
// this order: this file, call.h (its state table), buyer_attempt.h,
// failover.h, admission.h, call_recorder.h, leg.h, sofia_leg.h, sip_pump.h.
#pragma once

#include "gateway/call_recorder.h"
#include "gateway/inbox.h"
#include "gateway/listen.h"
#include "gateway/source_guard.h"
#include "routing/provisioning.h"

#include <chrono>
#include <expected>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace sipgw::gateway {

struct SipServerConfig {
  // One nua stack per listen address, all on the SIP thread; a buyer leg
  // leaves by the stack of its target's address family and names that
  // stack's address in From.
  std::vector<ListenAddress> listen;
};

class Metrics;

// Where a ban sipgw hands out goes to be stored; called on the SIP thread.
using BanSink = std::function<void(AutoBan)>;

class SipServer {
 public:
  // metrics must outlive the server.
  SipServer(SipServerConfig config, std::shared_ptr<const routing::Snapshot> snapshot, CdrSink cdr_sink,
            BanSink ban_sink, Metrics& metrics);
  ~SipServer();
  SipServer(const SipServer&) = delete;
  SipServer& operator=(const SipServer&) = delete;

  // Starts the SIP thread and waits until the sockets are bound.
  std::expected<void, std::string> start();

  // Any thread: recent calls from the CDRs, so buyer and publisher caps and
  // the repeat-caller memory survive a restart.
  void restore_calls(std::vector<db::RecentCall> calls);
  // Any thread: the call with this postback key was converted through the
  // API; if it is still up, its own conversion timer stops; a campaign that
  // counts repeat callers from their conversion remembers the caller.
  void call_converted(std::string postback_key, std::string campaign_id, std::string caller, std::int64_t at_ms);

  // Any thread: new calls use the new snapshot; calls in progress keep theirs.
  void update_snapshot(std::shared_ptr<const routing::Snapshot> snapshot);

  // Any thread: a ban from the BanSink is in the database since stored_at_ms
  // (until then a snapshot without it does not lift it).
  void ban_stored(AutoBan ban, std::int64_t stored_at_ms);

  // Any thread: refuse new INVITEs with 503, let calls end by themselves for
  // up to `timeout`, then hang up what is left, shut the stack down and end
  // the SIP thread. on_stopped runs on the SIP thread at the very end.
  void drain(std::chrono::milliseconds timeout, std::function<void()> on_stopped);

  // Any thread: runs job on the SIP thread (used for the health heartbeat).
  void post(std::function<void()> job);

  // Waits for the SIP thread to end.
  void join();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
};

}  // namespace sipgw::gateway
