"""Config "headers" and ANONTEL_HEADERS_FILE (SPEC §11 Receivers): static request
headers for a receiver that wants a token, sent with every report to the endpoint's
own origin (a redirect elsewhere does not get them), judged by check -H's rules, and a
Date header on every request. The values are never printed: test_privacy.py."""
import email.utils
import os
import time

import lib
import peers
import runs

TOKEN = "Bearer 0123456789abcdef"


def _report(tmp, cfg, env_=None, args=()):
    p, _ = runs.run(["report", "--force", "-c", cfg] + list(args),
                    env_ or runs.env(os.path.join(tmp, "state")))
    return p


def _lines(r):
    return r.head.split(b"\r\n")[1:]


def test_headers_reach_the_endpoint_on_every_report(tmp):
    with runs.Server() as s:
        cfg = lib.write_config(tmp, {"endpoint": s.url("/t"), "headers": {
            "Authorization": TOKEN, "X-Scope-OrgID": "tenant\t1", "X-Empty": ""}})
        for n in (1, 2):
            p = _report(tmp, cfg)
            lib.eq(p.returncode, 0, f"report {n} ({runs.describe(p)})")
        lib.eq(len(s.posts), 2, "two reports")
        for r in s.posts:
            lines = _lines(r)
            for want in (b"Authorization: " + TOKEN.encode(), b"X-Scope-OrgID: tenant\t1",
                         b"X-Empty: "):
                lib.check(want in lines, f"{want!r} arrives verbatim: {lines!r}")
            at = [i for i, ln in enumerate(lines) if ln.startswith(b"X-") or
                  ln.startswith(b"Authorization")]
            lib.eq([lines[i].split(b":")[0] for i in at],
                   [b"Authorization", b"X-Scope-OrgID", b"X-Empty"], "in the config's order")
            lib.eq(len(r.header("Idempotency-Key")), 1, "anontel's own headers stay")
            lib.eq(r.header("Content-Type"), ["application/json"], "content type")


def test_date_on_every_request(tmp):
    with runs.Server() as s:
        cfg = lib.write_config(tmp, {"endpoint": s.url("/t")})
        lib.eq(_report(tmp, cfg).returncode, 0, "report")
        p, _ = runs.run(["check", s.url("/health")], lib.base_env())
        lib.eq(p.returncode, 0, f"check ({runs.describe(p)})")
        lib.eq([r.method for r in s.requests], ["POST", "GET"], "a report and a probe")
        for r in s.requests:
            dates = r.header("Date")
            lib.eq(len(dates), 1, f"{r.method}: one Date")
            t = email.utils.parsedate_to_datetime(dates[0])
            lib.eq(email.utils.format_datetime(t, usegmt=True), dates[0],
                   f"{r.method}: an IMF-fixdate: {dates[0]!r}")
            lib.check(abs(t.timestamp() - time.time()) < 60, f"{r.method}: now: {dates[0]}")


def test_headers_file_replaces_the_configs(tmp):
    with runs.Server() as s:
        hf = lib.write_config(tmp, {"Authorization": "Bearer from-file"}, name="h.json")
        cfg = lib.write_config(tmp, {"endpoint": s.url("/t"), "headers": {
            "Authorization": TOKEN, "X-Cfg": "1"}})
        e = runs.env(os.path.join(tmp, "state"), ANONTEL_HEADERS_FILE=hf)
        p = _report(tmp, cfg, e)
        lib.eq(p.returncode, 0, f"report ({runs.describe(p)})")
        r = s.posts[0]
        lib.eq(r.header("Authorization"), ["Bearer from-file"], "the file's value")
        lib.eq(r.header("X-Cfg"), [], "the config's headers are replaced, not merged")
        # Without a config file at all.
        e = runs.env(os.path.join(tmp, "state"), s.url("/t"), ANONTEL_HEADERS_FILE=hf)
        p, _ = runs.run(["report", "--force"], e)
        lib.eq(p.returncode, 0, f"report without a config file ({runs.describe(p)})")
        lib.eq(s.posts[1].header("Authorization"), ["Bearer from-file"], "from the file alone")


def test_not_sent_to_another_origin(tmp):
    """A redirect to another port gets the message and anontel's headers, not the
    configured ones (as curl drops Authorization); the same origin gets them."""
    with runs.Server() as other, runs.Server() as s:
        def route(r):
            if r.target == "/same":
                return runs.Reply(307, [("Location", "/t")], body=b"")
            if r.target == "/port":
                return runs.Reply(308, [("Location", other.url("/y"))], body=b"")
            return runs.Reply(200)
        s.route = route
        for start, where, path in (("/same", s, "/t"), ("/port", other, "/y")):
            cfg = lib.write_config(tmp, {"endpoint": s.url(start),
                                         "headers": {"Authorization": TOKEN}}, name="c.json")
            p = _report(tmp, cfg, args=["-v"])
            lib.eq(p.returncode, 0, f"{start}: delivered ({runs.describe(p)})")
            first = [r for r in s.posts if r.target == start][-1]
            r = where.posts[-1]
            lib.eq(r.target, path, f"{start}: followed")
            lib.eq(first.header("Authorization"), [TOKEN], f"{start}: the endpoint got it")
            lib.eq(r.header("Idempotency-Key"), first.header("Idempotency-Key"),
                   f"{start}: anontel's headers follow")
            lib.eq(r.body, first.body, f"{start}: the same message")
            if where is s:
                lib.eq(r.header("Authorization"), [TOKEN], f"{start}: same origin: sent")
            else:
                lib.eq(r.header("Authorization"), [], f"{start}: another origin: not sent")
                lib.check(b"not sending the configured headers to another origin" in p.stderr,
                          f"-v says so: {p.stderr!r}")
            lib.check(TOKEN.encode() not in p.stderr, "-v shows no value")


