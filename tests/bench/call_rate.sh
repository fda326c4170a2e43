#!/usr/bin/env bash
# Call-rate benchmark: sipgw between a SIPp publisher and a SIPp buyer on
# loopback (a buyer that answers 200 at once). For IP auth, digest auth and
# failover on every call (IP auth; the first buyer always answers 486),
# ip-notimers (IP auth with session.expires 0: what RFC 4028 timers cost), and
# kamailio-ip (Kamailio as a stateful proxy doing the same source-IP check,
# the peer sipgw races; not run unless named in SIPGW_BENCH_MODES) it
# steps the call rate up and prints, per step, failed calls, median and p99 INVITE-to-200 time at the
# publisher, and sipgw's CPU; then the highest rate with zero failures and
# sipgw's peak RSS. Finally it holds 5,000 concurrent calls and prints RSS
# per call. Prints numbers; asserts nothing. Not part of ctest.
#
# Usage: tests/bench/call_rate.sh [BUILD_DIR] [STEP_SECONDS] [RATES...]
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$(cd "${1:-$here/../../build}" && pwd)"
step_seconds="${2:-15}"
shift 2 2>/dev/null || shift $#
rates=("$@")
[ ${#rates[@]} -gt 0 ] || rates=(250 500 1000 1500 2000 2500 3000 4000)
concurrent="${SIPGW_BENCH_CONCURRENT:-5000}"

work="$(mktemp -d /tmp/sipgw-bench.XXXXXX)"
gw_port=25060; buyer_port=25070; pub_port=25080; busy_port=25071
ctl="$build/db/sipgwctl"
export SIPGW_DB="$work/bench.db"
# SIPp's -bg buyers detach from this shell: stop them by their ports.
trap 'kill $(jobs -p) 2>/dev/null; pkill -f "sipgw --db $work" 2>/dev/null
      pkill -f "sipp .*-p ($buyer_port|$busy_port) " 2>/dev/null; wait 2>/dev/null' EXIT

{
  "$ctl" init
  "$ctl" domain add 127.0.0.1 --auth ip
  "$ctl" domain add bench.test --auth digest
  "$ctl" publisher add bench
  echo "bench-password" | "$ctl" credential add bench --publisher bench --realm bench.test
  "$ctl" allowlist add 127.0.0.1 --publisher bench
  "$ctl" campaign add bench
  "$ctl" number add +18882223333 --campaign bench
  "$ctl" buyer add buyer --target "sip:buyer@127.0.0.1:$buyer_port" --header "X-Campaign-ID: [campaign_id]"
  "$ctl" route add --campaign bench --buyer buyer
  # Failover on every call: a buyer that is always busy, tried first.
  "$ctl" campaign add failover
  "$ctl" number add +18882224444 --campaign failover
  "$ctl" buyer add busy --target "sip:busy@127.0.0.1:$busy_port"
  "$ctl" route add --campaign failover --buyer busy --priority 0
  "$ctl" route add --campaign failover --buyer buyer --priority 1
} > "$work/provision.log"

gw_pid=""
# Kamailio in sipgw's place: stateful (tm), record-routing, the publisher's
# source address checked against the one allowlist entry, every INVITE sent
# to the buyer. Two UDP workers, one per core.
start_kamailio() {
  mkdir -p "$work/kamailio-run"
  cat > "$work/kamailio.cfg" <<KAMCFG
#!KAMAILIO
debug=1
log_stderror=yes
children=2
listen=udp:127.0.0.1:$gw_port
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "siputils.so"
loadmodule "textops.so"
request_route {
  if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
  # In-dialog: follow the Route set, or the Request-URI (the benchmark buyer
  # does not echo Record-Route, as a B2BUA peer never needs to).
  if (has_totag()) {
    if (loose_route() || uri != myself) { t_relay(); }
    exit;
  }
  if (is_method("CANCEL")) { if (t_check_trans()) { t_relay(); } exit; }
  if (\$si != "127.0.0.1") { sl_send_reply("403", "Forbidden"); exit; }
  record_route();
  \$du = "sip:127.0.0.1:$buyer_port";
  t_relay();
}
KAMCFG
  kamailio -DD -E -f "$work/kamailio.cfg" -Y "$work/kamailio-run" -m 256 -M 16 > "$work/kamailio.log" 2>&1 &
  gw_pid=$!
  sleep 1
  kill -0 "$gw_pid" 2>/dev/null || { echo "kamailio did not start"; tail -5 "$work/kamailio.log"; exit 2; }
}
start_gateway() {
  "$build/gateway/sipgw" --db "$SIPGW_DB" --listen "udp:127.0.0.1:$gw_port" --log-level "${SIPGW_BENCH_LOG_LEVEL:-info}" \
    > "$work/sipgw.log" 2>&1 &
  gw_pid=$!
  # Ready once its UDP socket is bound (the "listening on" line is not
  # logged at log level warn).
  for _ in $(seq 50); do
    ss -Hlun "sport = :$gw_port" 2>/dev/null | grep -q . && return
    grep -q "listening on" "$work/sipgw.log" && return
    sleep 0.1
  done
  echo "sipgw did not start"; cat "$work/sipgw.log"; exit 2
}
stop_gateway() { kill -TERM "$gw_pid" 2>/dev/null; wait "$gw_pid" 2>/dev/null; }
# CPU of the gateway and of every process it forked (Kamailio's workers).
cpu_ticks() {
  local total=0 p
  for p in $1 $(pgrep -P "$1"); do total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done
  echo "$total"
}
rss_kb() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }
hz=$(getconf CLK_TCK)

sipp -sf "$here/uas_answer.xml" -i 127.0.0.1 -p "$buyer_port" -nostdin -bg > /dev/null 2>&1 || true
sipp -sf "$here/uas_busy.xml" -i 127.0.0.1 -p "$busy_port" -nostdin -bg > /dev/null 2>&1 || true
sleep 0.3

echo "sipgw call-rate benchmark ($(nproc) cores, ${step_seconds}s per step, calls held 1 s, UDP, log level ${SIPGW_BENCH_LOG_LEVEL:-info})"
for mode in ${SIPGW_BENCH_MODES:-ip digest failover}; do
  session_expires=1800
  [ "$mode" = ip-notimers ] && session_expires=0
  "$ctl" setting set session.expires "$session_expires" >> "$work/provision.log"
  if [ "$mode" = kamailio-ip ]; then start_kamailio; else start_gateway; fi
  best=0
  printf '\n%-11s %8s %9s %7s %10s %9s %9s %8s\n' mode "rate/s" calls failed "median ms" "p99 ms" "cpu %" "rss MB"
  for rate in "${rates[@]}"; do
    calls=$((rate * step_seconds))
    number=+18882223333
    [ "$mode" = failover ] && number=+18882224444
    args=(127.0.0.1:$gw_port -i 127.0.0.1 -p $pub_port -s "$number" -r "$rate" -m "$calls" -d 1000 -nostdin
          -trace_stat -stf "$work/stat.csv" -trace_logs -log_file "$work/setup.log" -trace_err -error_file "$work/errors.log"
          -timeout $((step_seconds + 30)) -timeout_error)
    if [ "$mode" != digest ]; then args+=(-sf "$here/uac_ip.xml"); else
      args+=(-sf "$here/uac_digest.xml" -au bench -ap bench-password -auth_uri "+18882223333@bench.test"); fi
    rm -f "$work/setup.log" "$work/errors.log" "$work/stat.csv"
    t0=$(cpu_ticks "$gw_pid"); s0=$(date +%s.%N)
    (cd "$work" && sipp "${args[@]}" > "$work/uac.out" 2>&1)
    t1=$(cpu_ticks "$gw_pid"); s1=$(date +%s.%N)
    ok=$(awk -F';' 'NR==1{for(i=1;i<=NF;i++) if($i=="SuccessfulCall(C)") c=i} NR>1{v=$c} END{print v+0}' "$work/stat.csv")
    failed=$((calls - ok))
    # "setup S0 U0 S1 U1": the publisher's clock when the INVITE left and when the 200 came.
    read -r median p99 < <(awk '$1 == "setup" {printf "%.3f\n", (($4 - $2) * 1e6 + ($5 - $3)) / 1000}' "$work/setup.log" 2>/dev/null |
      sort -g | awk '{a[NR]=$1} END{if(NR==0){print "- -"; exit} m=a[int((NR+1)/2)]; p=a[int(NR*0.99)>0?int(NR*0.99):1]; printf "%.2f %.2f\n", m, p}')
    cpu=$(awk -v a="$t0" -v b="$t1" -v s="$s0" -v e="$s1" -v hz="$hz" 'BEGIN{printf "%.0f", 100*(b-a)/hz/(e-s)}')
    rss=$(awk -v k="$(rss_kb "$gw_pid" VmHWM)" 'BEGIN{printf "%.1f", k/1024}')
    printf '%-11s %8s %9s %7s %10s %9s %9s %8s\n' "$mode" "$rate" "$calls" "$failed" "$median" "$p99" "$cpu" "$rss"
    if [ "$failed" -eq 0 ]; then best=$rate; else
      echo "  first errors at $rate/s:"; grep -v '^\s*$' "$work/errors.log" 2>/dev/null | head -3 | cut -c1-160 | sed 's/^/    /'
      break
    fi
    sleep 2
  done
  echo "$mode: highest rate with zero failed calls over ${step_seconds}s: $best calls/s; peak RSS of the main process $(rss_kb "$gw_pid" VmHWM) kB"
  stop_gateway
done

# Concurrency: hold many calls at once and price each in memory.
[ "$concurrent" -gt 0 ] || exit 0
start_gateway
sleep 0.5
idle=$(rss_kb "$gw_pid" VmRSS)
hold_ms=$(( (concurrent / 500 + 20) * 1000 ))
(cd "$work" && sipp 127.0.0.1:$gw_port -sf "$here/uac_ip.xml" -i 127.0.0.1 -p $pub_port -s +18882223333 -r 500 -m "$concurrent" \
  -l "$concurrent" -d "$hold_ms" -nostdin -trace_stat -stf "$work/conc.csv" -fd 1 > "$work/conc.out" 2>&1) &
uac=$!
for _ in $(seq 120); do
  cur=$(awk -F';' 'NR==1{for(i=1;i<=NF;i++) if($i=="CurrentCall") c=i} NR>1{v=$c} END{print v+0}' "$work/conc.csv" 2>/dev/null)
  [ "${cur:-0}" -ge "$concurrent" ] && break
  sleep 0.5
done
sleep 2
held=$(awk -F';' 'NR==1{for(i=1;i<=NF;i++) if($i=="CurrentCall") c=i} NR>1{v=$c} END{print v+0}' "$work/conc.csv")
rss=$(rss_kb "$gw_pid" VmRSS)
echo
echo "concurrency: $held calls held; sipgw RSS idle ${idle} kB, holding ${rss} kB: $(( (rss - idle) * 1024 / (held > 0 ? held : 1) )) bytes per call"
kill "$uac" 2>/dev/null
stop_gateway
