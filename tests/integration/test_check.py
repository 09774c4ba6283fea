"""`anontel check URL` (SPEC §1): a HEALTHCHECK probe. Exit 0 healthy, 1 for every
failure (never 2: Docker reserves it); --report rides along within the same deadline
and never changes the verdict. Servers are on 127.0.0.1 only."""
import os
import shlex
import shutil
import subprocess
import time

import lib
import peers
import runs


def _status_route(r):
    """/s/NNN answers NNN (no body for 204 and 3xx); /health 200; anything else 404."""
    if r.target.startswith("/s/"):
        code = int(r.target[3:])
        return runs.Reply(code, body=b"" if code == 204 or 300 <= code < 400 else b"x")
    if r.target == "/health":
        return runs.Reply(200)
    if r.target == "/t":
        return runs.Reply(200)
    return runs.Reply(404)


def _check(args, env_=None, timeout=20):
    return runs.run(["check"] + list(args), env_ or lib.base_env(), timeout=timeout)


def _one_line(p, what):
    lines = runs.stderr_lines(p)
    lib.eq(len(lines), 1, f"{what}: one line on stderr ({runs.describe(p)})")
    lib.check(lines[0].startswith("anontel: ") and len(lines[0]) > 12,
              f"{what}: a clear line: {lines[0]!r}")
    return lines[0]


def test_status_codes(tmp):
    with runs.Server(_status_route) as s:
        p, _ = _check([s.url("/s/200")])
        lib.eq(p.returncode, 0, f"200 is healthy ({runs.describe(p)})")
        lib.eq((p.stdout, p.stderr), (b"", b""), "a healthy check prints nothing")
        p, _ = _check([s.url("/s/500")])
        lib.eq(p.returncode, 1, f"500 is unhealthy ({runs.describe(p)})")
        lib.check("500" in _one_line(p, "500"), "the line names the status")
        p, _ = _check([s.url("/s/404")])
        lib.eq(p.returncode, 1, "404 is unhealthy")
        p, _ = _check([s.url("/s/204")])
        lib.eq(p.returncode, 0, "204 is healthy (2xx by default)")
        lib.eq([r.method for r in s.requests], ["GET"] * 4, "check sends GET")


def test_connection_refused(tmp):
    p, took = _check([runs.dead_url("/health")])
    lib.eq(p.returncode, 1, f"refused ({runs.describe(p)})")
    _one_line(p, "refused")
    lib.check(took < 2, f"refused fails fast: {took:.2f}s")


def test_server_never_answers_within_timeout(tmp):
    with runs.Server(lambda r: runs.Reply(never=True)) as s:
        p, took = _check(["--timeout", "1s", s.url("/health")])
        lib.eq(p.returncode, 1, f"no answer is unhealthy ({runs.describe(p)})")
        _one_line(p, "no answer")
        lib.check(0.9 <= took < 1.1, f"gives up at the deadline: {took:.3f}s (--timeout 1s)")
    with peers.RawServer("silent") as r:
        p, took = _check([f"http://127.0.0.1:{r.port}/health", "--timeout", "1s"])
        lib.eq(p.returncode, 1, f"a silent socket is unhealthy ({runs.describe(p)})")
        lib.check(took < 1.1, f"within --timeout 1s + 10%: {took:.3f}s")


def test_malformed_urls(tmp):
    for url in ("http//127.0.0.1/health", "not a url", "ftp://127.0.0.1/x", "http://",
                "http://127.0.0.1:99999/", "http://[::1/x", "", "https://"):
        p, _ = _check([url])
        lib.eq(p.returncode, 1, f"malformed URL {url!r}: exit 1, never 2 ({runs.describe(p)})")
        _one_line(p, f"malformed URL {url!r}")


def test_self_signed_needs_k(tmp):
    with peers.TLSServer(peers.certs().selfsigned, reply=peers.OK_REPLY) as s:
        url = s.url("/health")
        p, _ = _check([url])
        lib.eq(p.returncode, 1, f"self-signed without -k ({runs.describe(p)})")
        _one_line(p, "self-signed")
        p, _ = _check(["-k", url])
        lib.eq(p.returncode, 0, f"self-signed with -k ({runs.describe(p)})")
        p, _ = _check([url, "--insecure"])
        lib.eq(p.returncode, 0, f"--insecure ({runs.describe(p)})")
        lib.eq(len(s.requests), 2, "only the -k runs got as far as a request")


