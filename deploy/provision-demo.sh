#!/usr/bin/env bash
# Provisions a demo database: a digest domain, an IP domain, a publisher with
# a credential and a loopback allowlist entry, a campaign, a number and a
# buyer on loopback. Usage: provision-demo.sh DB_PATH [BUYER_PORT]
set -euo pipefail
db="$1"
buyer_port="${2:-5070}"
ctl="$(dirname "$0")/../build/db/sipgwctl"
export SIPGW_DB="$db"
rm -f "$db" "$db-wal" "$db-shm"
"$ctl" init
"$ctl" domain add sip.demo.test --auth digest
"$ctl" domain add ip.demo.test --auth ip
# SIPp's built-in uac scenario dials sip:NUMBER@127.0.0.1:5060, so the demo
# also treats the loopback address as an IP-authenticated domain.
"$ctl" domain add 127.0.0.1 --auth ip
"$ctl" publisher add demo-publisher --name "Demo publisher"
# Demo only: a fixed password, given on stdin as every password is.
echo "demo-password" | "$ctl" credential add demo --publisher demo-publisher --realm sip.demo.test
"$ctl" allowlist add 127.0.0.0/8 --publisher demo-publisher --note "loopback demo"
"$ctl" campaign add demo-campaign --name "Demo campaign" --ring-timeout 30
"$ctl" number add +18882223333 --campaign demo-campaign
"$ctl" buyer add demo-buyer --target "sip:agentqueue@127.0.0.1:${buyer_port}" \
  --header "X-Campaign-ID: [campaign_id]" --header "X-Publisher-ID: [publisher_id]"
"$ctl" route add --campaign demo-campaign --buyer demo-buyer
