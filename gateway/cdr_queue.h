// The Asio side of CDRs: records posted from the SIP thread are batched
// into one transaction per flush (100 ms after the first of a batch). A
// failed write keeps the batch and retries every second, so no call record
// is dropped; sipgw_cdr_queue_depth shows what waits.
#pragma once

#include "db/cdr_writer.h"
#include "gateway/metrics.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <functional>

namespace sipgw::gateway {

class CdrQueue {
 public:
  // after_write runs after each batch stored with call events in it (the
  // postback sender has deliveries to make).
  CdrQueue(boost::asio::io_context& io, db::Connection& db, Metrics& metrics, std::function<void()> after_write = {});

  // Asio thread.
  void push(db::CallRecord record);
  // Writes what waits now; false (and a retry scheduled) when it failed.
  bool flush();
  std::size_t depth() const { return pending_.size(); }

 private:
  void schedule(std::chrono::milliseconds after);

  boost::asio::steady_timer timer_;
  db::CdrWriter writer_;
  Metrics& metrics_;
  std::deque<db::CallRecord> pending_;
  std::function<void()> after_write_;
  bool scheduled_ = false;
};

}  // namespace sipgw::gateway
