#!/usr/bin/env python3
"""Loopback HTTPS server for bench/run.sh (Python's ssl module, i.e. OpenSSL).

    server.py PORTFILE NAME:CERT:KEY [NAME:CERT:KEY ...]

Listens on 127.0.0.1 (one ephemeral port per certificate), answers every request
(head + Content-Length body) with "200 OK" and closes the connection. Writes
"NAME PORT" lines to PORTFILE once listening, then serves until killed.
Each connection is served in its own thread, so a slow client never delays the next.
"""
import socket
import ssl
import sys
import threading

REPLY = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nok"


def read_request(s):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            return False
        data += chunk
        if len(data) > 1 << 20:
            return False
    head, body = data.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            return False
        body += chunk
    return True


def handle(ctx, conn):
    conn.settimeout(10)
    try:
        s = ctx.wrap_socket(conn, server_side=True)
        if read_request(s):
            s.sendall(REPLY)
        try:
            s.settimeout(0.5)
            s.unwrap()
        except (OSError, ssl.SSLError, ValueError):
            pass
        s.close()
    except (OSError, ssl.SSLError, ValueError):
        pass
    finally:
        conn.close()


def serve(ctx, ls):
    while True:
        conn, _ = ls.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=handle, args=(ctx, conn), daemon=True).start()


def main():
    portfile, specs = sys.argv[1], sys.argv[2:]
    lines = []
    threads = []
    for spec in specs:
        name, cert, key = spec.split(":")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", 0))
        ls.listen(128)
        lines.append(f"{name} {ls.getsockname()[1]}\n")
        t = threading.Thread(target=serve, args=(ctx, ls), daemon=True)
        t.start()
        threads.append(t)
    with open(portfile + ".tmp", "w") as f:
        f.writelines(lines)
    import os
    os.rename(portfile + ".tmp", portfile)
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
