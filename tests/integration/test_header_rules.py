"""`check URL -H 'Name: value'` rules (SPEC §11 "TLS and HTTP"): names are RFC 9110
tokens, values have no control bytes (HTAB allowed); the headers anontel writes itself
(Host, User-Agent, Date, Content-Type, Content-Length, Connection) or that would change
the request's framing (Transfer-Encoding, Upgrade, TE, Trailer), in any case, are
refused with one line naming the header, so none is ever sent twice; a refused -H sends
nothing; an accepted one reaches the server verbatim.

And proxy userinfo is percent-decoded before Basic auth (Debian's tinyproxy checks it);
a user name holding ':' (which Basic auth cannot carry) is refused with a clear line.
Servers are on 127.0.0.1 only."""
import base64
import re

import lib
import peers
import runs

FRAMING = ["Host: example.com", "host: x", "HOST: x", "Content-Length: 0",
           "content-length: 5", "Transfer-Encoding: chunked", "transfer-encoding: identity",
           "Connection: keep-alive", "CONNECTION: close", "Upgrade: websocket",
           "upgrade: h2c", "TE: trailers", "te: trailers", "tE: gzip", "Trailer: X-Sum",
           "TRAILER: X-Sum", "Host:", "User-Agent: x", "user-agent: curl/8",
           "Date: Tue, 01 Dec 2026 00:00:00 GMT", "DATE: x", "Content-Type: text/plain"]

VALID = ["X-Token: abc", "Authorization: Bearer x", "Accept: */*", "X-Tab: a\tb",
         "X-Tabs: \tlead and inner\ttab", "X-Odd!#$%&'*+.^_`|~: v", "x-lower: MiXeD 1/2;q=0",
         "X-Quote: \"quoted, value\"", "X-Utf8: caf\u00e9"]

BAD_NAMES = ["Bad Name: x", ":x", ": x", "X(: y", "X): y", "", "NoColon", "X-A : b",
             " X-A: b", "X@: y", "X/Y: z", "X[1]: z", '"q": z', "X,Y: z", "X=Y: z",
             "X{Y}: z", "X\\Y: z", "X?: z", "caf\u00e9: x", "X\tA: b"]

# Raw control bytes in values (NUL cannot be passed in argv).
BAD_VALUES = ["X-A: a\x01b", "X-A: a\x7fb", "X-A: \x1b[31mred", "X-A: a\x0bb",
              "X-A: a\x0cb", "X-A: a\x1fb", "X-A: bell\x07", "X-A: a\rb", "X-A: a\nb",
              "X-A: a\r\nX-B: b"]

CONTROL = re.compile(rb"[\x00-\x09\x0b-\x1f\x7f]")


def _check(url, header):
    p, _ = runs.run(["check", url, "-H", header], lib.base_env(), timeout=20)
    return p


def _one_line(p, what):
    lib.eq(p.returncode, 1, f"{what}: exit status ({runs.describe(p)})")
    lines = runs.stderr_lines(p)
    lib.eq(len(lines), 1, f"{what}: one line on stderr ({runs.describe(p)})")
    lib.check(lines[0].startswith("anontel: ") and len(lines[0]) > 12,
              f"{what}: a clear line: {lines[0]!r}")
    lib.check(not CONTROL.search(p.stderr), f"{what}: no raw control byte on stderr: {p.stderr!r}")
    lib.eq(p.stdout, b"", f"{what}: nothing on stdout")
    return lines[0]


def _names(line, name):
    """True if line holds `name` as a word (any case): 'TE' must not match 'anontel'."""
    return re.search(r"(?<![A-Za-z0-9-])" + re.escape(name) + r"(?![A-Za-z0-9-])", line,
                     re.I) is not None


def test_valid_headers_reach_the_server_verbatim(tmp):
    with runs.Server() as s:
        for h in VALID:
            before = len(s.requests)
            p = _check(s.url("/health"), h)
            lib.eq(p.returncode, 0, f"-H {h!r}: healthy ({runs.describe(p)})")
            lib.eq(p.stderr, b"", f"-H {h!r}: nothing on stderr")
            lib.eq(len(s.requests), before + 1, f"-H {h!r}: one request")
            lines = s.requests[-1].head.split(b"\r\n")[1:]
            lib.check(h.encode() in lines,
                      f"-H {h!r}: the header line arrives verbatim: {lines!r}")
            name = h.split(":", 1)[0].encode().lower()
            same = [ln for ln in lines if ln.split(b":", 1)[0].lower() == name]
            lib.eq(len(same), 1, f"-H {h!r}: sent once: {lines!r}")


def test_several_valid_headers_in_order(tmp):
    with runs.Server() as s:
        args = ["check", s.url("/health")]
        for h in VALID[:4]:
            args += ["-H", h]
        p, _ = runs.run(args, lib.base_env())
        lib.eq(p.returncode, 0, f"four -H: healthy ({runs.describe(p)})")
        lines = s.requests[0].head.split(b"\r\n")[1:]
        at = [lines.index(h.encode()) for h in VALID[:4] if h.encode() in lines]
        lib.eq(len(at), 4, f"every -H arrives: {lines!r}")
        lib.eq(at, sorted(at), f"in the order given: {lines!r}")