def test_verified_https_is_healthy(tmp):
    with peers.TLSServer(reply=peers.OK_REPLY) as s:
        p, _ = _check([s.url("/health")], lib.base_env(SSL_CERT_FILE=peers.certs().root))
        lib.eq(p.returncode, 0, f"https with a trusted CA ({runs.describe(p)})")


def test_expect(tmp):
    cases = [("500", 500, 0), ("500", 200, 1),
             ("200,204,300-399", 200, 0), ("200,204,300-399", 204, 0),
             ("200,204,300-399", 300, 0), ("200,204,300-399", 302, 0),
             ("200,204,300-399", 399, 0), ("200,204,300-399", 201, 1),
             ("200,204,300-399", 400, 1), ("200,204,300-399", 500, 1),
             ("404", 404, 0), ("200-299", 299, 0), ("200-299", 300, 1)]
    with runs.Server(_status_route) as s:
        for expect, code, want in cases:
            p, _ = _check([s.url(f"/s/{code}"), "--expect", expect])
            lib.eq(p.returncode, want, f"--expect {expect}, HTTP {code} ({runs.describe(p)})")
            if want:
                _one_line(p, f"--expect {expect}, HTTP {code}")
        p, _ = _check([f"--expect=500", s.url("/s/500")])
        lib.eq(p.returncode, 0, "--expect=500 form")


def test_bad_expect_is_1(tmp):
    with runs.Server(_status_route) as s:
        for bad in ("x", "99", "200-", "200,,204", "1000", "300-200", "", "2xx", "200 "):
            p, _ = _check([s.url("/s/200"), "--expect", bad])
            lib.eq(p.returncode, 1, f"--expect {bad!r}: 1, not 2 ({runs.describe(p)})")
            _one_line(p, f"--expect {bad!r}")
        lib.eq(len(s.requests), 0, "a bad --expect sends nothing")


def test_headers_are_sent(tmp):
    with runs.Server(_status_route) as s:
        p, _ = _check([s.url("/health"), "-H", "X-Probe: yes", "--header", "X-Other: a b"])
        lib.eq(p.returncode, 0, f"-H ({runs.describe(p)})")
        r = s.requests[0]
        lib.eq(r.header("X-Probe"), ["yes"], "the server sees -H")
        lib.eq(r.header("X-Other"), ["a b"], "the server sees --header")
        for bad in ("NoColon", ": value", "X-A: b\r\nX-B: c", "X A: b", "X-A: b\nX-B: c"):
            p, _ = _check([s.url("/health"), "-H", bad])
            lib.eq(p.returncode, 1, f"bad -H {bad!r}: 1 ({runs.describe(p)})")
        lib.eq(len(s.requests), 1, "bad headers send nothing")


def test_bad_header_error_is_one_clean_line(tmp):
    # The refused value is echoed: its CR/LF must not break the line (log injection).
    for bad in ("NoColon", "X-A: b\r\nX-B: c", "X-A: b\nanontel: check: healthy"):
        p, _ = _check(["http://127.0.0.1:1/health", "-H", bad])
        lib.eq(p.returncode, 1, f"bad -H {bad!r}")
        _one_line(p, f"bad -H {bad!r}")
        lib.check(b"\r" not in p.stderr, f"no raw CR on stderr: {p.stderr!r}")


