#!/usr/bin/env python3
"""What one request costs sipgw's SIP thread by its number of header fields.
Debian's Sofia parses with assertions on, and checks the whole header chain
at every header it appends, so the cost grows with the square of the count
(the reason for the setting sip.max_headers; run sipgw with it at 0 here).
Sends COUNT OPTIONS with each number of extra headers from 127.0.0.5 and
prints sipgw's CPU time per request (from /proc/PID/stat).

Usage: header_cost.py PID PORT [COUNT] [HEADERS...]   (default 100; 10 250 500 1000 2000)
Asserts nothing; not part of ctest.
"""
import os
import socket
import sys
import time


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    pid, port = int(sys.argv[1]), int(sys.argv[2])
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    counts = [int(a) for a in sys.argv[4:]] or [10, 250, 500, 1000, 2000]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.5", 0))
    lport = s.getsockname()[1]
    for headers in counts:
        extra = "".join(f"X-Fz-{k}: y\r\n" for k in range(headers))
        before = cpu_seconds(pid)
        size = 0
        for i in range(count):
            msg = (f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.5:{lport};branch=z9hG4bK-h{headers}-{i}\r\n"
                   f"From: <sip:a@127.0.0.5>;tag=h{i}\r\nTo: <sip:127.0.0.1>\r\nCall-ID: h{headers}-{i}\r\n"
                   f"CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n{extra}Content-Length: 0\r\n\r\n").encode()
            size = len(msg)
            s.sendto(msg, ("127.0.0.1", port))
            time.sleep(0.01)  # one at a time: the cost, not a queue
        time.sleep(1)
        used = cpu_seconds(pid) - before
        print(f"{headers:5d} extra headers ({size:6d} bytes): {used / count * 1000:6.2f} ms of sipgw CPU each")


main()
