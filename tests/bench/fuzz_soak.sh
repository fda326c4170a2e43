#!/usr/bin/env bash
# The fuzz benchmark: sipgw on loopback takes MESSAGES malformed and mutated
# SIP messages (tests/fuzz/sip_fuzz.py, from 127.0.0.3, UDP and TCP) while a
# SIPp publisher on 127.0.0.1 places real calls to a SIPp buyer throughout.
# Prints messages sent, whether sipgw survived, real calls completed and
# failed, and sipgw's RSS: at start (cold), warm (idle 70 s after a warm-up
# of 30 s of the same real calls and 1 % of the fuzz), right after the
# flood, and 35 and 70 s later (the stack's transaction timers run 32 s),
# and how far the last is from the warm start. The warm start is the one
# compared: it holds what any traffic builds once and keeps (the stack's
# tables, the log limiter, the allocator's arenas), so the difference is
# what the flood itself left behind. Asserts nothing; not part of ctest.
# SIPGW_BENCH_HEAP=1 also prints glibc's heap in use at each point (gdb).
#
# Usage: tests/bench/fuzz_soak.sh [BUILD_DIR] [MESSAGES] [SEED] [RATE]
# RATE: messages a second (default 1000; 0: as fast as the fuzzer can, about
# 11,000 on a 2-core machine, where the fuzzer, sipgw and two SIPps then
# starve each other and real calls time out: an overload test, not a fuzz).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$(cd "${1:-$here/../../build}" && pwd)"
messages="${2:-1000000}"
seed="${3:-1}"
rate="${4:-1000}"
work="$(mktemp -d /tmp/sipgw-fuzz.XXXXXX)"
gw_port=28060; buyer_port=28070; pub_port=28080
trap 'kill $(jobs -p) 2>/dev/null; pkill -f "sipp .*-p $buyer_port " 2>/dev/null; pkill -f "sipgw --db $work" 2>/dev/null; wait 2>/dev/null' EXIT

ctl="$build/db/sipgwctl"
export SIPGW_DB="$work/fuzz.db"
# shellcheck source=lib.sh
. "$here/lib.sh"
{
  bench_provision "$buyer_port"
  # The fuzzer must reach the parser: per-source limits, failure bans and the
  # header limit off (with them 127.0.0.3 is banned within a second and the
  # kernel drops the rest).
  "$ctl" setting set security.request_rate 0
  "$ctl" setting set security.new_request_rate 0
  "$ctl" setting set security.auth_failures 0
  "$ctl" setting set sip.max_headers 0
} > "$work/provision.log"
"$build/gateway/sipgw" --db "$SIPGW_DB" --listen "udp:127.0.0.1:$gw_port" --listen "tcp:127.0.0.1:$gw_port" \
  --log-level warn > "$work/sipgw.log" 2>&1 &
gw=$!
sleep 1
rss() { bench_rss "$gw"; }
# glibc's heap in use (bytes), by asking the process: tells a leak (it grows)
# from fragmentation (RSS grows, the heap in use does not).
heap() {
  [ "${SIPGW_BENCH_HEAP:-0}" = 1 ] || return 0
  gdb -p "$gw" -batch -ex 'p __libc_mallinfo2().uordblks' 2>/dev/null | awk '/^\$1 =/{printf " (heap in use %d kB)", $3/1024}'
}
cold=$(rss)
sipp -sf "$here/uas_answer.xml" -i 127.0.0.1 -p "$buyer_port" -nostdin -bg > /dev/null 2>&1
# Warm-up: 150 real calls at 5/s with 1 % of the fuzz alongside (another
# seed), then idle until the transactions are gone and the heap trimmed.
warm_messages=$(( messages / 100 ))
(cd "$work" && sipp 127.0.0.1:$gw_port -sf "$here/uac_ip.xml" -i 127.0.0.1 -p $pub_port -s +18882223333 -r 5 \
  -m 150 -d 1000 -nostdin -timeout 120 > "$work/warm.out" 2>&1) &
warm_uac=$!
python3 "$here/../fuzz/sip_fuzz.py" 127.0.0.1 "$gw_port" "$warm_messages" "$(( seed + 1000 ))" 127.0.0.3 \
  "$(( rate > 0 ? warm_messages / 30 + 1 : 0 ))" > /dev/null
wait "$warm_uac" 2>/dev/null
sleep 70
before=$(rss); before_heap=$(heap)
# Real calls at 5/s (held 1 s each) for as long as the fuzzing lasts.
calls=$(( rate > 0 ? messages * 5 / rate : 250 ))
(cd "$work" && sipp 127.0.0.1:$gw_port -sf "$here/uac_ip.xml" -i 127.0.0.1 -p $pub_port -s +18882223333 -r 5 \
  -m "$calls" -d 1000 -nostdin -timeout $(( calls / 5 + 120 )) -trace_stat -stf "$work/calls.csv" > "$work/uac.out" 2>&1) &
uac=$!
start=$(date +%s.%N)
python3 "$here/../fuzz/sip_fuzz.py" 127.0.0.1 "$gw_port" "$messages" "$seed" 127.0.0.3 "$rate"
end=$(date +%s.%N)
alive=yes; kill -0 "$gw" 2>/dev/null || alive=NO
right_after=$(rss)
wait "$uac" 2>/dev/null
ok=$(bench_calls "$work/calls.csv")
sleep 35
settled=$(rss)
sleep 35
later=$(rss); later_heap=$(heap)
echo "fuzz: $messages messages (seed $seed) in $(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.0f", b-a}') s; sipgw alive: $alive"
echo "real calls during the fuzzing: completed/failed $ok"
echo "sipgw RSS: cold ${cold} kB, warm ${before} kB${before_heap}, right after ${right_after} kB, 35 s later ${settled} kB, 70 s later ${later} kB${later_heap}"
awk -v a="$before" -v b="$later" 'BEGIN{ if (a > 0) printf "RSS 70 s after the flood: %+.1f %% of the warm start\n", (b - a) * 100 / a }'
