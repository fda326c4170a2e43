#!/usr/bin/env python3
"""Sends malformed and mutated SIP to sipgw over UDP and TCP: truncated and
oversized messages, bad Content-Length, NUL bytes, duplicated and missing
mandatory headers, huge header counts, malformed digest parameters, broken
UTF-8, and random byte-level mutations of valid requests (our own mutator:
radamsa is not packaged in Debian 12). It does not wait for answers; it reads
and discards whatever comes back. Prints what it sent. Deterministic per seed.

Usage: tests/fuzz/sip_fuzz.py HOST PORT COUNT [SEED] [SOURCE_IP] [RATE]
RATE: messages per second at most (default 0: as fast as it can).
"""
import random
import socket
import sys
import time

SDP = "v=0\r\no=fz 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n"


def valid_requests(host, port, ip, lport, n):
    via = f"Via: SIP/2.0/UDP {ip}:{lport};rport;branch=z9hG4bK-fz{n}\r\n"
    common = (f"From: <sip:+15551230000@{ip}>;tag=fz{n}\r\nCall-ID: fz-{n}@{ip}\r\nMax-Forwards: 70\r\n"
              f"Contact: <sip:fz@{ip}:{lport}>\r\n")
    sdp = SDP.format(ip=ip)
    ruri = f"sip:+18882223333@ip.test"
    return [
        f"INVITE {ruri} SIP/2.0\r\n{via}{common}To: <{ruri}>\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n"
        f"Content-Length: {len(sdp)}\r\n\r\n{sdp}",
        f"INVITE sip:+18882223333@digest.test SIP/2.0\r\n{via}{common}To: <sip:+18882223333@digest.test>\r\n"
        f"CSeq: 2 INVITE\r\nProxy-Authorization: Digest username=\"alice\", realm=\"digest.test\", "
        f"nonce=\"{'ab' * 32}\", uri=\"sip:+18882223333@digest.test\", response=\"{'0' * 32}\", algorithm=MD5, "
        f"qop=auth, nc=00000001, cnonce=\"x\"\r\nContent-Length: 0\r\n\r\n",
        f"OPTIONS sip:{host}:{port} SIP/2.0\r\n{via}{common}To: <sip:{host}:{port}>\r\nCSeq: 1 OPTIONS\r\n"
        f"Content-Length: 0\r\n\r\n",
        f"REGISTER sip:{host} SIP/2.0\r\n{via}{common}To: <sip:fz@{host}>\r\nCSeq: 1 REGISTER\r\nExpires: 60\r\n"
        f"Content-Length: 0\r\n\r\n",
        f"BYE {ruri} SIP/2.0\r\n{via}{common}To: <{ruri}>;tag=nope\r\nCSeq: 3 BYE\r\nContent-Length: 0\r\n\r\n",
        f"CANCEL {ruri} SIP/2.0\r\n{via}{common}To: <{ruri}>\r\nCSeq: 1 CANCEL\r\nContent-Length: 0\r\n\r\n",
        f"INFO {ruri} SIP/2.0\r\n{via}{common}To: <{ruri}>;tag=x\r\nCSeq: 4 INFO\r\nContent-Type: application/dtmf-relay\r\n"
        f"Content-Length: 10\r\n\r\nSignal=5\r\n",
        f"SIP/2.0 200 OK\r\n{via}{common}To: <{ruri}>;tag=x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
    ]


