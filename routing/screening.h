// Call screening: the decisions made after a publisher is authenticated and
// its number and campaign are known, before any buyer is dialled. In order:
//   1. the publisher's calls per second (token bucket)  -> 503 + Retry-After
//   2. the publisher's hourly and daily caps (connected calls, UTC)  -> 486
//   3. block lists, global then the campaign's: anonymous callers, numbers,
//      prefixes  -> 603 (screening.blocked_status)
//   4. the campaign's minimum STIR/SHAKEN attestation  -> 603
//      (screening.attestation_status)
//   5. repeat callers within the campaign's window  -> 486
//      (screening.repeat_status), or routed to one buyer only
// Plain C++ over the snapshot and in-memory counts, owned by the SIP thread:
// no SQLite, no lock, O(1) or O(prefix lengths) per call.
#pragma once

#include "auth/caller_identity.h"

#include <chrono>
#include <cstdint>
#include <deque>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

namespace sipgw::routing {

struct Snapshot;
struct Publisher;
struct Campaign;
class BuyerLedger;

// Why a call was screened out: a bounded label for the CDR, logs and metrics.
enum class ScreenReason { blocked_number, anonymous, repeat_caller, attestation, publisher_cap, publisher_rate };
std::string_view to_string(ScreenReason reason);

// One block list entry: "anonymous", "+E164" (exact) or "+DIGITS*" (prefix).
struct BlockEntry {
  enum class Kind { anonymous, number, prefix };
  Kind kind = Kind::number;
  auth::CallerNumber number;  // the number or the prefix's digits
  std::string text() const;    // normalized, as stored
};
// "+" then 1-15 digits for a number (a prefix ends in '*'); "anonymous".
std::expected<BlockEntry, std::string> parse_block_entry(std::string_view text);

// Every block list of a snapshot: the global one and one per campaign. A
// number is looked up by hash; prefixes by hash once per prefix length in
// use (at most 15 lookups, usually one or two).
class BlockList {
 public:
  void add(const std::string& campaign_id, const BlockEntry& entry);  // "" is global
  // The reason a caller is blocked for this campaign, if it is.
  std::optional<ScreenReason> match(std::string_view campaign_id, const std::optional<auth::CallerNumber>& caller) const;
  std::size_t size() const { return size_; }

 private:
  struct Scope {
    std::unordered_set<std::uint64_t> numbers;   // key_of()
    std::unordered_set<std::uint64_t> prefixes;  // key_of() of the prefix
    std::uint16_t prefix_lengths = 0;            // bit n: some prefix has n digits
    bool anonymous = false;
  };
  static std::optional<ScreenReason> match(const Scope& scope, const std::optional<auth::CallerNumber>& caller);
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  Scope global_;
  std::unordered_map<std::string, Scope, NameHash, std::equal_to<>> campaigns_;
  std::size_t size_ = 0;
};

// A campaign's screening rules (the campaigns table).
enum class RepeatAfter { inbound, connected, converted };
std::string_view to_string(RepeatAfter after);
std::optional<RepeatAfter> parse_repeat_after(std::string_view text);

struct CampaignScreening {
  std::optional<std::int64_t> repeat_window_seconds;  // none: repeat callers welcome
  RepeatAfter repeat_after = RepeatAfter::inbound;
  std::optional<std::string> repeat_route;            // buyer for repeat callers instead of a refusal
  auth::Attestation min_attestation = auth::Attestation::none;
};

// When each caller was last seen per campaign (an admitted call, or its
// answer, as the campaign counts), forgotten after max_age; at most
// `capacity` entries, the oldest dropped first.
class CallerHistory {
 public:
  explicit CallerHistory(std::size_t capacity = 1000000) : capacity_(capacity) {}
  void seen(const std::string& campaign_id, const auth::CallerNumber& caller, std::int64_t at_ms);
  std::optional<std::int64_t> last_seen(const std::string& campaign_id, const auth::CallerNumber& caller) const;
  // Drops what is older than max_age_ms and beyond capacity.
  void prune(std::int64_t now_ms, std::int64_t max_age_ms);
  void set_capacity(std::size_t capacity) { capacity_ = capacity; }
  std::size_t size() const { return last_.size(); }

 private:
  void compact();
  struct Key {
    std::string campaign_id;
    std::uint64_t caller;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const {
      return std::hash<std::string>{}(k.campaign_id) ^ (std::hash<std::uint64_t>{}(k.caller) * 0x9e3779b97f4a7c15ULL);
    }
  };
  std::size_t capacity_;
  std::unordered_map<Key, std::int64_t, KeyHash> last_;
  std::deque<std::pair<std::int64_t, Key>> order_;  // as seen; stale pairs skipped
};

// Calls per second per publisher: a token bucket of `cps` tokens a second
// holding at most `cps`.
class PublisherRates {
 public:
  bool admit(const std::string& publisher_id, std::int64_t cps, std::int64_t now_ms);

 private:
  struct Bucket {
    double tokens = 0;
    std::int64_t at_ms = 0;
  };
  std::unordered_map<std::string, Bucket> buckets_;  // one per provisioned publisher at most
};

struct ScreenRequest {
  const Snapshot& snapshot;
  const Publisher& publisher;
  const Campaign& campaign;
  const auth::Caller& caller;
  auth::Attestation attestation;
  std::int64_t now_ms;
};

struct Screened {
  ScreenReason reason;
  int status;
  const char* phrase;  // static storage
  std::optional<std::int64_t> retry_after{};
};

struct Cleared {
  std::optional<std::string> only_buyer;  // a repeat caller sent to this buyer only
};

class Screener {
 public:
  // The ledger holds the publishers' connected calls (hourly and daily caps).
  explicit Screener(const BuyerLedger& ledger) : ledger_(ledger) {}
  std::variant<Cleared, Screened> screen(const ScreenRequest& request);

  // A call passed screening / was answered: the repeat-caller memory counts
  // it as the campaign says.
  void admitted(const Campaign& campaign, const auth::Caller& caller, std::int64_t now_ms);
  void connected(const Campaign& campaign, const std::string& caller_number, std::int64_t answer_ms);
  // A call was converted (its conversion time, or the API).
  void converted(const Campaign& campaign, const std::string& caller_number, std::int64_t converted_ms);
  // A call from the records (at start): as admitted at invite_ms, connected
  // at answer_ms and converted at converted_ms if it was.
  void restore(const Campaign& campaign, const std::string& caller_number, std::int64_t invite_ms,
               std::optional<std::int64_t> answer_ms, std::optional<std::int64_t> converted_ms);
  // Forgets callers past every campaign's window (call now and then).
  void prune(const Snapshot& snapshot, std::int64_t now_ms);
  CallerHistory& history() { return history_; }

 private:
  const BuyerLedger& ledger_;
  CallerHistory history_;
  PublisherRates rates_;
};

}  // namespace sipgw::routing
