// CDR durability cost: how long the Asio side spends storing call records
// with the daemon's settings (WAL, synchronous=FULL: every commit is
// fsynced) against synchronous=NORMAL, for batches of 1, 10 and 100 calls
// (the CDR queue batches what ended within 100 ms). A connected call is
// written twice (its row at the answer, the finished record at the end).
// Prints numbers; asserts nothing. Usage: cdr_bench [CALLS]
#include "db/cdr_writer.h"
#include "db/schema.h"
#include "db/sqlite.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

using namespace sipgw;
using Clock = std::chrono::steady_clock;

namespace {

db::CallRecord record(int i) {
  db::CallRecord r;
  r.uuid = "00000000-0000-4000-8000-" + std::to_string(100000000000 + i);
  r.postback_key = std::string(32, 'a');
  r.publisher_id = "pub1";
  r.caller = "+15551230000";
  r.number = "+18882223333";
  r.campaign_id = "camp1";
  r.buyer_id = "buyer1";
  r.invite_at = 1780315200000 + i;
  r.answer_at = r.invite_at + 50;
  r.end_at = r.invite_at + 60000;
  r.final_status = 200;
  r.hangup_side = "publisher";
  r.hangup_cause = "BYE";
  r.attempts.push_back({1, "buyer1", "sip:agent@127.0.0.1:5070", 200, "OK", r.invite_at, r.answer_at, r.end_at});
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const int calls = argc > 1 ? std::atoi(argv[1]) : 2000;
  std::printf("CDR writes of %d calls (one attempt each), microseconds per call\n", calls);
  std::printf("%-10s %6s %14s %18s\n", "synchronous", "batch", "us per record", "us per answered call");
  for (const char* sync : {"FULL", "NORMAL"}) {
    for (int batch : {1, 10, 100}) {
      auto path = std::filesystem::temp_directory_path() / ("sipgw-cdr-bench-" + std::to_string(getpid()) + ".db");
      std::filesystem::remove(path);
      auto db = db::Connection::open(path.string(), db::Connection::Mode::read_write_create);
      if (!db || !db::migrate(*db)) return 2;
      (void)db->execute_script(std::string("PRAGMA synchronous=") + sync + ";");
      db::CdrWriter writer(*db);
      auto t0 = Clock::now();
      std::vector<db::CallRecord> pending;
      for (int i = 0; i < calls; ++i) {
        pending.push_back(record(i));
        if (static_cast<int>(pending.size()) == batch) {
          if (!writer.write(pending)) return 2;
          pending.clear();
        }
      }
      if (!writer.write(pending)) return 2;
      const double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / calls;
      std::printf("%-10s %6d %14.1f %18.1f\n", sync, batch, us, 2 * us);
      db = {};
      for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
    }
  }
  return 0;
}
