#!/usr/bin/env python3
"""The spoofed-source INVITE flood of issue 11, on loopback: COUNT INVITEs
from SOURCES different 127.x addresses (any 127.0.0.0/8 address is a source
on loopback), none of which ever answers or ACKs, to a domain that refuses
them before authentication. Prints sipgw's RSS before, right after and once
the stack's transaction timers (32 s) have run out, and how many responses
came back in all (each refused INVITE's final response is retransmitted
until Timer H: the reflection a spoofed victim receives).

Usage: spoofed_flood.py PID HOST PORT [COUNT] [SOURCES] [RATE]
Asserts nothing; not part of ctest.
"""
import socket
import sys
import time


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def udp_out():
    """UDP datagrams this host has sent (on an otherwise quiet machine: sipgw's answers)."""
    with open("/proc/net/snmp") as f:
        rows = [line.split() for line in f if line.startswith("Udp:")]
    return int(rows[1][rows[0].index("OutDatagrams")])


def main():
    pid, host, port = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    count = int(sys.argv[4]) if len(sys.argv) > 4 else 20000
    sources = int(sys.argv[5]) if len(sys.argv) > 5 else 1000
    rate = int(sys.argv[6]) if len(sys.argv) > 6 else 2000
    per_source = max(1, count // sources)
    socks = []
    for i in range(sources):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a victim that never reads
        s.bind((f"127.{10 + i // 65536}.{(i // 256) % 256}.{i % 256 or 1}", 0))
        socks.append(s)
    before = rss_kb(pid)
    out_before = udp_out()
    start = time.time()
    sent = 0
    for n in range(per_source):
        for i, s in enumerate(socks):
            src, sport = s.getsockname()
            call = f"spoof-{i}-{n}"
            msg = (f"INVITE sip:+18882223333@ip.test SIP/2.0\r\n"
                   f"Via: SIP/2.0/UDP {src}:{sport};branch=z9hG4bK-{call}\r\n"
                   f"From: <sip:x@{src}>;tag={call}\r\nTo: <sip:+18882223333@ip.test>\r\n"
                   f"Call-ID: {call}\r\nCSeq: 1 INVITE\r\nContact: <sip:x@{src}:{sport}>\r\n"
                   f"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode()
            s.sendto(msg, (host, port))
            sent += 1
            ahead = sent / rate - (time.time() - start)
            if ahead > 0:
                time.sleep(ahead)
    right_after = rss_kb(pid)
    print(f"sent {sent} INVITEs from {sources} sources in {time.time() - start:.1f} s")
    print(f"RSS before {before} KB, right after {right_after} KB", flush=True)
    time.sleep(40)
    settled = rss_kb(pid)
    answers = udp_out() - out_before
    received = 0
    for s in socks:
        s.setblocking(False)
        try:
            while True:
                s.recv(65536)
                received += 1
        except BlockingIOError:
            pass
    print(f"RSS 40 s later {settled} KB")
    print(f"UDP datagrams sent by this host during the run and the 40 s after: {answers} "
          f"({answers / max(sent, 1):.1f} per INVITE: the final response and its retransmissions)")
    print(f"responses still queued at the sources: {received} (receive buffers hold only a few each)")


main()
