# Shared by the bench scripts that run sipgw with a SIPp publisher and buyer
# on loopback. Source it; needs $ctl (sipgwctl) and SIPGW_DB set.

# The benches' one campaign: publisher "pub" allowlisted on 127.0.0.1 (and
# alice/secret-pw on digest.test), number +18882223333, one buyer on
# 127.0.0.1:BUYER_PORT. Domains: 127.0.0.1 and ip.test (IP), digest.test.
bench_provision() {
  local buyer_port="$1"
  "$ctl" init
  "$ctl" domain add 127.0.0.1 --auth ip
  "$ctl" domain add ip.test --auth ip
  "$ctl" domain add digest.test --auth digest
  "$ctl" publisher add pub
  echo "secret-pw" | "$ctl" credential add alice --publisher pub --realm digest.test
  "$ctl" allowlist add 127.0.0.1 --publisher pub
  "$ctl" campaign add c
  "$ctl" number add +18882223333 --campaign c
  "$ctl" buyer add b --target "sip:buyer@127.0.0.1:$buyer_port"
  "$ctl" route add --campaign c --buyer b
}

# A process's resident memory in kB (0 once it is gone).
bench_rss() { awk '$1 == "VmRSS:" {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# "completed failed" from a SIPp -trace_stat file (its last row).
bench_calls() {
  awk -F';' 'NR==1{for(i=1;i<=NF;i++){if($i=="SuccessfulCall(C)")s=i; if($i=="FailedCall(C)")f=i}} NR>1{a=$s;b=$f} END{print a+0, b+0}' "$1"
}
