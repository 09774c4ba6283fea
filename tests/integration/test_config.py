"""Config errors as a user sees them: `anontel show -c FILE` on a bad config exits 2,
prints nothing on stdout and exactly one line on stderr,
    anontel: <cfg_load's message>
which names the file and either line:column (syntax) or the key path (schema)."""
import json
import os

import lib

# (name, file bytes, what follows the path in the message: a prefix of the rest)
BAD = [
    # syntax: FILE:LINE:COL: what
    ("num-leading-zero", b'{"interval": -01}', ":1:14: invalid number"),
    ("num-trailing-dot", b'{"enabled": 1.}', ":1:13: invalid number"),
    ("num-leading-dot", b'{"enabled": .5}', ":1:13: invalid number"),
    ("num-hex", b'{"enabled": 0x1}', ":1:13: invalid number"),
    ("num-exp", b'{"enabled": 1e}', ":1:13: invalid number"),
    ("num-plus", b'{"enabled": +1}', ":1:13: invalid number"),
    ("num-infinity", b'{"enabled": Infinity}', ":1:13: invalid literal"),
    ("num-nan", b'{"enabled": NaN}', ":1:13: invalid literal"),
    ("lit-tru", b'{"enabled": tru}', ":1:13: invalid literal"),
    ("lit-nul", b'{"enabled": nul}', ":1:13: invalid literal"),
    ("lit-True", b'{"enabled": True}', ":1:13: invalid literal"),
    ("trailing-comma-object", b'{"enabled": true,}', ":1:17: trailing comma"),
    ("trailing-comma-array", b'{"x": [1,]}', ":1:9: trailing comma"),
    ("leading-comma", b'{"x": [,1]}', ":1:8: expected a value"),
    ("missing-colon", b'{"a" 1}', ":1:6: expected ':'"),
    ("double-colon", b'{"a"::1}', ":1:6: expected a value"),
    ("raw-tab", b'{"service": "a\tb"}', ":1:15: control character in string"),
    ("raw-newline", b'{"service": "a\nb"}', ":1:15: control character in string"),
    ("second-line", b'{\n  "enabled": tru\n}\n', ":2:14: invalid literal"),
    ("invalid-utf8", b'{"service": "\xc3\x28"}', ":1:14: invalid UTF-8"),
    ("overlong-utf8", b'{"service": "\xc0\xaf"}', ":1:14: invalid UTF-8"),
    ("lone-surrogate", b'{"service": "\\ud800"}', ":1:14: lone surrogate escape"),
    ("nul-byte", b'{"enabled": true}\x00', ":1:18: NUL byte"),
    ("second-value", b"{} {}", ":1:4: unexpected data after the value"),
    ("empty", b"", ":1:1: empty document"),
    ("deep-nesting", b"[" * 100000, ":1:65: nesting too deep"),
    ("too-many-values", b'{"x": [0' + b",0" * 9000 + b"]}", ": more than 8192 JSON values"),
    # schema: FILE: key.path: what
    ("top-array", b"[]", ": expected an object at the top level"),
    ("unknown-key", b'{"enabeld": true}', ": enabeld: unknown key"),
    ("unknown-nested", b'{"tls": {"pinn": "x"}}', ": tls.pinn: unknown key"),
    ("duplicate-key", b'{"service": "a", "service": "b"}', ": service: duplicate key"),
    ("duplicate-feature", b'{"enabledFeatures": {"api": {"x": true, "x": false}}}',
     ": enabledFeatures.api.x: duplicate key"),
    ("wrong-type", b'{"service": 1}', ": service: expected a string"),
    ("wrong-type-bool", b'{"enabled": "yes"}', ": enabled: expected true or false"),
    ("non-boolean-feature", b'{"enabledFeatures": {"api": {"scheduler": {"getSchedule": 1}}}}',
     ": enabledFeatures.api.scheduler.getSchedule: expected true, false or an object"),
    ("bad-feature-key", b'{"enabledFeatures": {"bad key": true}}',
     ": enabledFeatures.bad key: invalid key"),
    ("feature-too-deep",
     b'{"enabledFeatures": {"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"i": true}}}}}}}}}}',
     ": enabledFeatures.a.b.c.d.e.f.g.h.i: nested deeper than 8 levels"),
    ("too-many-leaves",
     b'{"enabledFeatures": {' + b",".join(b'"k%04d": true' % i for i in range(1025)) + b"}}",
     ": enabledFeatures.k1024: more than 1024 booleans"),
    ("bad-service", b'{"service": "my service"}', ": service: expected 1 to 64 of"),
    ("bad-scheme", b'{"id": {"scheme": "sha1"}}', ": id.scheme: "),
    ("bad-pin", b'{"tls": {"pin": "sha256//AAAA"}}', ": tls.pin: expected sha256//"),
    ("bad-interval", b'{"interval": "5x"}', ": interval: invalid duration"),
]


