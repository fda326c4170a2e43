#include "gateway/cdr_queue.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace sipgw::gateway {

using namespace std::chrono_literals;

CdrQueue::CdrQueue(boost::asio::io_context& io, db::Connection& db, Metrics& metrics, std::function<void()> after_write)
    : timer_(io), writer_(db), metrics_(metrics), after_write_(std::move(after_write)) {}

void CdrQueue::push(db::CallRecord record) {
  pending_.push_back(std::move(record));
  metrics_.cdr_queue_depth(pending_.size());
  schedule(100ms);
}

void CdrQueue::schedule(std::chrono::milliseconds after) {
  if (scheduled_) return;
  scheduled_ = true;
  timer_.expires_after(after);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    scheduled_ = false;
    if (!ec) flush();
  });
}

bool CdrQueue::flush() {
  if (pending_.empty()) return true;
  std::vector<db::CallRecord> batch(pending_.begin(), pending_.end());
  if (auto ok = writer_.write(batch); !ok) {
    spdlog::error("CDR write of {} call(s) failed, will retry: {}", batch.size(), ok.error().message);
    schedule(1s);  // retry later even if no new call arrives
    return false;
  }
  pending_.clear();
  metrics_.cdr_queue_depth(0);
  const bool events = std::any_of(batch.begin(), batch.end(), [](const db::CallRecord& r) { return !r.events.empty(); });
  if (events && after_write_) after_write_();
  return true;
}

}  // namespace sipgw::gateway
