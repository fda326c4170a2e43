#include "gateway/provisioning_watcher.h"

#include <spdlog/spdlog.h>

#include <chrono>

namespace sipgw::gateway {

ProvisioningWatcher::ProvisioningWatcher(boost::asio::io_context& io, db::Connection& db, SipServer& sip,
                                         Metrics& metrics, std::chrono::milliseconds every, std::uint64_t generation)
    : timer_(io), db_(db), detector_(db), sip_(sip), metrics_(metrics), every_(every), generation_(generation) {
  (void)detector_.changed();  // baseline: the snapshot we started with
}

void ProvisioningWatcher::start() {
  timer_.expires_after(every_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    poll();
    start();
  });
}

void ProvisioningWatcher::poll() {
  auto changed = detector_.changed();
  if (!changed) {
    spdlog::warn("provisioning check failed: {}", changed.error().message);
    return;
  }
  if (*changed) reload();
}

void ProvisioningWatcher::reload() {
  const auto start = std::chrono::steady_clock::now();
  auto snapshot = db::load_snapshot(db_, ++generation_);
  if (!snapshot) {
    spdlog::error("provisioning reload failed, keeping generation {}: {}", generation_ - 1, snapshot.error().message);
    return;
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  spdlog::info("provisioning generation {} loaded in {} ms ({} numbers, {} allowlist entries, {} block entries)",
               generation_, took.count(), (*snapshot)->numbers.size(), (*snapshot)->allowlist.size(),
               (*snapshot)->blocks.size());
  if (listener_) listener_(**snapshot);
  sip_.update_snapshot(*snapshot);
  metrics_.provisioning_loaded(generation_);
}

}  // namespace sipgw::gateway
