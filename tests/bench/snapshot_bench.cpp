// Provisioning snapshot benchmark: builds a database with 100,000 allowlist
// rows and 100,000 numbers, then prints how long a full snapshot load takes
// and the lookup rates the SIP hot path will see. Prints numbers; asserts
// nothing. Usage: snapshot_bench [ROWS]
#include "db/schema.h"
#include "db/snapshot_loader.h"
#include "db/sqlite.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>

using namespace sipgw;
using Clock = std::chrono::steady_clock;

static double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

int main(int argc, char** argv) {
  const int rows = argc > 1 ? std::atoi(argv[1]) : 100000;
  auto path = std::filesystem::temp_directory_path() / ("sipgw-bench-" + std::to_string(getpid()) + ".db");
  auto db = db::Connection::open(path.string(), db::Connection::Mode::read_write_create);
  if (!db || !db::migrate(*db)) return 2;

  std::mt19937_64 rng(42);
  auto t0 = Clock::now();
  {
    auto tx = db::Transaction::begin(*db);
    (void)db->execute_script("INSERT INTO publishers (id) VALUES ('p0'), ('p1'), ('p2'), ('p3');"
                             "INSERT INTO campaigns (id) VALUES ('c0');");
    auto allow = db->prepare("INSERT OR IGNORE INTO allowlist (cidr, publisher_id) VALUES (?, ?)");
    auto number = db->prepare("INSERT INTO numbers (e164, campaign_id) VALUES (?, 'c0')");
    for (int i = 0; i < rows; ++i) {
      // Mixed shapes: /32 hosts, /24 nets and IPv6 /64s, as real allowlists have.
      std::uint32_t a = static_cast<std::uint32_t>(rng());
      std::string cidr;
      switch (i % 4) {
        case 0:
        case 1: cidr = auth::to_string(auth::Cidr{{auth::IpFamily::v4, a}, 32}); break;
        case 2: cidr = auth::to_string(auth::Cidr{{auth::IpFamily::v4, a & 0xffffff00u}, 24}); break;
        default: {
          auth::uint128 v = (auth::uint128{0x20010db8u} << 96) | (auth::uint128{a} << 64);
          cidr = auth::to_string(auth::Cidr{{auth::IpFamily::v6, v}, 64});
        }
      }
      allow->bind_all(cidr, "p" + std::to_string(i % 4));
      (void)allow->run();
      allow->reset();
      number->bind_all("+1" + std::to_string(2000000000LL + i));
      (void)number->run();
      number->reset();
    }
    (void)tx->commit();
  }
  std::printf("provisioned %d allowlist rows and %d numbers in %.3f s\n", rows, rows, seconds_since(t0));

  double best = 1e9;
  std::shared_ptr<const routing::Snapshot> snapshot;
  for (int run = 0; run < 3; ++run) {
    auto t = Clock::now();
    auto loaded = db::load_snapshot(*db, static_cast<std::uint64_t>(run));
    double s = seconds_since(t);
    if (!loaded) return 2;
    snapshot = *loaded;
    best = std::min(best, s);
    std::printf("snapshot load %d: %.3f s (%zu allowlist entries, %zu numbers)\n", run + 1, s,
                snapshot->allowlist.size(), snapshot->numbers.size());
  }
  std::printf("snapshot load best: %.3f s (target < 1 s)\n", best);

  constexpr int kLookups = 2000000;
  std::vector<auth::IpAddress> sources;
  for (int i = 0; i < 4096; ++i) sources.push_back({auth::IpFamily::v4, static_cast<std::uint32_t>(rng())});
  std::size_t hits = 0;
  auto t = Clock::now();
  for (int i = 0; i < kLookups; ++i) hits += snapshot->publisher_for_source(sources[i & 4095]) != nullptr;
  double s = seconds_since(t);
  std::printf("allowlist lookups: %.2f M/s (%.0f ns each, %zu hits)\n", kLookups / s / 1e6, s / kLookups * 1e9, hits);

  std::vector<std::string> numbers;
  for (int i = 0; i < 4096; ++i) numbers.push_back("+1" + std::to_string(2000000000LL + (rng() % (rows * 2))));
  hits = 0;
  t = Clock::now();
  for (int i = 0; i < kLookups; ++i) hits += snapshot->find_number(numbers[i & 4095]) != nullptr;
  s = seconds_since(t);
  std::printf("number lookups: %.2f M/s (%.0f ns each, %zu hits)\n", kLookups / s / 1e6, s / kLookups * 1e9, hits);

  db = {};
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
  return 0;
}
