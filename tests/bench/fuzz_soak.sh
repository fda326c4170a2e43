#!/usr/bin/env bash
# The fuzz benchmark: sipgw on loopback takes MESSAGES malformed and mutated
# SIP messages (tests/fuzz/sip_fuzz.py, from 127.0.0.3, UDP and TCP) while a
# SIPp publisher on 127.0.0.1 places real calls to a SIPp buyer throughout.
# Prints messages sent, whether sipgw survived, real calls completed and
# failed, and sipgw's RSS before, right after, and 35 and 70 s later (the
# stack's transaction timers run 32 s). Asserts nothing; not part of ctest.
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
before=$(rss)
sipp -sf "$here/uas_answer.xml" -i 127.0.0.1 -p "$buyer_port" -nostdin -bg > /dev/null 2>&1
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
later=$(rss)
echo "fuzz: $messages messages (seed $seed) in $(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.0f", b-a}') s; sipgw alive: $alive"
echo "real calls during the fuzzing: completed/failed $ok"
echo "sipgw RSS: before ${before} kB, right after ${right_after} kB, 35 s later ${settled} kB, 70 s later ${later} kB"
