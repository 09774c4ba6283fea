"""Runtime inputs without a config file (SPEC §11, §2): ANONTEL_SERVICE,
ANONTEL_SERVICE_VERSION, ANONTEL_FORMAT and ANONTEL_FEATURES_FILE (a JSON file of the
enabledFeatures shape, read with the config's strict parser and schema). Environment
over the config file, empty means unset; every bad value exits 2 with one line naming
the variable, or the file and a line:column or key path (check: 1)."""
import os

import lib
import peers
import runs


def _show(env_, cfg=None):
    p = lib.run(["show"] + (["-c", cfg] if cfg else []), env=env_)
    return p, (lib.strict_json(p.stdout) if p.returncode == 0 else None)


def test_a_scratch_image_needs_no_config_file(tmp):
    features = lib.write_config(tmp, "{\n  \"api\": {\"butlerping\": true},\n  \"beta\": false\n}\n",
                                name="features.json")
    with runs.Server() as s:
        e = runs.env(os.path.join(tmp, "state"), s.url("/t"), ANONTEL_SERVICE="butler",
                     ANONTEL_SERVICE_VERSION="5.1.0", ANONTEL_FEATURES_FILE=features)
        lib.eq(lib.run(["id"], env=e).returncode, 0, "id (makes the random ID show reads)")
        p, msg = _show(e)
        lib.eq(p.returncode, 0, f"show ({runs.describe(p)})")
        data = msg["data"]
        lib.eq((data["service"], data["serviceVersion"]), ("butler", "5.1.0"), "from the environment")
        lib.eq(data["enabledFeatures"], {"api": {"butlerping": True}, "beta": False},
               "the features file, in its order")
        lib.eq(list(data["enabledFeatures"]), ["api", "beta"], "file order")
        p, _ = runs.run(["report", "--force"], e)
        lib.eq(p.returncode, 0, f"report ({runs.describe(p)})")
        lib.eq(lib.strict_json(s.posts[0].body)["data"], data, "sent as shown")
        st = lib.run(["status"], env=e).stdout.decode()
        lib.check("config: (none: defaults and environment)" in st, f"status: {st}")


def test_environment_over_the_config_file(tmp):
    features = lib.write_config(tmp, {"fromEnv": True}, name="features.json")
    cfg = lib.write_config(tmp, {"service": "file", "serviceVersion": "1.0", "format": "butler",
                                 "posthog": {"apiKey": "phc_k"},
                                 "enabledFeatures": {"fromFile": True}})
    p, msg = _show(lib.base_env(), cfg)
    lib.eq((msg["data"]["service"], msg["data"]["enabledFeatures"]), ("file", {"fromFile": True}),
           "the file alone")
    e = lib.base_env(ANONTEL_SERVICE="env", ANONTEL_SERVICE_VERSION="2.0", ANONTEL_FORMAT="posthog",
                     ANONTEL_FEATURES_FILE=features)
    p, msg = _show(e, cfg)
    lib.eq(p.returncode, 0, f"show ({peers.describe(p)})")
    props = msg["batch"][0]["properties"]
    lib.eq((props["service"], props["serviceVersion"]), ("env", "2.0"), "env over file")
    lib.eq(props.get("feature_fromEnv"), True, "the features file replaces the config's")
    lib.check("feature_fromFile" not in props, "not merged")
    # Empty values are unset.
    e = lib.base_env(ANONTEL_SERVICE="", ANONTEL_FORMAT="", ANONTEL_FEATURES_FILE="")
    p, msg = _show(e, cfg)
    lib.eq((msg["data"]["service"], msg["data"]["enabledFeatures"]), ("file", {"fromFile": True}),
           "empty = unset")


BAD_VALUES = [
    ("service", {"ANONTEL_SERVICE": "my service"}, "ANONTEL_SERVICE: expected 1 to 64 of"),
    ("service-path", {"ANONTEL_SERVICE": "../etc"}, "ANONTEL_SERVICE: expected 1 to 64 of"),
    ("version", {"ANONTEL_SERVICE_VERSION": "1.0\x1b[2J"}, "ANONTEL_SERVICE_VERSION: expected"),
    ("format", {"ANONTEL_FORMAT": "json"},
     'ANONTEL_FORMAT: expected "butler", "posthog" or "otlp"'),
    ("posthog-no-key", {"ANONTEL_FORMAT": "posthog"}, "posthog.apiKey: required"),
]


def _bad_value(tmp, name, extra, want):
    for verb in (["show"], ["report", "--force"], ["status"], ["id"]):
        p, _ = runs.run(verb, runs.env(os.path.join(tmp, "state"), "http://127.0.0.1:9/t", **extra))
        line = peers.expect_failure(p, 2, want, f"{name}: {verb[0]}")
        lib.check("\x1b" not in line, f"control bytes escaped: {line!r}")
    p, _ = runs.run(["check", "http://127.0.0.1:9/"], lib.base_env(**extra))
    lib.eq(p.returncode, 1, f"{name}: check never exits 2")


lib.table_tests(globals(), "test_refused_", BAD_VALUES, _bad_value)

BAD_FEATURES = [
    ("syntax", "{\"api\": {\"x\": tru}}", ":1:15: invalid literal"),
    ("second-line", "{\n  \"a\": true,\n}\n", ":2:12: trailing comma"),
    ("not-object", "[\"api\"]", ": expected an object"),
    ("string", "{\"api\": {\"x\": \"yes\"}}", ": api.x: expected true, false or an object"),
    ("number", "{\"api\": {\"x\": 1}}", ": api.x: expected true, false or an object"),
    ("key", "{\"api\": {\"a b\": true}}", ": api.a b: invalid key"),
    ("dup", "{\"a\": true, \"a\": true}", ": a: duplicate key"),
    ("deep", "{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{\"i\":true}}}}}}}}}",
     ": a.b.c.d.e.f.g.h.i: nested deeper than 8 levels"),
    ("bom", "\ufeff{}", ":1:1: byte order mark"),
]


def _bad_features(tmp, name, text, want):
    ff = lib.write_config(tmp, text, name="features.json")
    for verb in (["show"], ["report", "--force"], ["status"]):
        p, _ = runs.run(verb, runs.env(os.path.join(tmp, "state"), "http://127.0.0.1:9/t",
                                       ANONTEL_FEATURES_FILE=ff))
        line = peers.expect_failure(p, 2, want, f"features {name}: {verb[0]}")
        lib.check(line.startswith(f"anontel: {ff}{want}"), f"names the file first: {line!r}")


lib.table_tests(globals(), "test_features_file_", BAD_FEATURES, _bad_features)


def test_features_file_missing_or_not_a_file(tmp):
    for path, want in ((os.path.join(tmp, "none.json"), "cannot open"),
                       (tmp, "not a regular file")):
        p, _ = runs.run(["show"], lib.base_env(ANONTEL_FEATURES_FILE=path))
        line = peers.expect_failure(p, 2, want, path)
        lib.check(path in line, f"names the file: {line!r}")


def test_posthog_flattening_names_the_features_file(tmp):
    ff = lib.write_config(tmp, {"a_b": True, "a": {"b": False}}, name="features.json")
    cfg = lib.write_config(tmp, {"format": "posthog", "posthog": {"apiKey": "phc_k"}})
    p, _ = runs.run(["show", "-c", cfg], lib.base_env(ANONTEL_FEATURES_FILE=ff))
    line = peers.expect_failure(p, 2, "feature_a_b", "two features, one property")
    lib.check(line.startswith(f"anontel: {ff}: enabledFeatures:"), f"the features file: {line!r}")
