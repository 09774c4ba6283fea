"""`anontel notice` (SPEC §11 "Trust"): the notice on stdout for a container's
entrypoint: what is sent, where, `anontel show`, how to opt out; the ID described as
the scheme in use really makes it (a fixed ID is not "hashed"; auto says what it
chose). The first-delivery notice of report is the same text. notice writes
nothing, and when telemetry is off says so."""
import os
import re

import lib
import runs

URL = "https://telemetry.example.com/collect"
COMMON = ("anonymous usage telemetry (versions, OS, CPU architecture, VM or not, enabled "
          "features, ")
TAIL = "; `anontel show` prints it; DO_NOT_TRACK=1 turns it off."
WORDS = {
    "butler": "an instance ID that is an HMAC-SHA256 of this machine's MAC and IPv4 "
              "addresses and hardware UUID (those values are not sent)",
    "machine-id": "an instance ID derived from the machine ID by HMAC-SHA256 (the machine "
                  "ID is not sent)",
    "random": "a random instance ID made once and kept in the state directory",
    "fixed": "the instance ID set in ANONTEL_ID, as it is given",
    "none": "no instance ID, only how many weeks ago this installation first reported "
            "(0, 1, 2-4, 5-24 or 25+)",
}


def _notice(tmp, scheme, env_extra=None, more=None):
    state = os.path.join(tmp, f"state-{scheme}")
    cfg = lib.write_config(tmp, dict({"endpoint": URL, "id": {"scheme": scheme}}, **(more or {})),
                           name=f"{scheme}.json")
    e = lib.base_env(ANONTEL_STATE_DIR=state, **(env_extra or {}))
    p = lib.run(["notice", "-c", cfg], env=e)
    lib.eq(p.returncode, 0, f"{scheme}: exit ({runs.describe(p)})")
    lib.eq(p.stderr, b"", f"{scheme}: nothing on stderr")
    lib.check(not os.path.exists(state), f"{scheme}: notice made no state dir")
    text = p.stdout.decode()
    lib.check(text.endswith("\n") and text.count("\n") == 1, f"{scheme}: one line: {text!r}")
    return text[:-1]


def test_notice_is_true_to_each_scheme(tmp):
    for scheme in ("random", "fixed", "none", "butler"):
        text = _notice(tmp, scheme, {"ANONTEL_ID": "instance-0123456789"})
        if scheme == "butler" and "machine ID" in text:
            want = WORDS["machine-id"]     # Butler's fallback on a machine without a MAC
        else:
            want = WORDS[scheme]
        lib.eq(text, f"anontel sends {COMMON}{want}) to {URL}{TAIL}", f"{scheme}: the notice")
    lib.check("hash" not in WORDS["fixed"].lower() and "HMAC" not in WORDS["fixed"],
              "a fixed ID is not said to be hashed")


def test_notice_for_auto_says_what_it_chose(tmp):
    state = os.path.join(tmp, "state")
    cfg = lib.write_config(tmp, {"endpoint": URL}, name="auto.json")
    e = lib.base_env(ANONTEL_STATE_DIR=state)
    p = lib.run(["id", "--explain", "-c", cfg], env=e)
    chose = re.search(rb"^scheme: (\S+)$", p.stdout, re.M).group(1).decode()
    p = lib.run(["notice", "-c", cfg], env=e)
    lib.eq(p.returncode, 0, "notice")
    lib.check(WORDS[chose] in p.stdout.decode(), f"auto chose {chose}: {p.stdout!r}")


def test_report_first_delivery_notice_is_the_same_text(tmp):
    state = os.path.join(tmp, "state")
    cfg = lib.write_config(tmp, {"id": {"scheme": "random"}}, name="r.json")
    with runs.Server() as s:
        e = runs.env(state, s.url())
        p = lib.run(["notice", "-c", cfg], env=e)
        notice = p.stdout.decode().rstrip("\n")
        p, _ = runs.run(["report", "-c", cfg], e)
        lib.eq(p.returncode, 0, f"delivered ({runs.describe(p)})")
    lines = runs.stderr_lines(p)
    lib.eq(len(lines), 1, f"one notice line: {lines}")
    lib.eq(lines[0], "anontel: sent" + notice[len("anontel sends"):] + " This notice is shown once.",
           "report's notice is notice's text, in the past tense")


def test_notice_when_off_or_without_an_endpoint(tmp):
    for name, extra in (("DO_NOT_TRACK", {"DO_NOT_TRACK": "1"}),
                        ("ANONTEL_DISABLED", {"ANONTEL_DISABLED": "1"})):
        p = lib.run(["notice"], env=lib.base_env(**extra))
        lib.eq((p.returncode, p.stderr), (0, b""), f"{name}: exit 0, nothing on stderr")
        lib.eq(p.stdout.decode(), f"anontel sends no telemetry: it is off ({name} is set)\n",
               f"{name}: says it is off and why")
    cfg = lib.write_config(tmp, {"enabled": False, "endpoint": URL}, name="off.json")
    p = lib.run(["notice", "-c", cfg], env=lib.base_env())
    lib.check(p.stdout.startswith(b"anontel sends no telemetry: it is off ("), f"{p.stdout!r}")
    p = lib.run(["notice"], env=lib.base_env())
    lib.eq(p.stdout, b"anontel sends no telemetry: no endpoint is configured\n", "no endpoint")
    p = lib.run(["notice", "--endpoint", "http://example.com/x"], env=lib.base_env())
    lib.check(p.stdout.startswith(b"anontel sends no telemetry: the endpoint is invalid"),
              f"invalid endpoint: {p.stdout!r}")
    bad = lib.write_config(tmp, "{ nope", name="bad.json")
    p = lib.run(["notice", "-c", bad], env=lib.base_env())
    lib.eq(p.returncode, 2, "a config error is exit 2")


def test_notice_hides_the_endpoints_userinfo(tmp):
    cfg = lib.write_config(tmp, {"endpoint": "https://user:secret-pass@telemetry.example.com/c",
                                 "id": {"scheme": "random"}}, name="u.json")
    p = lib.run(["notice", "-c", cfg], env=lib.base_env(ANONTEL_STATE_DIR=os.path.join(tmp, "s")))
    lib.eq(p.returncode, 0, "notice")
    lib.check(b"secret-pass" not in p.stdout and b"user" not in p.stdout.split(b" to ")[-1],
              f"no userinfo: {p.stdout!r}")
    lib.check(b"https://telemetry.example.com/c" in p.stdout, f"the endpoint: {p.stdout!r}")
