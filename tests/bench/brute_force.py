#!/usr/bin/env python3
"""Digest brute force over INVITE against a running sipgw, as an attacker who
answers every challenge correctly would run it: INVITE, take the 407's nonce,
INVITE again with a right digest for a guessed password. Prints guesses per
second, how many sipgw weighed (403 after a 407) and how many it refused
before any challenge (banned), and whether the right password (sent last)
got in. Asserts nothing; not part of ctest.

Usage: tests/bench/brute_force.py HOST PORT DOMAIN NUMBER USER RIGHT_PASSWORD [GUESSES] [SOURCE_IP]
"""
import hashlib
import re
import socket
import sys
import time


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()


def main():
    host, port, domain, number, user, right = sys.argv[1:7]
    guesses = int(sys.argv[7]) if len(sys.argv) > 7 else 1000
    source = sys.argv[8] if len(sys.argv) > 8 else "127.0.0.2"
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((source, 0))
    sock.settimeout(2)
    local = f"{source}:{sock.getsockname()[1]}"
    uri = f"sip:{number}@{domain}"

    def request(n, cseq, authorization=""):
        return (f"INVITE {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {local};rport;branch=z9hG4bK-bf{n}-{cseq}\r\n"
                f"From: <sip:{user}@{domain}>;tag=bf{n}\r\nTo: <{uri}>\r\nCall-ID: bf-{n}@{source}\r\n"
                f"CSeq: {cseq} INVITE\r\nContact: <sip:{user}@{local}>\r\nMax-Forwards: 70\r\n{authorization}"
                "Content-Length: 0\r\n\r\n").encode()

    def final(n, cseq, message):
        """The final response to this INVITE (retransmitted answers to earlier
        ones are skipped), ACKed as a non-2xx final must be."""
        sock.sendto(message, (host, int(port)))
        while True:
            data = sock.recv(65536).decode(errors="replace")
            status = int(data.split(" ", 2)[1])
            if f"Call-ID: bf-{n}@" not in data or not re.search(rf"CSeq: {cseq} INVITE", data):
                continue
            if status >= 200:
                to = re.search(r"\r\nTo: ([^\r]*)", data).group(1)
                sock.sendto((f"ACK {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {local};rport;branch=z9hG4bK-bf{n}-{cseq}\r\n"
                             f"From: <sip:{user}@{domain}>;tag=bf{n}\r\nTo: {to}\r\nCall-ID: bf-{n}@{source}\r\n"
                             f"CSeq: {cseq} ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode(),
                            (host, int(port)))
                return status, data

    weighed = refused = lost = 0
    got_in = False
    start = time.monotonic()
    for n in range(guesses):
        password = right if n == guesses - 1 else f"wrong-{n}"
        try:
            status, challenge = final(n, 1, request(n, 1))
            if status != 407:
                refused += 1
                continue
            realm = re.search(r'realm="([^"]*)"', challenge).group(1)
            nonce = re.search(r'nonce="([^"]*)"', challenge).group(1)
            ha1 = md5(f"{user}:{realm}:{password}")
            response = md5(f"{ha1}:{nonce}:00000001:bfcn:auth:{md5('INVITE:' + uri)}")
            auth = (f'Proxy-Authorization: Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
                    f'response="{response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="bfcn"\r\n')
            status, _ = final(n, 2, request(n, 2, auth))
            weighed += 1
            got_in = got_in or status not in (401, 403, 407)  # past authentication (a 480 for want of a buyer counts)
        except (socket.timeout, AttributeError, IndexError, ValueError):
            lost += 1
    elapsed = time.monotonic() - start
    print(f"{guesses} guesses from {source} in {elapsed:.2f} s ({guesses / elapsed:.0f}/s): "
          f"{weighed} weighed by sipgw, {refused} refused before a challenge, {lost} unanswered; "
          f"right password (last) {'GOT IN' if got_in else 'refused'}")


if __name__ == "__main__":
    main()
