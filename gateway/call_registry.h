// Owns every call of the SIP thread. A call that ends is deleted only by
// collect(), which the pump runs after each dispatch has returned (after
// Envoy's deferred deletion): no call is deleted inside its own callback.
// Attempts still cancelling when their call ends (a CANCEL in flight) are
// kept here until their leg is done.
#pragma once

#include "gateway/call.h"

#include <memory>
#include <unordered_map>
#include <vector>

namespace sipgw::gateway {

class CallRegistry {
 public:
  Call& add(std::unique_ptr<Call> call);
  // The call reached `ended` (its on_ended callback).
  void ended(Call& call) { ended_.push_back(&call); }
  // Deletes ended calls and attempts that have finished.
  void collect();
  // Shutdown: deletes everything, finished or not.
  void clear();

  // Calls not yet deleted (an ended call counts until collect()).
  std::size_t size() const { return calls_.size(); }
  bool empty() const { return calls_.empty(); }
  // The calls in progress, for a walk that may end some of them.
  std::vector<Call*> active() const;

 private:
  std::unordered_map<Call*, std::unique_ptr<Call>> calls_;
  std::vector<Call*> ended_;
  std::vector<std::unique_ptr<BuyerAttempt>> orphans_;
};

}  // namespace sipgw::gateway
