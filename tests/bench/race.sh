#!/usr/bin/env bash
# The race: sipgw against Kamailio 5.6 in one invocation, same SIPp
# publisher and buyer, same machine, one system at a time (Kamailio first in
# each pair, so neither always gets the cooler machine). For IP and digest
# admission each system climbs the rate ladder to its highest rate with no
# failed call, is then offered twice that for SIPGW_BENCH_OVERLOAD seconds
# (default 60) and brought back to the clean rate for 10 s. Prints the
# ladders (tests/bench/call_rate.sh) and a table with the ratio
# sipgw/Kamailio: max calls/s, CPU per call at 1,000/s, p99 setup at
# 1,000/s, PSS at 1,000/s, goodput at 2x. Machines are noisy: compare the
# ratios of one run, not absolutes across runs. Asserts nothing.
#
# Usage: tests/bench/race.sh [BUILD_DIR] [STEP_SECONDS] [RATES...]
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$(cd "${1:-$here/../../build}" && pwd)"
step_seconds="${2:-10}"
shift 2 2>/dev/null || shift $#
rates=("$@")
[ ${#rates[@]} -gt 0 ] || rates=(500 1000 1500 2000 2500 3000 3500 4000)
summary="$(mktemp /tmp/sipgw-race.XXXXXX)"
trap 'rm -f "$summary"' EXIT

SIPGW_BENCH_MODES="${SIPGW_RACE_MODES:-kamailio-ip ip kamailio-digest digest}" SIPGW_BENCH_CONCURRENT=0 \
  SIPGW_BENCH_OVERLOAD="${SIPGW_BENCH_OVERLOAD:-60}" SIPGW_BENCH_LOG_LEVEL=warn SIPGW_BENCH_SUMMARY="$summary" \
  bash "$here/call_rate.sh" "$build" "$step_seconds" "${rates[@]}"

echo
echo "race: sipgw / Kamailio (same run; summary lines: mode max cpu_ms_per_call p99_ms pss_mb 2x_rate 2x_goodput 2x_failed_in_progress 2x_refused_or_dropped after_failed)"
cat "$summary"
echo
awk '
  { for (i = 2; i <= NF; i++) v[$1, i] = $i; seen[$1] = 1 }
  function ratio(a, b) { return (a == "-" || b == "-" || b + 0 == 0) ? "-" : sprintf("%.2f", a / b) }
  function row(label, field, admission,   s, k) {
    s = v[admission, field]; k = v["kamailio-" admission, field]
    printf "%-7s %-34s %10s %10s %8s\n", admission, label, s, k, ratio(s, k)
  }
  END {
    printf "%-7s %-34s %10s %10s %8s\n", "mode", "measure", "sipgw", "kamailio", "ratio"
    for (m = 0; m < 2; m++) {
      a = m == 0 ? "ip" : "digest"
      if (!seen[a] || !seen["kamailio-" a]) continue
      row("max calls/s, 0 failed", 2, a)
      row("CPU ms per call at 1,000/s", 3, a)
      row("p99 setup ms at 1,000/s", 4, a)
      row("PSS MB at 1,000/s", 5, a)
      row("offered at 2x, calls/s", 6, a)
      row("goodput at 2x, calls/s", 7, a)
      row("admitted calls failed at 2x", 8, a)
      row("failed+refused in 10 s after", 10, a)
    }
  }' "$summary"
