// Polls the database's PRAGMA data_version on the Asio thread and hands
// each new provisioning snapshot to the SIP thread: sipgwctl changes take
// effect within one poll interval, without a restart or a signal. A failed
// reload keeps the generation in use.
#pragma once

#include "db/snapshot_loader.h"
#include "gateway/metrics.h"
#include "gateway/sip_server.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>

namespace sipgw::gateway {

class ProvisioningWatcher {
 public:
  // generation: the one already loaded.
  ProvisioningWatcher(boost::asio::io_context& io, db::Connection& db, SipServer& sip, Metrics& metrics,
                      std::chrono::milliseconds every, std::uint64_t generation);

  void start();
  void stop() { timer_.cancel(); }
  // Loads a new snapshot now: after the daemon's own writes (an automatic
  // ban), which PRAGMA data_version does not report to its own connection.
  void reload();
  // Also told of each new snapshot (on the Asio thread).
  void on_loaded(std::function<void(const routing::Snapshot&)> listener) { listener_ = std::move(listener); }

 private:
  void poll();

  boost::asio::steady_timer timer_;
  db::Connection& db_;
  db::ChangeDetector detector_;
  SipServer& sip_;
  Metrics& metrics_;
  std::chrono::milliseconds every_;
  std::uint64_t generation_;
  std::function<void(const routing::Snapshot&)> listener_;
};

}  // namespace sipgw::gateway
