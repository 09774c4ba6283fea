"""`status` (SPEC §11 Containers): the trust source in force (built-in roots, tls.caFile,
SSL_CERT_FILE over a config's tls.caFile, tls.pin), in text (`trust: ...`) and in --json
("trust", the same text); the last error "no ID source: ..." after a report on a machine
with no ID source (/etc/machine-id hidden by /dev/null in a private mount namespace);
no "next due" while telemetry is off, one while it is on."""
import base64
import hashlib
import os

import lib
import peers
import runs
import test_status

HTTPS_ENDPOINT = "https://localhost:9/t"     # status makes no connection


def _both(e, what):
    """(text lines as {name: value}, --json object), both exit 0."""
    t = test_status._text(e, keys=[])
    js = runs.status_json(e, f"{what}: status --json")
    return t, js


def _trust(e, what):
    t, js = _both(e, what)
    lib.check("trust" in t, f"{what}: status has a 'trust:' line: {t}")
    lib.check("trust" in js, f"{what}: status --json has \"trust\": {js}")
    lib.eq(js["trust"], t["trust"], f"{what}: --json trust is the text's")
    return t["trust"]


def test_trust_builtin_by_default(tmp):
    e = runs.env(os.path.join(tmp, "state"), HTTPS_ENDPOINT)
    v = _trust(e, "defaults")
    lib.check(v.startswith("built-in roots"), f"trust: built-in roots...: {v!r}")


def test_trust_ca_file(tmp):
    root = peers.certs().root
    cfg = lib.write_config(tmp, {"tls": {"caFile": root}})
    e = runs.env(os.path.join(tmp, "state"), HTTPS_ENDPOINT, ANONTEL_CONFIG=cfg)
    lib.eq(_trust(e, "tls.caFile"), f"tls.caFile {root}", "trust names the config's CA file")


def test_trust_ssl_cert_file(tmp):
    c = peers.certs()
    e = runs.env(os.path.join(tmp, "state"), HTTPS_ENDPOINT, SSL_CERT_FILE=c.other_root)
    lib.eq(_trust(e, "SSL_CERT_FILE"), f"SSL_CERT_FILE {c.other_root}",
           "trust names SSL_CERT_FILE")
    cfg = lib.write_config(tmp, {"tls": {"caFile": c.root}})
    e = runs.env(os.path.join(tmp, "state"), HTTPS_ENDPOINT, ANONTEL_CONFIG=cfg,
                 SSL_CERT_FILE=c.other_root)
    lib.eq(_trust(e, "SSL_CERT_FILE over tls.caFile"), f"SSL_CERT_FILE {c.other_root}",
           "the environment overrides the config's tls.caFile")


def test_trust_pin(tmp):
    pin = "sha256//" + base64.b64encode(hashlib.sha256(b"a key").digest()).decode()
    cfg = lib.write_config(tmp, {"tls": {"pin": pin}})
    e = runs.env(os.path.join(tmp, "state"), HTTPS_ENDPOINT, ANONTEL_CONFIG=cfg)
    v = _trust(e, "tls.pin")
    lib.check(v.startswith("tls.pin"), f"trust: tls.pin...: {v!r}")


def test_last_error_no_id_source(tmp):
    state = os.path.join(tmp, "state")
    cfg = lib.write_config(tmp, {"id": {"scheme": "machine-id"}})
    hide = {"/etc/machine-id": "/dev/null"}
    with runs.Server() as s:
        e = runs.env(state, s.url(), ANONTEL_CONFIG=cfg)
        p, _ = peers.run_in_mountns(["report", "--force"], e, hide)
        lib.eq(p.returncode, 1, f"report with no ID source ({runs.describe(p)})")
        lib.eq(len(s.posts), 0, "nothing sent without an ID")
        for where, run in (("in the namespace", lambda a: peers.run_in_mountns(a, e, hide)[0]),
                           ("outside", lambda a: runs.run(a, e)[0])):
            p = run(["status"])
            lib.eq(p.returncode, 0, f"status {where} ({runs.describe(p)})")
            lines = [ln for ln in p.stdout.decode().splitlines() if ln.startswith("last error: ")]
            lib.eq(len(lines), 1, f"status {where}: one 'last error:' line: {p.stdout!r}")
            lib.check(lines[0].startswith("last error: no ID source: "),
                      f"status {where}: {lines[0]!r}")
            p = run(["status", "--json"])
            lib.eq(p.returncode, 0, f"status --json {where} ({runs.describe(p)})")
            js = lib.strict_json(p.stdout)
            lib.eq(js.get("lastError"), lines[0][len("last error: "):],
                   f"status --json {where}: lastError is the text's")


def _next_due(e, what):
    t, js = _both(e, what)
    return t, "next due" in t, "nextDue" in js


def test_no_next_due_while_off(tmp):
    state = os.path.join(tmp, "state")
    off_cfg = lib.write_config(tmp, {"enabled": False}, "off.json")
    with runs.Server() as s:
        for stage in ("fresh", "after a delivery"):
            t, text, js = _next_due(runs.env(state, s.url()), f"on, {stage}")
            lib.eq(t.get("telemetry"), "on", f"{stage}: on")
            lib.eq((text, js), (True, True), f"on, {stage}: 'next due' line, \"nextDue\" key")
            for what, extra in (("DO_NOT_TRACK=1", {"DO_NOT_TRACK": "1"}),
                                ("ANONTEL_DISABLED=1", {"ANONTEL_DISABLED": "1"}),
                                ("enabled: false", {"ANONTEL_CONFIG": off_cfg})):
                t, text, js = _next_due(runs.env(state, s.url(), **extra), f"{what}, {stage}")
                lib.eq(t.get("telemetry"), "off", f"{what}, {stage}: off")
                lib.eq((text, js), (False, False),
                       f"off by {what}, {stage}: 'next due' line, \"nextDue\" key")
            if stage == "fresh":
                p, _ = runs.run(["report"], runs.env(state, s.url()))
                lib.eq(p.returncode, 0, f"report ({runs.describe(p)})")
                lib.eq(len(s.posts), 1, "delivered")
