"""The response is read strictly (SPEC §6): a table of raw replies from a TLS server that
reads the whole request first. Each row is its own test (test_reply_<name>).

"keep" rows leave the connection open after the reply: anontel must finish on the
framing (Content-Length, chunked, no body) instead of waiting for the close, so those
rows also check that the run ends well before the 5 s deadline."""
import email.utils
import time

import lib
import peers

OK = None  # expected words for a delivery

H = b"HTTP/1.1 200 OK\r\n"
E = b"HTTP/1.1 503 Service Unavailable\r\n"
PAD = b"".join(b"X-Pad-%04d: %s\r\n" % (i, b"p" * 100) for i in range(170))  # ~19 KiB

# (name, reply bytes, mode, exit status, words one of which the line contains)
ROWS = [
    ("content_length", H + b"Content-Length: 2\r\n\r\nok", "keep", 0, OK),
    ("content_length_zero", H + b"Content-Length: 0\r\n\r\n", "keep", 0, OK),
    ("lowercase_header_names", H + b"content-length: 2\r\nconnection: close\r\n\r\nok", "keep", 0, OK),
    ("chunked_with_extensions_and_trailers",
     H + b"Transfer-Encoding: chunked\r\n\r\n"
         b"4;ext=1\r\nabcd\r\n3;name=\"quoted value\"\r\nefg\r\nA\r\n0123456789\r\n"
         b"0\r\nX-Trailer: t\r\nX-Other: u\r\n\r\n", "keep", 0, OK),
    ("chunked_in_small_writes",
     [H, b"Transfer-Encoding: chun", 0.05, b"ked\r\n\r\n4\r", 0.05, b"\nabcd\r\n0\r\n", 0.05, b"\r\n"],
     "keep", 0, OK),
    ("close_delimited", H + b"Content-Type: text/plain\r\n\r\nhello, no length", "close", 0, OK),
    ("no_content_204", b"HTTP/1.1 204 No Content\r\n\r\n", "keep", 0, OK),
    ("accepted_202", b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n", "keep", 0, OK),
    ("continue_then_200", b"HTTP/1.1 100 Continue\r\n\r\n" + H + b"Content-Length: 2\r\n\r\nok",
     "keep", 0, OK),
    ("two_informational_then_200", b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n"
     + H + b"Content-Length: 0\r\n\r\n", "keep", 0, OK),
    ("http10_status_line", b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", "close", 0, OK),
    ("empty_reason_phrase", b"HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", "keep", 0, OK),

    ("two_different_content_lengths", H + b"Content-Length: 2\r\nContent-Length: 3\r\n\r\nok",
     "close", 1, ["content-length"]),
    ("content_length_and_chunked", H + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"4\r\nabcd\r\n0\r\n\r\n", "close", 1, ["transfer-encoding", "content-length"]),
    ("negative_content_length", H + b"Content-Length: -1\r\n\r\n", "close", 1, ["content-length"]),
    ("bad_chunk_size", H + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabcd\r\n0\r\n\r\n",
     "close", 1, ["chunk"]),
    ("overflowing_chunk_size", H + b"Transfer-Encoding: chunked\r\n\r\n"
     b"10000000000000000000\r\nabcd\r\n0\r\n\r\n", "close", 1, ["chunk"]),
    ("bytes_instead_of_crlf_after_chunk", H + b"Transfer-Encoding: chunked\r\n\r\n"
     b"3\r\nabcXY0\r\n\r\n", "close", 1, ["chunk", "crlf"]),
    ("two_digit_status", b"HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n", "close", 1, ["status"]),
    ("not_http", b"SSH-2.0-OpenSSH_9.2\r\n\r\n", "close", 1, ["status", "http"]),
    ("bare_cr", H + b"X-A: a\rb\r\nContent-Length: 0\r\n\r\n", "close", 1, ["bare CR", "carriage"]),
    ("bare_lf_line_endings", b"HTTP/1.1 200 OK\nContent-Length: 0\n\n", "close", 1,
     ["CRLF", "bare LF", "line"]),
    ("header_block_over_16k", H + PAD + b"Content-Length: 0\r\n\r\n", "close", 1,
     ["16 KiB", "16384", "too large", "too long"]),
    ("obs_fold", H + b"X-A: a\r\n  folded\r\nContent-Length: 0\r\n\r\n", "close", 1, ["fold"]),
    # A 2xx whose body is cut short still counts as delivered (SPEC §11: the server took
    # the message; sending it again would duplicate it); any other status is an error.
    ("truncated_body_2xx", H + b"Content-Length: 100\r\n\r\nonly a little", "close", 0, OK),
    ("truncated_chunked_2xx", H + b"Transfer-Encoding: chunked\r\n\r\n10\r\nabc", "close", 0,
     OK),
    ("truncated_body", E + b"Content-Length: 100\r\n\r\nonly a little", "close", 1, ["truncated"]),
    ("truncated_chunked", E + b"Transfer-Encoding: chunked\r\n\r\n10\r\nabc", "close", 1,
     ["truncated"]),
    ("truncated_headers", H + b"Content-Len", "close", 1, ["truncated", "closed"]),
    ("no_reply_at_all", b"", "close", 1, ["truncated", "closed", "no response", "empty"]),
    ("server_error_500", b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n",
     "keep", 1, ["500"]),
    ("not_found_404", b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found", "keep", 1,
     ["404"]),
    ("redirect_without_location", b"HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n", "keep", 1,
     ["302", "location", "redirect"]),
    ("only_informational", b"HTTP/1.1 100 Continue\r\n\r\n", "close", 1,
     ["truncated", "closed"]),
]


def _run_row(tmp, name, reply, mode, code, words):
    with peers.TLSServer(reply=reply, mode=mode) as s:
        p, secs = peers.report(tmp, peers.tls_config(tmp, s), ["--timeout", "5s"])
        if code == 0:
            peers.expect_delivered(p, s, name)
            if mode == "keep":
                lib.check(secs < 2, f"{name}: finished on the framing, not the close ({secs:.2f}s)")
        else:
            peers.expect_failure(p, code, words, name)
            lib.eq(len(s.requests), 1, f"{name}: one request, no retry")
            lib.check(secs < 2, f"{name}: refused without waiting ({secs:.2f}s)")


lib.table_tests(globals(), "test_reply_", ROWS, _run_row)


# ---------------------------------------------------------------- redirects

def _redirect_server(hops, status=307, absolute=False, final=peers.OK_REPLY):
    """Redirects /collect -> /r1 -> ... -> /r<hops>, then answers `final`."""
    def reply(r, server):
        n = 0 if r.target == "/collect" else int(r.target[2:])
        if n >= hops:
            return final
        target = f"/r{n + 1}"
        if absolute:
            target = server.url(target)
        return (f"HTTP/1.1 {status} Moved\r\nLocation: {target}\r\nContent-Length: 0\r\n\r\n"
                .encode())
    return peers.TLSServer(reply=reply, mode="keep")


def _same_requests(s, what):
    first = s.requests[0]
    for i, r in enumerate(s.requests[1:], 1):
        lib.eq((r.method, r.version), ("POST", "HTTP/1.1"), f"{what}: request {i} method")
        lib.eq(r.body, first.body, f"{what}: request {i} carries the same body")
        lib.eq(r.header("content-type"), ["application/json"], f"{what}: request {i} type")
        lib.eq(r.sni, "localhost", f"{what}: request {i} SNI")


def test_redirect_307_relative(tmp):
    with _redirect_server(1, 307) as s:
        p, _ = peers.report(tmp, peers.tls_config(tmp, s))
        peers.expect_delivered(p, s, "307", n=2)
        lib.eq([r.target for r in s.requests], ["/collect", "/r1"], "paths")
        _same_requests(s, "307")


def test_redirect_308_absolute(tmp):
    with _redirect_server(1, 308, absolute=True) as s:
        p, _ = peers.report(tmp, peers.tls_config(tmp, s))
        peers.expect_delivered(p, s, "308", n=2)
        lib.eq(s.requests[1].header("host"), [f"localhost:{s.port}"], "Host after the redirect")
        _same_requests(s, "308")


def test_three_redirects_are_followed(tmp):
    with _redirect_server(3, 307) as s:
        p, _ = peers.report(tmp, peers.tls_config(tmp, s))
        peers.expect_delivered(p, s, "3 redirects", n=4)
        _same_requests(s, "3 redirects")


def test_fourth_redirect_is_refused(tmp):
    with _redirect_server(10, 308) as s:
        p, _ = peers.report(tmp, peers.tls_config(tmp, s))
        peers.expect_failure(p, 1, ["redirect"], "4 redirects")
        lib.eq(len(s.requests), 4, "the 4th redirect is not followed")


def test_redirect_to_http_is_refused(tmp):
    with peers.TLSServer(tls=False) as plain:
        location = plain.url("/x", host="127.0.0.1")
        reply = f"HTTP/1.1 307 Moved\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n".encode()
        with peers.TLSServer(reply=reply, mode="keep") as s:
            p, _ = peers.report(tmp, peers.tls_config(tmp, s))
            peers.expect_failure(p, 1, ["http"], "https -> http redirect")
            lib.eq(len(s.requests), 1, "one request to the https server")
        lib.eq(plain.requests, [], "nothing sent over plain http")
        lib.eq(plain.accepted, 0, "not even a connection to the http server")


def test_redirect_to_untrusted_server_is_checked(tmp):
    # The redirect target is verified like the first server.
    with peers.TLSServer(peers.certs().selfsigned) as bad:
        reply = (f"HTTP/1.1 308 Moved\r\nLocation: {bad.url()}\r\nContent-Length: 0\r\n\r\n"
                 .encode())
        with peers.TLSServer(reply=reply, mode="keep") as s:
            p, _ = peers.report(tmp, peers.tls_config(tmp, s))
            peers.expect_failure(p, 1, ["not trusted"], "redirect to a self-signed server")
        lib.eq(bad.requests, [], "the untrusted server got no request")


# ---------------------------------------------------------------- Retry-After

def test_429_with_retry_after_seconds(tmp):
    reply = b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 120\r\nContent-Length: 0\r\n\r\n"
    with peers.TLSServer(reply=reply, mode="keep") as s:
        p, secs = peers.report(tmp, peers.tls_config(tmp, s))
        line = peers.expect_failure(p, 1, ["retry"], "429 Retry-After: 120")
        lib.check("429" in line, f"the line names the status: {line!r}")
        lib.eq(len(s.requests), 1, "no immediate retry")
        lib.check(secs < 2, "no waiting for the Retry-After delay")


def test_503_with_retry_after_date(tmp):
    date = email.utils.formatdate(time.time() + 600, usegmt=True)
    reply = (f"HTTP/1.1 503 Service Unavailable\r\nRetry-After: {date}\r\n"
             f"Content-Length: 0\r\n\r\n").encode()
    with peers.TLSServer(reply=reply, mode="keep") as s:
        p, secs = peers.report(tmp, peers.tls_config(tmp, s))
        line = peers.expect_failure(p, 1, ["retry"], "503 Retry-After: HTTP-date")
        lib.check("503" in line, f"the line names the status: {line!r}")
        lib.eq(len(s.requests), 1, "no immediate retry")
        lib.check(secs < 2, "no waiting for the Retry-After delay")