def test_not_sent_to_another_host(tmp):
    with peers.TLSServer(tls=False, host="127.0.0.2") as other, runs.Server() as s:
        s.route = lambda r: runs.Reply(302, [("Location", other.url("/x", host="127.0.0.2"))],
                                       body=b"")
        cfg = lib.write_config(tmp, {"endpoint": s.url("/t"), "headers": {"X-Token": "t0k"}})
        p = _report(tmp, cfg)
        lib.eq(p.returncode, 0, f"delivered through the redirect ({runs.describe(p)})")
        lib.eq(s.posts[0].header("X-Token"), ["t0k"], "the endpoint got it")
        lib.eq(len(other.requests), 1, "the other host got the message")
        lib.eq(other.requests[0].header("X-Token"), [], "but not the header")


def test_the_probe_does_not_get_them(tmp):
    """They are the telemetry endpoint's: check's GET carries only its own -H."""
    with runs.Server() as s:
        cfg = lib.write_config(tmp, {"endpoint": s.url("/t"), "headers": {"X-Token": "t0k"}})
        p, _ = runs.run(["check", s.url("/health"), "--report", "-c", cfg],
                        runs.env(os.path.join(tmp, "state")))
        lib.eq(p.returncode, 0, f"healthy ({runs.describe(p)})")
        deadline = time.time() + 10
        while len(s.posts) < 1 and time.time() < deadline:
            time.sleep(0.05)
        lib.eq(s.gets[0].header("X-Token"), [], "the probe: no config header")
        lib.eq(s.posts[0].header("X-Token"), ["t0k"], "the report (detached child): sent")


BAD = [
    ("reserved", {"Host": "x"}, "the Host header is anontel's to write"),
    ("reserved-case", {"transfer-encoding": "chunked"}, "Transfer-Encoding header"),
    ("crlf", {"X-A": "a\r\nX-Injected: b"}, "headers.X-A: expected a header name"),
    ("name", {"X A": "b"}, "headers.X A: expected a header name"),
    ("colon", {"X:A": "b"}, "headers.X:A: expected a header name"),
    ("dup", {"X-A": "1", "x-a": "2"}, "headers.x-a: duplicate header"),
    ("type", {"X-A": True}, "headers.X-A: expected a string"),
]


def _bad(tmp, name, headers, words):
    with runs.Server() as s:
        cfg = lib.write_config(tmp, {"endpoint": s.url("/t"), "headers": headers})
        for verb in (["report", "--force"], ["show"], ["status"]):
            p, _ = runs.run(verb + ["-c", cfg], runs.env(os.path.join(tmp, "state")))
            line = peers.expect_failure(p, 2, words, f"{name}: {verb[0]}")
            lib.check(cfg in line, f"{name}: names the file: {line!r}")
            lib.check("X-Injected" not in line, f"{name}: the value is not shown: {line!r}")
        p, _ = runs.run(["check", s.url("/health"), "-c", cfg], lib.base_env())
        lib.eq(p.returncode, 1, f"{name}: check never exits 2 ({runs.describe(p)})")
        lib.eq(s.requests, [], f"{name}: nothing sent")


lib.table_tests(globals(), "test_refused_", BAD, _bad)


def test_headers_file_errors(tmp):
    rows = [("{\"A\": 1,}", ":1:8: trailing comma"), ("[]", ": expected an object"),
            ("{\"Upgrade\": \"h2c\"}", ": Upgrade: the Upgrade header is anontel's to write"),
            ("{\"X\": \"a\\u0000\"}", ": X: contains a NUL character")]
    for text, want in rows:
        hf = lib.write_config(tmp, text, name="h.json")
        p, _ = runs.run(["show"], lib.base_env(ANONTEL_HEADERS_FILE=hf))
        line = peers.expect_failure(p, 2, want, f"headers file {text!r}")
        lib.check(line.startswith(f"anontel: {hf}{want}"), f"file and where: {line!r}")
    p, _ = runs.run(["show"], lib.base_env(ANONTEL_HEADERS_FILE=os.path.join(tmp, "none")))
    peers.expect_failure(p, 2, "cannot open", "missing headers file")
    p, _ = runs.run(["show"], lib.base_env(ANONTEL_HEADERS_FILE=tmp))
    peers.expect_failure(p, 2, "not a regular file", "a directory")
