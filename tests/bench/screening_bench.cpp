// Screening benchmark: imports a block list of N entries (default
// 1,000,000: numbers, with 1 % prefixes of assorted lengths, half global
// and half for one campaign) through sipgwctl's import path, loads the
// snapshot as the daemon does, and times the screening of one INVITE
// (block lists, attestation, repeat callers, publisher rate) for callers
// that hit and miss. Prints numbers; asserts nothing.
// Usage: screening_bench [ENTRIES]
#include "db/admin.h"
#include "db/schema.h"
#include "db/snapshot_loader.h"
#include "db/sqlite.h"
#include "routing/screening.h"
#include "routing/selection.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <sstream>
#include <string>

using namespace sipgw;
using Clock = std::chrono::steady_clock;

static double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

static long rss_kb() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  long size = 0, resident = 0;
  if (f) {
    if (std::fscanf(f, "%ld %ld", &size, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

int main(int argc, char** argv) {
  const long entries = argc > 1 ? std::atol(argv[1]) : 1000000;
  auto path = std::filesystem::temp_directory_path() / ("sipgw-screening-bench-" + std::to_string(getpid()) + ".db");
  auto db = db::Connection::open(path.string(), db::Connection::Mode::read_write_create);
  if (!db || !db::migrate(*db)) return 2;
  db::Admin admin(*db);
  if (!admin.add_publisher("p", "", std::nullopt) || !admin.add_campaign("c", "", 30)) return 2;

  std::mt19937_64 rng(42);
  std::ostringstream global, campaign;
  std::vector<std::string> blocked;  // a sample of exact entries, to hit
  for (long i = 0; i < entries; ++i) {
    std::ostringstream& list = i % 2 ? campaign : global;
    const long long number = 12000000000LL + static_cast<long long>(rng() % 8000000000ULL);
    if (i % 100 == 0) {
      // Prefixes of 4 to 10 digits under +19, which the random callers
      // (+12 to +19) mostly miss: a miss probes every prefix length.
      const long long under = 19000000000LL + static_cast<long long>(rng() % 1000000000ULL);
      list << "+" << std::to_string(under).substr(0, 4 + i % 7) << "*\n";
    } else {
      list << "+" << number << "\n";
      if (blocked.size() < 10000 && i % 2 == 0) blocked.push_back("+" + std::to_string(number));
    }
  }
  auto t0 = Clock::now();
  std::istringstream g(global.str()), c(campaign.str());
  auto added_global = admin.import_blocks(g, std::nullopt, 0);
  auto added_campaign = admin.import_blocks(c, std::string("c"), 0);
  if (!added_global || !added_campaign) return 2;
  std::printf("block import: %ld entries (%lld new) in %.3f s (two files, one transaction each)\n", entries,
              static_cast<long long>(*added_global + *added_campaign), seconds_since(t0));

  const long rss_before = rss_kb();
  double best = 1e9;
  std::shared_ptr<const routing::Snapshot> snapshot;
  for (int run = 0; run < 3; ++run) {
    snapshot.reset();
    auto t = Clock::now();
    auto loaded = db::load_snapshot(*db, static_cast<std::uint64_t>(run + 1));
    best = std::min(best, seconds_since(t));
    if (!loaded) return 2;
    snapshot = *loaded;
  }
  std::printf("snapshot load with %zu block entries: best of 3 %.3f s; resident memory +%.1f MB\n",
              snapshot->blocks.size(), best, static_cast<double>(rss_kb() - rss_before) / 1024.0);

  routing::BuyerLedger ledger;
  routing::Screener screener(ledger);
  routing::Campaign rules = *snapshot->find_campaign("c");
  rules.screening.repeat_window_seconds = 86400;
  rules.screening.min_attestation = auth::Attestation::C;
  routing::Publisher publisher = *snapshot->find_publisher("p");
  publisher.cps = 1000000000;
  // Callers: a tenth blocked numbers, the rest random numbers (which a
  // prefix catches now and then), as identified from a From user.
  std::vector<auth::Caller> callers;
  for (int i = 0; i < 100000; ++i) {
    const std::string user = i % 10 == 0 ? blocked[static_cast<std::size_t>(i / 10) % blocked.size()]
                                         : "+1" + std::to_string(2000000000LL + static_cast<long long>(rng() % 8000000000ULL));
    callers.push_back(auth::identify_caller({user, std::nullopt, false, false}));
  }
  {
    long hits = 0;
    auto t = Clock::now();
    for (int k = 0; k < 10; ++k) {
      for (const auto& who : callers) hits += snapshot->blocks.match("c", who.usable).has_value();
    }
    std::printf("block list match alone: %.0f ns per INVITE (%ld of %zu blocked)\n",
                seconds_since(t) * 1e9 / static_cast<double>(callers.size() * 10), hits, callers.size() * 10);
  }
  for (int round = 0; round < 2; ++round) {
    long screened = 0;
    constexpr int kRepeat = 10;
    auto t = Clock::now();
    std::int64_t now_ms = 1'700'000'000'000;
    for (int k = 0; k < kRepeat; ++k) {
      for (const auto& who : callers) {
        auto verdict = screener.screen({*snapshot, publisher, rules, who, auth::Attestation::A, ++now_ms});
        if (std::holds_alternative<routing::Screened>(verdict)) {
          ++screened;
        } else {
          screener.admitted(rules, who, now_ms);
        }
      }
    }
    const double per_call_ns = seconds_since(t) * 1e9 / static_cast<double>(callers.size() * kRepeat);
    std::printf("screen(): %.0f ns per INVITE over %zu callers x %d (%ld screened out%s; repeat memory %zu callers)\n",
                per_call_ns, callers.size(), kRepeat, screened, round == 0 ? ", repeat memory filling" : "",
                screener.history().size());
  }
  // Caller identification and the PASSporT decode, which the SIP thread
  // also does per INVITE.
  const std::string identity =
      "eyJhbGciOiJFUzI1NiIsInBwdCI6InNoYWtlbiIsInR5cCI6InBhc3Nwb3J0IiwieDV1IjoiaHR0cHM6Ly9jZXJ0LmV4YW1wbGUub3JnL3NwLnBlbSJ9."
      "eyJhdHRlc3QiOiJBIiwiZGVzdCI6eyJ0biI6WyIxODg4MjIyMzMzMyJdfSwiaWF0IjoxNzY0NTAwMDAwLCJvcmlnIjp7InRuIjoiMTU1NTEyMzAwMDAifSwib3JpZ2lkIjoiNDQzN2M3ZWItOGY3YS00ZjBlLWE4NjMtZjUzYTBlNjAyNTFhIn0."
      "c2ln;info=<https://cert.example.org/sp.pem>;alg=ES256;ppt=shaken";
  auto t = Clock::now();
  int a = 0;
  constexpr int kDecodes = 100000;
  for (int i = 0; i < kDecodes; ++i) a += auth::passport_attestation(identity) == auth::Attestation::A;
  std::printf("PASSporT attest decode: %.0f ns each (%d of %d read A)\n", seconds_since(t) * 1e9 / kDecodes, a, kDecodes);
  std::filesystem::remove(path);
  return 0;
}