def test_usage_errors_are_1(tmp):
    with runs.Server(_status_route) as s:
        url = s.url("/health")
        bad = lib.write_config(tmp, "{ not json")
        for args in (["--bogus", url], [url, "-x"], [url, "--force"], [url, "--pretty"],
                     [], [url, url], [url, "--timeout", "soon"], [url, "--expect"],
                     [url, "-c", bad], [url, "-c", os.path.join(tmp, "missing.json")],
                     [url, "-v", "-q"], [url, "--report", "--report"]):
            p, _ = _check(args)
            lib.eq(p.returncode, 1, f"check {args}: 1, never 2 ({runs.describe(p)})")
            _one_line(p, f"check {args}")
        lib.eq(len(s.requests), 0, "usage errors send nothing")
        p, _ = runs.run(["--timeout", "soon", "check", url], lib.base_env())
        lib.eq(p.returncode, 1, f"a bad common option before the verb ({runs.describe(p)})")


# ---- --report

def test_report_after_healthy_probe(tmp):
    state = os.path.join(tmp, "state")
    with runs.Server(_status_route) as s:
        e = runs.env(state, s.url("/t"))
        p, _ = _check([s.url("/health"), "--report"], e)
        lib.eq(p.returncode, 0, f"healthy + report ({runs.describe(p)})")
        runs.wait_for(lambda: len(s.posts) == 1 and runs.idle(state), "the detached report")
        lib.eq([(r.method, r.target) for r in s.requests], [("GET", "/health"), ("POST", "/t")],
               "probe first, then telemetry")
        lib.strict_json(s.posts[0].body)
        p, _ = _check([s.url("/health"), "--report"], e)
        lib.eq(p.returncode, 0, f"second tick ({runs.describe(p)})")
        lib.eq(len(s.gets), 2, "probe again")
        lib.eq(len(s.posts), 1, "telemetry not due: not sent again")
        lib.eq(p.stderr, b"", "a not-due tick is silent")


def test_report_endpoint_down_still_healthy(tmp):
    state = os.path.join(tmp, "state")
    with runs.Server(_status_route) as s:
        p, _ = _check([s.url("/health"), "--report"], runs.env(state, runs.dead_url()))
        lib.eq(p.returncode, 0, f"telemetry down does not make it unhealthy ({runs.describe(p)})")
        runs.wait_for(lambda: runs.idle(state), "the detached report")
        lib.eq(len(runs.kept_names(state)), 1, "the message is kept for later")
        lib.check("connection refused" in runs.stamps(state)["last_error"],
                  f"the failure is recorded: {runs.stamps(state)}")


def test_report_bad_endpoint_still_healthy(tmp):
    state = os.path.join(tmp, "state")
    with runs.Server(_status_route) as s:
        for ep in ("ftp://127.0.0.1/t", "https://"):
            p, _ = _check([s.url("/health"), "--report"], runs.env(state, ep))
            lib.eq(p.returncode, 0, f"endpoint {ep!r}: still healthy ({runs.describe(p)})")
        lib.eq(len(s.posts), 0, "nothing sent")


def test_report_endpoint_with_space_still_healthy(tmp):
    # --report never changes the verdict: a telemetry endpoint refused at config load
    # (spaces) must not turn a healthy service unhealthy, as ftp:// does not.
    state = os.path.join(tmp, "state")
    with runs.Server(_status_route) as s:
        p, _ = _check([s.url("/health"), "--report"], runs.env(state, "not a url"))
        lib.eq(p.returncode, 0, f"endpoint 'not a url': still healthy ({runs.describe(p)})")
        lib.eq(len(s.gets), 1, "the probe is made")


def test_report_unhealthy_sends_nothing(tmp):
    state = os.path.join(tmp, "state")
    with runs.Server(_status_route) as s:
        p, _ = _check([s.url("/s/500"), "--report"], runs.env(state, s.url("/t")))
        lib.eq(p.returncode, 1, f"unhealthy ({runs.describe(p)})")
        lib.eq(len(s.posts), 0, "no telemetry after an unhealthy probe")
        lib.check(not os.path.exists(state), "no state written after an unhealthy probe")


