"""json_string's output, checked by an independent strict parser (Python's json).

build/units/test_json emit-corpus prints one line per input:
    #corpus <hex of the input bytes>\t<json_string output>
Every output must parse strictly; valid UTF-8 must round-trip exactly; invalid
UTF-8 must come back with each byte of an invalid sequence as U+FFFD, and never
with a surrogate code point.
"""
import os
import subprocess

import lib

UNIT = os.path.join(lib.TOP, "build", "units", "test_json")


def _corpus():
    lib.check(os.path.exists(UNIT), f"{UNIT} is missing: run `make units` first")
    p = subprocess.run([UNIT, "emit-corpus"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, timeout=120)
    lib.eq(p.returncode, 0, "test_json emit-corpus exit status")
    lines = p.stdout.split(b"\n")
    lib.check(b"ok emit-corpus" in lines, "emit-corpus did not report ok")
    rows = []
    for line in lines:
        if not line.startswith(b"#corpus "):
            continue
        hexpart, sep, out = line[len(b"#corpus "):].partition(b"\t")
        lib.check(sep == b"\t", f"malformed corpus line {line[:80]!r}")
        rows.append((bytes.fromhex(hexpart.decode("ascii")), out))
    lib.check(len(rows) > 3000, f"only {len(rows)} corpus lines")
    return rows


def _expected(data):
    """What json_string promises: well-formed sequences kept, every other byte U+FFFD.
    Python's strict decoder refuses overlongs, surrogates and > U+10FFFF, as RFC 3629."""
    out = []
    i = 0
    while i < len(data):
        for n in (1, 2, 3, 4):
            try:
                ch = data[i:i + n].decode("utf-8", "strict")
            except UnicodeDecodeError:
                continue
            if len(ch) == 1:
                out.append(ch)
                i += n
                break
        else:
            out.append("\ufffd")
            i += 1
    return "".join(out)


def test_every_output_parses_strictly(tmp):
    for data, out in _corpus():
        try:
            value = lib.strict_json(out)
        except Exception as e:
            raise lib.CheckFailed(f"input {data.hex()}: output {out!r} does not parse: {e}")
        lib.check(isinstance(value, str), f"input {data.hex()}: not a string: {out!r}")


def test_valid_utf8_round_trips(tmp):
    seen = 0
    for data, out in _corpus():
        try:
            text = data.decode("utf-8", "strict")
        except UnicodeDecodeError:
            continue
        seen += 1
        lib.eq(lib.strict_json(out), text, f"round trip of {data.hex()}")
    lib.check(seen > 300, f"only {seen} valid inputs in the corpus")


def test_invalid_utf8_replaced(tmp):
    seen = 0
    for data, out in _corpus():
        try:
            data.decode("utf-8", "strict")
            continue
        except UnicodeDecodeError:
            pass
        seen += 1
        value = lib.strict_json(out)
        lib.check("\ufffd" in value, f"input {data.hex()}: no U+FFFD in {value!r}")
        lib.check(not any(0xD800 <= ord(c) <= 0xDFFF for c in value),
                  f"input {data.hex()}: surrogate in {value!r}")
        lib.eq(value, _expected(data), f"replacement of {data.hex()}")
    lib.check(seen > 300, f"only {seen} invalid inputs in the corpus")


def test_output_is_minimal(tmp):
    """Only what must be escaped is: printable ASCII other than quote and backslash,
    and valid non-ASCII UTF-8, appear as themselves."""
    for data, out in _corpus():
        body = out[1:-1]
        for b in body:
            lib.check(b >= 0x20 and b != 0x7F, f"input {data.hex()}: raw control byte in {out!r}")
        if data.isascii() and all(0x20 <= b < 0x7F and b not in b'"\\' for b in data):
            lib.eq(body, data, f"plain ASCII {data.hex()} changed")
