#!/usr/bin/env bash
# Checks the deploy kit: Prometheus config and alert rules (promtool), the
# rules' unit tests, the Grafana dashboard's JSON and queries, and the
# systemd unit (systemd-analyze verify, when systemd is present).
# Usage: deploy/check-deploy.sh WHAT [BUILD_DIR]   WHAT: prometheus | dashboard | systemd
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
case "$1" in
  prometheus)
    promtool check config "$here/prometheus/prometheus.yml"
    promtool check rules "$here/prometheus/sipgw-rules.yml"
    (cd "$here/prometheus" && promtool test rules sipgw-rules.test.yml)
    ;;
  dashboard)
    python3 - "$here/grafana/sipgw-dashboard.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
titles = [p["title"] for p in d["panels"]]
exprs = " ".join(t["expr"] for p in d["panels"] for t in p["targets"])
for metric in ["sipgw_calls_total", "sipgw_calls_active", "sipgw_call_setup_seconds_bucket",
               "sipgw_auth_failures_total", "sipgw_buyer_attempts_total"]:
    assert metric in exprs, metric + " is on no panel"
print(len(titles), "panels:", "; ".join(titles))
PY
    ;;
  systemd)
    if ! command -v systemd-analyze >/dev/null; then echo "systemd-analyze not present: skipped"; exit 77; fi
    build="$(cd "${2:?build dir}" && pwd)"
    work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
    # The unit names the installed paths; verify it against the built binaries.
    sed -e "s|/usr/local/bin/sipgwctl|$build/db/sipgwctl|; s|/usr/local/bin/sipgw |$build/gateway/sipgw |" \
      "$here/systemd/sipgw.service" > "$work/sipgw.service"
    out="$(systemd-analyze verify "$work/sipgw.service" 2>&1 || true)"
    echo "$out"
    if echo "$out" | grep -q "sipgw.service"; then echo "systemd-analyze found problems"; exit 1; fi
    echo "sipgw.service verified"
    ;;
  *) echo "usage: $0 prometheus|dashboard|systemd [BUILD_DIR]"; exit 2 ;;
esac