def test_report_stays_within_timeout(tmp):
    state = os.path.join(tmp, "state")

    def route(r):
        return runs.Reply(never=True) if r.target == "/t" else _status_route(r)

    with runs.Server(route) as s:
        p, took = _check(["--timeout", "1s", s.url("/health"), "--report"],
                         runs.env(state, s.url("/t")))
        lib.eq(p.returncode, 0, f"healthy even when telemetry hangs ({runs.describe(p)})")
        lib.check(took < 0.5, f"the verdict does not wait for telemetry: {took:.3f}s")
        runs.wait_for(lambda: len(s.posts) == 1, "telemetry tried by the detached child")
        runs.wait_for(lambda: runs.idle(state), "the child's end within its own --timeout")
        lib.eq(len(runs.kept_names(state)), 1, "the message stays kept")
        lib.check(int(runs.stamps(state)["next_try_ms"]) > 0, "the back-off is armed")


def test_report_probe_uses_budget(tmp):
    # A slow probe leaves less for telemetry: the total still stays within the timeout.
    state = os.path.join(tmp, "state")

    def route(r):
        if r.target == "/health":
            return runs.Reply(200, delay=0.7)
        return runs.Reply(never=True)

    with runs.Server(route) as s:
        p, took = _check(["--timeout", "1s", s.url("/health"), "--report"],
                         runs.env(state, s.url("/t")))
        lib.eq(p.returncode, 0, f"healthy ({runs.describe(p)})")
        lib.check(took < 1.1, f"probe + telemetry within 1 s + 10%: {took:.3f}s")


# ---- the binary alone in an empty root, as FROM scratch

def _scratch_root(tmp):
    root = os.path.join(tmp, "root")
    os.mkdir(root)
    shutil.copy(lib.BIN, os.path.join(root, "anontel"))
    os.mkdir(os.path.join(root, "state"), 0o700)
    return root


def test_scratch_healthcheck_reports(tmp):
    # As Docker runs a FROM scratch image: the binary alone, plus the /proc and /sys a
    # container always has (mounted in a private mount namespace).
    root = _scratch_root(tmp)
    for d in ("proc", "sys"):
        os.mkdir(os.path.join(root, d))
    chroot = shutil.which("chroot") or "/usr/sbin/chroot"
    with runs.Server(_status_route) as s:
        q = shlex.quote(root)
        script = (f"mount -t proc proc {q}/proc\n"
                  f"mount --rbind -o ro /sys {q}/sys\n"
                  f"exec {chroot} {q} /anontel check {s.url('/health')} --report\n")
        env_ = {"ANONTEL_ENDPOINT": s.url("/t"), "ANONTEL_STATE_DIR": "/state"}
        p = runs.mountns_script(script, env_)
        lib.eq(p.returncode, 0, f"scratch check --report ({runs.describe(p)})")
        lib.eq(len(s.gets), 1, "the probe")
        runs.wait_for(lambda: len(s.posts) == 1, "one telemetry message")
        msg = lib.strict_json(s.posts[0].body)
        lib.eq(len(msg["data"]["system"]["id"]), 64, "a butler ID from /proc and /sys")
    lib.eq(sorted(os.listdir(root)), ["anontel", "proc", "state", "sys"], "nothing else written")
    lib.check("stamps" in os.listdir(os.path.join(root, "state")), "state kept in /state")


def test_scratch_bare_chroot(tmp):
    # The binary alone and nothing else (no /proc, no machine-id): there is no ID source,
    # so no telemetry can be built; the probe is still healthy and says why, once.
    root = _scratch_root(tmp)
    chroot = shutil.which("chroot") or "/usr/sbin/chroot"
    with runs.Server(_status_route) as s:
        env_ = {"ANONTEL_ENDPOINT": s.url("/t"), "ANONTEL_STATE_DIR": "/state"}
        p = subprocess.run([chroot, root, "/anontel", "check", s.url("/health"), "--report"],
                           env=env_, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
        lib.eq(p.returncode, 0, f"bare scratch check --report ({runs.describe(p)})")
        lib.eq(len(s.gets), 1, "the probe")
        # The report goes on in a detached child: it delivers (a random ID kept in
        # /state) or records why not, for status to show.
        state = os.path.join(root, "state")

        def finished():
            if len(s.posts) == 1:
                return True
            try:
                return runs.stamps(state).get("last_error", "").startswith("no ID source")
            except FileNotFoundError:
                return False
        runs.wait_for(finished, "a delivery or 'no ID source' recorded")