def test_framing_headers_are_refused_naming_the_header(tmp):
    with runs.Server() as s:
        for h in FRAMING:
            p = _check(s.url("/health"), h)
            line = _one_line(p, f"-H {h!r}")
            name = h.split(":", 1)[0]
            lib.check(_names(line, name), f"-H {h!r}: the line names {name!r}: {line!r}")
        lib.eq(len(s.requests), 0, f"a refused -H sends nothing: {s.requests!r}")


def test_framing_header_refused_among_valid_ones(tmp):
    with runs.Server() as s:
        p, _ = runs.run(["check", s.url("/health"), "-H", "X-Token: abc", "-H",
                         "Transfer-Encoding: chunked", "-H", "Accept: */*"], lib.base_env())
        line = _one_line(p, "a framing header second of three")
        lib.check(_names(line, "Transfer-Encoding"), f"the line names it: {line!r}")
        lib.eq(len(s.requests), 0, "nothing sent")


def test_invalid_names_are_refused(tmp):
    with runs.Server() as s:
        for h in BAD_NAMES:
            _one_line(_check(s.url("/health"), h), f"-H {h!r}")
        lib.eq(len(s.requests), 0, f"an invalid name sends nothing: {s.requests!r}")


def test_control_bytes_in_values_are_refused_and_not_echoed(tmp):
    with runs.Server() as s:
        for h in BAD_VALUES:
            p = _check(s.url("/health"), h)
            _one_line(p, f"-H {h!r}")   # also: no raw control byte on stderr
        lib.eq(len(s.requests), 0, f"a control byte sends nothing: {s.requests!r}")


def test_header_rules_hold_without_a_server(tmp):
    # Refused before any connection: the verdict does not depend on the peer.
    url = runs.dead_url("/health")
    for h in ["Host: x", "Bad Name: x", "X-A: \x1bx"]:
        line = _one_line(_check(url, h), f"-H {h!r} to a dead port")
        lib.check(url.split("/")[2] not in line,
                  f"-H {h!r}: the header is the reason, not the dead port: {line!r}")


# ---- proxy userinfo -------------------------------------------------------------------

# tinyproxy 1.11's BasicAuth takes [-a-z0-9._] only, so the percent-encoded characters
# are ones it can hold ('.', '-', '_'): encoding them is legal (RFC 3986 §2.3) and the
# decoded text is what must be sent. '@' and ':' are covered with a scripted proxy.
PX_USER, PX_PASS = "us_er", "p.ss-1"
PX_USER_ENC, PX_PASS_ENC = "us%5Fer", "p%2Ess%2d1"


def test_proxy_userinfo_percent_decoded_tinyproxy(tmp):
    with peers.TLSServer() as s, peers.Tinyproxy(tmp, auth=(PX_USER, PX_PASS)) as px:
        env = peers.new_env(tmp, https_proxy=px.url(PX_USER_ENC, PX_PASS_ENC))
        p, _ = peers.report(tmp, peers.tls_config(tmp, s), env=env)
        peers.expect_delivered(p, s, f"https_proxy with {PX_USER_ENC}:{PX_PASS_ENC}")
        connects = [r for r in px.requests() if r == f"CONNECT localhost:{s.port} HTTP/1.1"]
        lib.eq(len(connects), 1, f"tinyproxy logged the CONNECT: {px.requests()}")
        lib.check(PX_PASS.encode() not in p.stdout + p.stderr, "the password is not shown")


def test_proxy_password_with_at_sign(tmp):
    # p%40ss is the password p@ss: Basic auth carries the decoded bytes.
    reply = (b"HTTP/1.1 407 Proxy Authentication Required\r\n"
             b"Proxy-Authenticate: Basic realm=\"t\"\r\nContent-Length: 0\r\n\r\n")
    with peers.TLSServer(tls=False, reply=reply) as px:
        env = peers.new_env(tmp, https_proxy=f"http://user:p%40ss@127.0.0.1:{px.port}")
        p, _ = peers.report(tmp, peers.tls_config(tmp, endpoint="https://localhost:4433/c"),
                            env=env)
        lib.eq(p.returncode, 1, f"407 ({runs.describe(p)})")
        lib.eq([r.header("proxy-authorization") for r in px.requests],
               [["Basic " + base64.b64encode(b"user:p@ss").decode()]], "Proxy-Authorization")


def test_proxy_user_name_with_colon_is_refused(tmp):
    with peers.TLSServer() as s, peers.Tinyproxy(tmp, auth=("user", "pw")) as px:
        for user in ("user%3Aname", "user%3aname", "%3A"):
            env = peers.new_env(tmp, https_proxy=px.url(user, "Secr3tPw"))
            p, _ = peers.report(tmp, peers.tls_config(tmp, s), env=env)
            what = f"proxy user {user!r}"
            line = peers.expect_failure(p, 1, ["':'", '":"', "colon", "user"], what)
            lib.check("too long" not in line.lower(), f"{what}: not 'too long': {line!r}")
            lib.check(b"Secr3tPw" not in p.stdout + p.stderr, f"{what}: password not shown")
        lib.eq(s.requests, [], "nothing reached the server")
        lib.eq(px.requests(), [], "no CONNECT with a user name Basic auth cannot carry")
