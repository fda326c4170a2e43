#!/usr/bin/env bash
# Memory soak: rounds of calls through one sipgw with idle gaps longer than
# Sofia's transaction timers (32 s on UDP), printing RSS after each round and
# each gap. Flat RSS from round 2 on means memory is reused, not leaked.
# Prints numbers; asserts nothing. Not part of ctest.
#
# Usage: tests/bench/memory_soak.sh [BUILD_DIR] [ROUNDS] [CALLS_PER_ROUND] [RATE]
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$(cd "${1:-$here/../../build}" && pwd)"
rounds="${2:-3}"; calls="${3:-10000}"; rate="${4:-1000}"
work="$(mktemp -d /tmp/sipgw-soak.XXXXXX)"
gw_port=26060; buyer_port=26070; pub_port=26080
export SIPGW_DB="$work/soak.db"
ctl="$build/db/sipgwctl"
trap 'pkill -f "sipgw --db $work" 2>/dev/null; pkill -f "sipp .*-p $buyer_port " 2>/dev/null' EXIT
{
  "$ctl" init
  "$ctl" domain add 127.0.0.1 --auth ip
  "$ctl" publisher add soak
  "$ctl" allowlist add 127.0.0.1 --publisher soak
  "$ctl" campaign add soak
  "$ctl" number add +18882223333 --campaign soak
  "$ctl" buyer add buyer --target "sip:buyer@127.0.0.1:$buyer_port"
  "$ctl" route add --campaign soak --buyer buyer
} > "$work/provision.log"
"$build/gateway/sipgw" --db "$SIPGW_DB" --listen "udp:127.0.0.1:$gw_port" --log-level warn > "$work/sipgw.log" 2>&1 &
gw=$!
sleep 0.5
sipp -sf "$here/uas_answer.xml" -i 127.0.0.1 -p "$buyer_port" -nostdin -bg > /dev/null 2>&1
rss() { awk '$1 == "VmRSS:" {print $2}' "/proc/$gw/status"; }
echo "memory soak: $rounds rounds of $calls calls at $rate/s, calls held 200 ms, 40 s idle between rounds"
echo "idle: $(rss) kB"
for round in $(seq "$rounds"); do
  (cd "$work" && sipp 127.0.0.1:$gw_port -sf "$here/uac_ip.xml" -i 127.0.0.1 -p $pub_port -s +18882223333 -r "$rate" \
    -m "$calls" -d 200 -nostdin > /dev/null 2>&1)
  echo "round $round, after $calls calls: $(rss) kB"
  sleep 40
  echo "round $round, after 40 s idle: $(rss) kB"
done
