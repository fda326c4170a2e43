#!/usr/bin/env bash
# The spoofed-source flood with real calls through it: sipgw on loopback takes
# COUNT INVITEs at RATE a second from 1,000 different 127.x sources that never
# ACK (tests/bench/spoofed_flood.py: RSS before, right after, 40 s later, and
# the datagrams sent back), while a SIPp publisher on 127.0.0.1 places real
# calls at 20/s to a SIPp buyer throughout. SURGE is security.surge_refusals
# (0: the stacks keep every refused transaction 32 s, as before issue 11).
# Takes about two minutes.
# Asserts nothing; not part of ctest.
#
# Usage: tests/bench/spoofed_flood.sh [BUILD_DIR] [COUNT] [RATE] [SURGE]
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$(cd "${1:-$here/../../build}" && pwd)"
count="${2:-20000}"
rate="${3:-2000}"
surge="${4:-500}"
work="$(mktemp -d /tmp/sipgw-spoof.XXXXXX)"
gw_port=28160; buyer_port=28170; pub_port=28180
trap 'kill $(jobs -p) 2>/dev/null; pkill -f "sipp .*-p $buyer_port " 2>/dev/null; pkill -f "sipgw --db $work" 2>/dev/null; wait 2>/dev/null' EXIT

ctl="$build/db/sipgwctl"
export SIPGW_DB="$work/spoof.db"
# shellcheck source=lib.sh
. "$here/lib.sh"
{
  bench_provision "$buyer_port"
  "$ctl" setting set security.surge_refusals "$surge"
} > "$work/provision.log"
"$build/gateway/sipgw" --db "$SIPGW_DB" --listen "udp:127.0.0.1:$gw_port" --log-level warn > "$work/sipgw.log" 2>&1 &
gw=$!
sleep 1
sipp -sf "$here/uas_answer.xml" -i 127.0.0.1 -p "$buyer_port" -nostdin -bg > /dev/null 2>&1
calls=$(( count / rate * 20 + 40 ))
(cd "$work" && sipp 127.0.0.1:$gw_port -sf "$here/uac_ip.xml" -i 127.0.0.1 -p $pub_port -s +18882223333 -r 20 \
  -m "$calls" -d 1000 -nostdin -timeout 120 -trace_stat -stf "$work/calls.csv" > "$work/uac.out" 2>&1) &
uac=$!
sleep 1
python3 "$here/spoofed_flood.py" "$gw" 127.0.0.1 "$gw_port" "$count" 1000 "$rate"
wait "$uac" 2>/dev/null
sleep 30
echo "RSS 80 s after the flood $(bench_rss "$gw") KB (sipgw hands freed heap back once it holds more free than used, at least 8 MB)"
echo "security.surge_refusals $surge; real calls at 20/s through the flood: completed/failed $(bench_calls "$work/calls.csv")"
grep "refusal surge" "$work/sipgw.log" | cut -c1-160
