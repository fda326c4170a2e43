// Concurrency slots held by a call: one for its publisher while the call
// lives, one for the buyer while an attempt rings or is connected. Each is
// released exactly once, by its destructor, whatever path the call takes
// (caps and sipgw_buyer_calls_active cannot drift).
#pragma once

#include "gateway/metrics.h"
#include "routing/selection.h"

#include <string>
#include <utility>

namespace sipgw::gateway {

class BuyerSlot {
 public:
  BuyerSlot(routing::BuyerLedger& ledger, Metrics& metrics, std::string buyer_id)
      : ledger_(&ledger), metrics_(&metrics), buyer_id_(std::move(buyer_id)) {
    ledger_->attempt_started(buyer_id_);
    metrics_->buyer_call_started(buyer_id_);
  }
  ~BuyerSlot() { release(); }
  BuyerSlot(BuyerSlot&& other) noexcept
      : ledger_(std::exchange(other.ledger_, nullptr)), metrics_(other.metrics_), buyer_id_(std::move(other.buyer_id_)) {}
  BuyerSlot& operator=(BuyerSlot&&) = delete;
  BuyerSlot(const BuyerSlot&) = delete;
  BuyerSlot& operator=(const BuyerSlot&) = delete;

  void release() {
    if (ledger_ == nullptr) return;
    ledger_->attempt_ended(buyer_id_);
    metrics_->buyer_call_ended(buyer_id_);
    ledger_ = nullptr;
  }

 private:
  routing::BuyerLedger* ledger_;
  Metrics* metrics_;
  std::string buyer_id_;
};

class PublisherSlot {
 public:
  PublisherSlot(routing::BuyerLedger& ledger, std::string publisher_id)
      : ledger_(&ledger), publisher_id_(std::move(publisher_id)) {
    ledger_->publisher_call_started(publisher_id_);
  }
  ~PublisherSlot() {
    if (ledger_) ledger_->publisher_call_ended(publisher_id_);
  }
  PublisherSlot(PublisherSlot&& other) noexcept
      : ledger_(std::exchange(other.ledger_, nullptr)), publisher_id_(std::move(other.publisher_id_)) {}
  PublisherSlot& operator=(PublisherSlot&&) = delete;
  PublisherSlot(const PublisherSlot&) = delete;
  PublisherSlot& operator=(const PublisherSlot&) = delete;

 private:
  routing::BuyerLedger* ledger_;
  std::string publisher_id_;
};

}  // namespace sipgw::gateway