def _one_error_line(p, what):
    lib.eq(p.returncode, 2, f"{what}: exit status (stderr {p.stderr[:300]!r})")
    lib.eq(p.stdout, b"", f"{what}: stdout")
    lib.check(p.stderr.endswith(b"\n"), f"{what}: stderr does not end with a newline: {p.stderr!r}")
    lines = p.stderr[:-1].split(b"\n")
    lib.eq(len(lines), 1, f"{what}: stderr lines {p.stderr[:600]!r}")
    lib.check(lines[0].startswith(b"anontel: "), f"{what}: {lines[0]!r} does not start with 'anontel: '")
    return lines[0][len(b"anontel: "):]


def test_bad_configs(tmp):
    failures = []
    for name, data, want in BAD:
        path = lib.write_config(tmp, data, name=name + ".json")
        p = lib.run(["show", "-c", path])
        try:
            msg = _one_error_line(p, name)
            expect = path.encode() + want.encode()
            lib.check(msg.startswith(expect), f"{name}: message {msg[:300]!r}, want {expect!r}...")
        except lib.CheckFailed as e:
            failures.append(str(e))
    lib.check(not failures, f"{len(failures)} of {len(BAD)} rows: " + " || ".join(failures[:5]))


def test_huge_file(tmp):
    path = os.path.join(tmp, "huge.json")
    with open(path, "wb") as f:
        f.write(b"{" + b" " * (10 * 1024 * 1024) + b"}")
    msg = _one_error_line(lib.run(["show", "-c", path]), "10 MiB")
    lib.eq(msg, path.encode() + b": larger than 262144 bytes", "10 MiB message")


def test_missing_and_odd_files(tmp):
    missing = os.path.join(tmp, "missing.json")
    msg = _one_error_line(lib.run(["show", "-c", missing]), "-c missing")
    lib.eq(msg, missing.encode() + b": cannot open: No such file or directory", "-c missing message")

    msg = _one_error_line(lib.run(["show"], env=lib.base_env(ANONTEL_CONFIG=missing)),
                          "ANONTEL_CONFIG missing")
    lib.eq(msg, missing.encode() + b": cannot open: No such file or directory",
           "ANONTEL_CONFIG missing message")

    msg = _one_error_line(lib.run(["show", "-c", tmp]), "directory")
    lib.eq(msg, tmp.encode() + b": not a regular file", "directory message")


def test_error_via_environment_path(tmp):
    path = lib.write_config(tmp, b'{"enabled": tru}')
    msg = _one_error_line(lib.run(["show"], env=lib.base_env(ANONTEL_CONFIG=path)), "ANONTEL_CONFIG")
    lib.eq(msg, path.encode() + b":1:13: invalid literal", "ANONTEL_CONFIG message")


def test_bad_timeout_flag(tmp):
    path = lib.write_config(tmp, b"{}")
    msg = _one_error_line(lib.run(["show", "-c", path, "--timeout", "5x"]), "--timeout 5x")
    lib.eq(msg, b"--timeout: invalid duration '5x'", "--timeout message")


BUTLER_FEATURES = {
    "api": {"activeUserCount": True, "activeUsers": True, "apiListEnbledEndpoints": True,
            "base62ToBase16": True, "base16ToBase62": True, "butlerping": True,
            "createDir": True, "createDirQVD": True, "fileDelete": True, "fileMove": True,
            "fileCopy": True, "keyValueStore": True, "mqttPublishMessage": True,
            "scheduler": {"createNewSchedule": True, "getSchedule": True,
                          "getScheduleStatusAll": True, "updateSchedule": True,
                          "deleteSchedule": True, "startSchedule": True, "stopSchedule": True},
            "senseAppReload": True, "senseAppDump": True, "senseListApps": True,
            "senseStartTask": True, "slackPostMessage": True},
    "feature": {"heartbeat": False, "dockerHealthCheck": False, "uptimeMonitor": True,
                "uptimeMonitor_storeInInfluxdb": False, "teamsNotification": True,
                "teamsNotification_reloadTaskFailure": True,
                "teamsNotification_reloadTaskAborted": True, "slackNotification": True,
                "slackNotification_reloadTaskFailure": True,
                "slackNotification_reloadTaskAborted": True, "emailNotification": True,
                "emailNotification_reloadTaskFailure": True,
                "emailNotification_reloadTaskAborted": True, "webhookNotification": False,
                "webhookNotification_reloadTaskFailure": False,
                "webhookNotification_reloadTaskAborted": False, "scheduler": True, "mqtt": True,
                "userActivityLogging": False},
}


def test_good_config_features_in_order(tmp):
    """A valid config is accepted, and enabledFeatures reach the message verbatim, in order."""
    path = lib.write_config(tmp, {"service": "butler", "serviceVersion": "5.1.0",
                                  "endpoint": "https://telemetry.example.com/api/butlerTelemetry",
                                  "enabledFeatures": BUTLER_FEATURES})
    p = lib.run(["show", "-c", path])
    lib.eq(p.returncode, 0, f"show exit status (stderr {p.stderr[:300]!r})")
    msg = lib.strict_json(p.stdout)
    got = msg["data"]["enabledFeatures"]
    # json.dumps keeps dict order, so equal dumps mean equal content in equal order.
    lib.eq(json.dumps(got), json.dumps(BUTLER_FEATURES), "enabledFeatures (content and order)")