def structural(rng, msg):
    """A mutation that knows SIP's shape."""
    head, _, body = msg.partition("\r\n\r\n")
    lines = head.split("\r\n")
    pick = rng.randrange(14)
    if pick == 0:  # truncate anywhere
        return msg[: rng.randrange(len(msg) + 1)]
    if pick == 1:  # bad Content-Length
        value = rng.choice(["-1", "99999999", "abc", "", "1" * 40, str(len(body) + rng.randrange(1, 500)), "0x10"])
        lines = [l for l in lines if not l.lower().startswith("content-length")] + [f"Content-Length: {value}"]
    elif pick == 2:  # NUL bytes
        pos = rng.randrange(len(msg) + 1)
        return msg[:pos] + "\0" * rng.randrange(1, 8) + msg[pos:]
    elif pick == 3 and len(lines) > 1:  # duplicate a header many times
        lines += [rng.choice(lines[1:])] * rng.randrange(2, 400)
    elif pick == 4 and len(lines) > 1:  # drop a mandatory header
        del lines[rng.randrange(1, len(lines))]
    elif pick == 5:  # a huge header count
        lines += [f"X-Fz-{i}: {'y' * rng.randrange(1, 40)}" for i in range(rng.randrange(100, 2000))]
    elif pick == 6:  # oversized
        body = "z" * rng.randrange(10000, 70000)
        lines = [l for l in lines if not l.lower().startswith("content-length")] + [f"Content-Length: {len(body)}"]
    elif pick == 7:  # malformed digest parameters
        junk = rng.choice(['Digest username="', 'Digest ,,,,', 'Digest realm=digest.test nonce', 'Digest ' + 'a=b,' * 500,
                           'Digest username="\\"", uri="sip:\x00@x"', 'Digest response="' + 'f' * 5000 + '"', 'Basic ===='])
        lines.append("Proxy-Authorization: " + junk)
    elif pick == 8:  # broken UTF-8 and control bytes in the From user
        lines = [l.replace("+15551230000", "\xff\xfe\x1b[2J\x85" + "\u202e", 1) for l in lines]
    elif pick == 9:  # a broken start line
        lines[0] = rng.choice(["INVITE", "INVITE sip: SIP/2.0", "INVITE sip:a@b SIP/3.0", " SIP/2.0 200",
                               "INV\x00ITE sip:a@b SIP/2.0", "INVITE <sip:a@b> SIP/2.0", "SIP/2.0 999999 Huge",
                               "X" * 5000 + " sip:a@b SIP/2.0"])
    elif pick == 10:  # folded and empty headers, bare LF
        lines.insert(rng.randrange(1, len(lines) + 1), rng.choice([" folded continuation", ":", "Via:", "To", "\n\n"]))
    elif pick == 11:  # header values that are not what they claim
        lines.append(rng.choice(["CSeq: 99999999999999999999 INVITE", "CSeq: 1 BYE", "Max-Forwards: -5",
                                 "Expires: 99999999999", "Via: SIP/2.0/XYZ ;;;", "Session-Expires: 0;refresher=me",
                                 "Min-SE: 4294967296", "Require: 100rel, timer, foo", "Content-Type: /",
                                 "Route: <sip:127.0.0.1:9;lr>", "Record-Route: <" + "a" * 3000 + ">"]))
    elif pick == 12:  # SDP gone wrong
        body = rng.choice(["v=0\r\n", "v=0\r\no=\r\n", "o=" + "9" * 400 + "\r\n", "\x00" * 40, "m=audio -1 RTP/AVP\r\n"])
        lines = [l for l in lines if not l.lower().startswith("content-length")] + [f"Content-Length: {len(body)}"]
    else:
        return msg + msg  # two messages in one datagram
    return "\r\n".join(lines) + "\r\n\r\n" + body


def bytewise(rng, data):
    """Random byte flips, inserts and deletes (a little radamsa)."""
    data = bytearray(data)
    for _ in range(rng.randrange(1, 12)):
        if not data:
            break
        op, pos = rng.randrange(4), rng.randrange(len(data))
        if op == 0:
            data[pos] = rng.randrange(256)
        elif op == 1:
            data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 16)))
        elif op == 2:
            del data[pos:pos + rng.randrange(1, 32)]
        else:
            chunk = data[pos:pos + rng.randrange(1, 64)]
            data[pos:pos] = chunk * rng.randrange(1, 20)
    return bytes(data)


def main():
    host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    source = sys.argv[5] if len(sys.argv) > 5 else "127.0.0.3"
    rate = float(sys.argv[6]) if len(sys.argv) > 6 else 0.0
    rng = random.Random(seed)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((source, 0))
    udp.setblocking(False)
    lport = udp.getsockname()[1]
    tcp, sent, tcp_sent, errors = None, 0, 0, 0
    start = time.monotonic()
    for n in range(count):
        msg = rng.choice(valid_requests(host, port, source, lport, n))
        if rng.random() < 0.6:
            msg = structural(rng, msg)
        data = msg.encode("latin-1", errors="replace")
        if rng.random() < 0.5:
            data = bytewise(rng, data)
        try:
            if n % 10 == 0:  # one in ten over TCP, on a connection kept for a while
                if tcp is None or rng.random() < 0.05:
                    if tcp:
                        tcp.close()
                    tcp = socket.create_connection((host, port), timeout=2)
                    tcp.setblocking(False)
                tcp.send(data)
                tcp_sent += 1
            else:
                udp.sendto(data[:65000], (host, port))
            sent += 1
        except OSError:
            errors += 1
            if tcp:
                tcp.close()
            tcp = None
        for s in (udp, tcp):  # drop whatever came back
            try:
                while s and s.recv(65536):
                    pass
            except OSError:
                pass
        if rate > 0 and n % 100 == 99:  # paced: hostile input, not a flood
            ahead = (n + 1) / rate - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(ahead)
        elif n % 2000 == 0:
            time.sleep(0.01)  # let a one-core SIP thread breathe: this is a fuzzer, not a flood
    elapsed = time.monotonic() - start
    print(f"sent {sent} messages ({tcp_sent} over TCP) in {elapsed:.1f} s, {errors} send errors, seed {seed}")


if __name__ == "__main__":
    main()
