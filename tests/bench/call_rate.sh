#!/usr/bin/env bash
# Call-rate benchmark: sipgw between a SIPp publisher and a SIPp buyer on
# loopback (a buyer that answers 200 at once). Modes: ip, digest, failover
# (IP auth; the first buyer always answers 486), ip-notimers (session.expires
# 0: what RFC 4028 timers cost), and kamailio-ip / kamailio-digest (Kamailio
# 5.6 in sipgw's place doing the same admission; tests/bench/race.sh runs
# them side by side). Per step: calls refused with 503 by overload control,
# other failed calls, goodput, median and p99 INVITE-to-200 time at the
# publisher, the server's CPU, PSS of all its processes, and (sipgw) how
# many SIP-thread heartbeats were over 50 and 250 ms late. Then the highest
# rate with neither; with SIPGW_BENCH_OVERLOAD=SECONDS, twice that rate for
# that long and 10 s back at it. Finally it holds 5,000 concurrent calls and
# prints RSS per call (SIPGW_BENCH_CONCURRENT=0 skips). Prints numbers;
# asserts nothing. Not part of ctest.
#
# Usage: tests/bench/call_rate.sh [BUILD_DIR] [STEP_SECONDS] [RATES...]
# SIPGW_BENCH_MODES, SIPGW_BENCH_SETTINGS="key=value ...",
# SIPGW_BENCH_LOG_LEVEL, SIPGW_BENCH_SUMMARY=FILE (one line per mode),
# SIPGW_BENCH_BLOCKS=N (a global block list of N numbers the calls never
# match, plus the bench campaign screening repeat callers over a day
# (uac_ip.xml calls from a new number each call, +1[pid][call_number]):
# what screening costs a call that passes it),
# SIPGW_BENCH_POSTBACKS=1 (postbacks on inbound, connected and completed to a
# local receiver, tests/integration/http_receiver.py: what events and their
# delivery cost a call; after each step, deliveries made and still pending).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$(cd "${1:-$here/../../build}" && pwd)"
step_seconds="${2:-15}"
shift 2 2>/dev/null || shift $#
rates=("$@")
[ ${#rates[@]} -gt 0 ] || rates=(250 500 1000 1500 2000 2500 3000 4000)
concurrent="${SIPGW_BENCH_CONCURRENT:-5000}"

work="$(mktemp -d /tmp/sipgw-bench.XXXXXX)"
gw_port=25060; buyer_port=25070; pub_port=25080; busy_port=25071; metrics_port=25090
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
  # SIPGW_BENCH_SETTINGS="key=value ...": sipgw settings for this run (for
  # before/after comparisons, e.g. sip.overload_wait=0).
  for kv in ${SIPGW_BENCH_SETTINGS:-}; do "$ctl" setting set "${kv%%=*}" "${kv#*=}"; done
  if [ "${SIPGW_BENCH_BLOCKS:-0}" -gt 0 ]; then
    seq 1 "$SIPGW_BENCH_BLOCKS" | awk '{ printf "+1777%07d\n", $1 }' > "$work/blocks.txt"
    "$ctl" block import "$work/blocks.txt"
    "$ctl" block add '+1666*'
    "$ctl" campaign update bench --repeat-window 86400 --min-attestation none
  fi
  if [ "${SIPGW_BENCH_POSTBACKS:-0}" = 1 ]; then
    for event in inbound connected completed; do
      "$ctl" postback add --event "$event" --url "http://127.0.0.1:25095/$event?call=[call_uuid]&key=[postback_key]&d=[duration]"
    done
  fi
} > "$work/provision.log"

gw_pid=""
# Kamailio in sipgw's place, doing the same admission: stateful (tm),
# record-routing, the publisher checked against the allowlist in SQLite
# (permissions, cached in memory as sipgw's snapshot is) or by digest
# against subscriber HA1s in SQLite (auth_db, a query per INVITE: Kamailio
# has no credential cache), a call UUID header added, every INVITE sent to
# the buyer. Two UDP workers, one per core.
kamailio_db() {
  python3 - "$work/kamailio.sqlite" <<'PY'
import hashlib, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executescript("""
CREATE TABLE IF NOT EXISTS version (id INTEGER PRIMARY KEY, table_name VARCHAR(32) NOT NULL, table_version INTEGER DEFAULT 0 NOT NULL);
CREATE TABLE IF NOT EXISTS address (id INTEGER PRIMARY KEY, grp INTEGER DEFAULT 1 NOT NULL, ip_addr VARCHAR(50) NOT NULL,
  mask INTEGER DEFAULT 32 NOT NULL, port SMALLINT DEFAULT 0 NOT NULL, tag VARCHAR(64));
CREATE TABLE IF NOT EXISTS subscriber (id INTEGER PRIMARY KEY, username VARCHAR(64) DEFAULT '' NOT NULL,
  domain VARCHAR(64) DEFAULT '' NOT NULL, password VARCHAR(64) DEFAULT '' NOT NULL, ha1 VARCHAR(128) DEFAULT '' NOT NULL,
  ha1b VARCHAR(128) DEFAULT '' NOT NULL);
DELETE FROM version; DELETE FROM address; DELETE FROM subscriber;
INSERT INTO version (table_name, table_version) VALUES ('address', 6), ('subscriber', 7);
INSERT INTO address (grp, ip_addr, mask) VALUES (1, '127.0.0.1', 32);
""")
ha1 = hashlib.md5(b"bench:bench.test:bench-password").hexdigest()
db.execute("INSERT INTO subscriber (username, domain, ha1) VALUES ('bench', 'bench.test', ?)", (ha1,))
db.commit()
PY
}
start_kamailio() {
  local admission
  if [ "$1" = kamailio-digest ]; then
    admission='if (!proxy_authorize("bench.test", "subscriber")) { proxy_challenge("bench.test", "1"); exit; }
  consume_credentials();'
  else
    admission='if (!allow_source_address("1")) { sl_send_reply("403", "Forbidden"); exit; }'
  fi
  mkdir -p "$work/kamailio-run"
  kamailio_db
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
loadmodule "db_sqlite.so"
loadmodule "permissions.so"
loadmodule "auth.so"
loadmodule "auth_db.so"
loadmodule "uuid.so"
modparam("permissions", "db_url", "sqlite://$work/kamailio.sqlite")
modparam("permissions", "db_mode", 1)
modparam("permissions", "load_backends", 1)
modparam("auth_db", "db_url", "sqlite://$work/kamailio.sqlite")
modparam("auth_db", "calculate_ha1", 0)
modparam("auth_db", "load_credentials", "")
request_route {
  if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
  # In-dialog: follow the Route set, or the Request-URI (the benchmark buyer
  # does not echo Record-Route, as a B2BUA peer never needs to).
  if (has_totag()) {
    if (loose_route() || uri != myself) { t_relay(); }
    exit;
  }
  if (is_method("CANCEL")) { if (t_check_trans()) { t_relay(); } exit; }
  if (is_method("ACK")) { t_relay(); exit; }
  $admission
  append_hf("X-Call-UUID: \$uuid(g)\r\n");
  record_route();
  \$du = "sip:127.0.0.1:$buyer_port";
  t_relay();
}
KAMCFG
  kamailio -DD -E -f "$work/kamailio.cfg" -Y "$work/kamailio-run" -m 1024 -M 16 > "$work/kamailio.log" 2>&1 &
  gw_pid=$!
  sleep 1
  kill -0 "$gw_pid" 2>/dev/null || { echo "kamailio did not start"; tail -5 "$work/kamailio.log"; exit 2; }
}
start_gateway() {
  "$build/gateway/sipgw" --db "$SIPGW_DB" --listen "udp:127.0.0.1:$gw_port" --log-level "${SIPGW_BENCH_LOG_LEVEL:-info}" \
    --metrics "127.0.0.1:$metrics_port" > "$work/sipgw.log" 2>&1 &
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
# Proportional set size of the server and every process it forked, in kB:
# Kamailio's shared memory counted once, not once per worker.
pss_kb() {
  local total=0 p v
  for p in $1 $(pgrep -P "$1"); do
    v=$(awk '$1 == "Pss:" {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null)
    total=$((total + ${v:-0}))
  done
  echo "$total"
}
hz=$(getconf CLK_TCK)
# sipgw's heartbeats so far: "all over-50ms over-250ms" (sipgw_sip_loop_lag_seconds), "- - -" for Kamailio.
lag_counts() {
  curl -s --max-time 2 "http://127.0.0.1:$metrics_port/metrics" 2>/dev/null | awk '
    /^sipgw_sip_loop_lag_seconds_count / {n = $2}
    /^sipgw_sip_loop_lag_seconds_bucket\{le="0.05"\}/ {a = $2}
    /^sipgw_sip_loop_lag_seconds_bucket\{le="0.25"\}/ {b = $2}
    END {if (n == "") print "- - -"; else printf "%d %d %d\n", n, n - a, n - b}'
}

# SIPp's own socket buffers are 64 KB unless told: past its limit the
# load generator would drop the answers it waits for and count the calls
# as failed by the server (4 MB, net.core.rmem_max here).
sipp_buffer=(-buff_size 4194304)
sipp -sf "$here/uas_answer.xml" -i 127.0.0.1 -p "$buyer_port" "${sipp_buffer[@]}" -nostdin -bg > /dev/null 2>&1 || true
sipp -sf "$here/uas_busy.xml" -i 127.0.0.1 -p "$busy_port" "${sipp_buffer[@]}" -nostdin -bg > /dev/null 2>&1 || true
sleep 0.3

# UDP datagrams the kernel dropped for a full receive buffer, at any socket
# (sipgw's or a SIPp's: an overloaded SIPp loses answers too).
udp_rcvbuf_errors() {
  awk '$1 == "Udp:" && !h {for (i = 2; i <= NF; i++) c[$i] = i; h = 1; next} $1 == "Udp:" {print $c["RcvbufErrors"]}' /proc/net/snmp
}

# One step: RATE calls/s for SECONDS from a SIPp publisher. Sets calls, ok,
# refused (503 from overload control), unanswered (INVITEs the kernel
# dropped under overload, every retransmission), failed (every other failure), median
# and p99 INVITE-to-200 ms, cpu (% of one core, the server and its forked
# processes), pss (MB, right after the step) and goodput (calls/s completed).
run_step() {
  local mode=$1 rate=$2 seconds=$3 number=+18882223333 t0 t1 s0 s1 bad
  calls=$((rate * seconds))
  [ "$mode" = failover ] && number=+18882224444
  local args=(127.0.0.1:$gw_port -i 127.0.0.1 -p $pub_port -s "$number" -r "$rate" -m "$calls" -d 1000 -nostdin "${sipp_buffer[@]}"
        -trace_stat -stf "$work/stat.csv" -trace_counts -trace_logs -log_file "$work/setup.log"
        -trace_err -error_file "$work/errors.log" -timeout $((seconds + 40)) -timeout_error)
  if [ "${mode#kamailio-}" != digest ]; then args+=(-sf "$here/uac_ip.xml"); else
    args+=(-sf "$here/uac_digest.xml" -au bench -ap bench-password -auth_uri "+18882223333@bench.test"); fi
  rm -f "$work"/setup.log "$work"/errors.log "$work"/stat.csv "$work"/*_counts.csv
  lag_before=$(lag_counts)
  local rcvbuf_before; rcvbuf_before=$(udp_rcvbuf_errors)
  t0=$(cpu_ticks "$gw_pid"); s0=$(date +%s.%N)
  (cd "$work" && sipp "${args[@]}" > "$work/uac.out" 2>&1)
  t1=$(cpu_ticks "$gw_pid"); s1=$(date +%s.%N)
  rcvbuf_drops=$(( $(udp_rcvbuf_errors) - rcvbuf_before ))
  lag=$(awk -v a="$lag_before" -v b="$(lag_counts)" 'BEGIN{split(a, x, " "); split(b, y, " ");
    if (x[1] == "-" || y[1] == "-") {print "-"; exit} printf "%d/%d/%d", y[1]-x[1], y[2]-x[2], y[3]-x[3]}')
  ok=$(awk -F';' 'NR==1{for(i=1;i<=NF;i++) if($i=="SuccessfulCall(C)") c=i} NR>1{v=$c} END{print v+0}' "$work/stat.csv")
  # Past its own limit SIPp places fewer calls than asked: count those it did.
  local created
  created=$(awk -F';' 'NR==1{for(i=1;i<=NF;i++) if($i=="TotalCallCreated") c=i} NR>1{v=$c} END{print v+0}' "$work/stat.csv")
  [ "$created" -gt 0 ] && calls=$created
  # 503s received, from the per-message counts (last line: the totals).
  refused=$(cat "$work"/*_counts.csv 2>/dev/null | awk -F';' 'NR==1{for(i=1;i<=NF;i++) if($i ~ /_503_Recv$/) c[i]=1}
    NR>1{v=0; for(i in c) v+=$i} END{print v+0}')
  # INVITEs never answered at all (SIPp gave up retransmitting them): under
  # overload, the kernel dropped every copy (sip.overload_response 503+drop).
  unanswered=$(cat "$work"/*_counts.csv 2>/dev/null | awk -F';' 'NR==1{for(i=1;i<=NF;i++) if($i ~ /_INVITE_Timeout$/) c[i]=1}
    NR>1{v=0; for(i in c) v+=$i} END{print v+0}')
  bad=$((calls - ok))
  failed=$((bad > refused + unanswered ? bad - refused - unanswered : 0))
  # "setup S0 U0 S1 U1": the publisher's clock when the INVITE left and when the 200 came.
  read -r median p99 < <(awk '$1 == "setup" {printf "%.3f\n", (($4 - $2) * 1e6 + ($5 - $3)) / 1000}' "$work/setup.log" 2>/dev/null |
    sort -g | awk '{a[NR]=$1} END{if(NR==0){print "- -"; exit} m=a[int((NR+1)/2)]; p=a[int(NR*0.99)>0?int(NR*0.99):1]; printf "%.2f %.2f\n", m, p}')
  cpu=$(awk -v a="$t0" -v b="$t1" -v s="$s0" -v e="$s1" -v hz="$hz" 'BEGIN{printf "%.0f", 100*(b-a)/hz/(e-s)}')
  pss=$(awk -v k="$(pss_kb "$gw_pid")" 'BEGIN{printf "%.1f", k/1024}')
  goodput=$(awk -v n="$ok" -v t="$seconds" 'BEGIN{printf "%.0f", n/t}')
}
print_header() {
  printf '\n%-15s %7s %8s %7s %6s %8s %7s %9s %9s %6s %8s %8s %-27s %s\n' mode "rate/s" calls refused unansw failed "good/s" "median ms" "p99 ms" "cpu %" "pss MB" "rss MB" "heartbeats/late>50ms/>250ms" "rcvbuf drops"
}
print_step() {
  printf '%-15s %7s %8s %7s %6s %8s %7s %9s %9s %6s %8s %8s %-27s %s\n' "$1" "$2" "$calls" "$refused" "$unanswered" "$failed" "$goodput" "$median" "$p99" \
    "$cpu" "$pss" "$(awk -v k="$(rss_kb "$gw_pid" VmHWM)" 'BEGIN{printf "%.1f", k/1024}')" "$lag" "$rcvbuf_drops"
}

if [ "${SIPGW_BENCH_POSTBACKS:-0}" = 1 ]; then
  python3 "$here/../integration/http_receiver.py" 25095 /dev/null &
fi
# Postback deliveries made and still pending (outbox rows), when measured.
outbox_counts() {
  [ "${SIPGW_BENCH_POSTBACKS:-0}" = 1 ] || return 0
  python3 - "$SIPGW_DB" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=5)
rows = dict(db.execute("SELECT state, count(*) FROM postback_outbox GROUP BY state").fetchall())
print(f"  postbacks: {rows.get('delivered', 0)} delivered, {rows.get('pending', 0)} pending, {rows.get('failed', 0)} failed")
PY
}

overload_seconds="${SIPGW_BENCH_OVERLOAD:-0}"
summary="${SIPGW_BENCH_SUMMARY:-/dev/null}"
echo "sipgw call-rate benchmark ($(nproc) cores, ${step_seconds}s per step, calls held 1 s, UDP, log level ${SIPGW_BENCH_LOG_LEVEL:-info})"
for mode in ${SIPGW_BENCH_MODES:-ip digest failover}; do
  session_expires=1800
  [ "$mode" = ip-notimers ] && session_expires=0
  "$ctl" setting set session.expires "$session_expires" >> "$work/provision.log"
  case "$mode" in kamailio-*) start_kamailio "$mode" ;; *) start_gateway ;; esac
  best=0; at1000="- - -"
  print_header
  for rate in "${rates[@]}"; do
    run_step "$mode" "$rate" "$step_seconds"
    print_step "$mode" "$rate"
    outbox_counts
    [ "$rate" -eq 1000 ] && at1000="$(awk -v c="$cpu" -v r="$rate" 'BEGIN{printf "%.3f", c * 10 / r}') $p99 $pss"
    if [ "$((failed + refused + unanswered))" -eq 0 ]; then best=$rate; else
      echo "  first errors at $rate/s:"; grep -v '^\s*$' "$work/errors.log" 2>/dev/null | head -3 | cut -c1-160 | sed 's/^/    /'
      break
    fi
    sleep 2
  done
  echo "$mode: highest rate with zero failed calls over ${step_seconds}s: $best calls/s; peak RSS of the main process $(rss_kb "$gw_pid" VmHWM) kB"
  over="- - - - -"
  if [ "$overload_seconds" -gt 0 ] && [ "$best" -gt 0 ]; then
    # Twice the highest clean rate, then straight back to that rate: the
    # goodput under overload, calls that failed after being let in (not
    # refused), and whether the next 10 s are clean again.
    sleep 5
    run_step "$mode" $((best * 2)) "$overload_seconds"
    print_step "$mode 2x" $((best * 2))
    # What the failures were, by SIPp's words (call ids and times cut).
    grep -a -o 'Aborting call on [A-Za-z ]*\|receive timeout on message [^:]*:[0-9]*\|call timeout' \
      "$work/errors.log" 2>/dev/null | cut -c1-60 | sort | uniq -c | sort -rn | head -6 | sed 's/^/    failures: /'
    cp "$work/errors.log" "$work/errors-2x.log" 2>/dev/null
    over="$((best * 2)) $goodput $failed $((refused + unanswered))"
    run_step "$mode" "$best" 10
    print_step "$mode after" "$best"
    over="$over $((failed + refused + unanswered))"
  fi
  echo "$mode $best $at1000 $over" >> "$summary"
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
