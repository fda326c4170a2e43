#include "gateway/call_registry.h"

namespace sipgw::gateway {

Call& CallRegistry::add(std::unique_ptr<Call> call) {
  Call& added = *call;
  calls_.emplace(&added, std::move(call));
  return added;
}

void CallRegistry::collect() {
  for (Call* call : ended_) {
    auto it = calls_.find(call);
    if (it == calls_.end()) continue;
    for (auto& attempt : call->take_unfinished_attempts()) orphans_.push_back(std::move(attempt));
    calls_.erase(it);
  }
  ended_.clear();
  std::erase_if(orphans_, [](const std::unique_ptr<BuyerAttempt>& attempt) { return attempt->done(); });
}

void CallRegistry::clear() {
  orphans_.clear();
  ended_.clear();
  calls_.clear();
}

std::vector<Call*> CallRegistry::active() const {
  std::vector<Call*> out;
  for (const auto& [call, owned] : calls_) {
    if (call->state() != CallState::ended) out.push_back(call);
  }
  return out;
}

}  // namespace sipgw::gateway
