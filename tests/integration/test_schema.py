"""`anontel schema`: the JSON Schema (draft 2020-12) of the messages the config makes,
checked with a real validator (python3-jsonschema, Debian's): `show`'s message validates
for every format and ID scheme; the same message with one member more, one less, or one
of another type does not, at every place in it; the schema itself is a valid 2020-12
schema, holds nothing of the machine, and docs/telemetry.md shows it as it is."""
import copy
import json
import os
import re
import subprocess

import lib

VERSION = open(os.path.join(lib.TOP, "VERSION")).read().strip()
FEATURES = {"api": {"butlerping": True, "scheduler": {"getSchedule": False, "empty": {}}},
            "beta": True}
FORMATS = {
    "butler": {},
    "bare": {"envelope": False},
    "posthog": {"format": "posthog", "posthog": {"apiKey": "phc_test_key"}},
    "otlp": {"format": "otlp"},
}
SCHEMES = ["auto", "butler", "machine-id", "random", "fixed"]
FIXED_ID = "vendor_instance-0042"


def validator_class():
    try:
        import jsonschema
    except ImportError:
        raise lib.CheckFailed("python3-jsonschema missing: ./build.sh test installs it")
    lib.check(hasattr(jsonschema, "Draft202012Validator"), "jsonschema without draft 2020-12")
    return jsonschema.Draft202012Validator


def env_for(tmp, **extra):
    return lib.base_env(ANONTEL_STATE_DIR=os.path.join(tmp, "state"), **extra)


def config(tmp, fmt="butler", scheme="auto", name="config.json", **over):
    obj = {"service": "butler", "serviceVersion": "5.1.0", "runtimeVersion": "v20.11.1",
           "id": {"scheme": scheme}, "enabledFeatures": FEATURES}
    obj.update(FORMATS[fmt])
    obj.update(over)
    return lib.write_config(tmp, obj, name=name)


def run_ok(argv, env):
    p = lib.run(argv, env=env)
    lib.eq(p.returncode, 0, f"{argv[0]} exit status (stderr: {p.stderr!r})")
    return p


def schema_of(cfg, env, *args):
    """The schema `schema` prints, checked as a draft 2020-12 schema; its validator."""
    p = run_ok(["schema", "-c", cfg] + list(args), env)
    lib.check(p.stdout.endswith(b"\n"), "schema ends with a newline")
    schema = lib.strict_json(p.stdout)
    cls = validator_class()
    cls.check_schema(schema)
    lib.eq(schema["$schema"], "https://json-schema.org/draft/2020-12/schema", "$schema")
    return schema, cls(schema), p


def message_of(cfg, env):
    run_ok(["id", "-c", cfg], env)        # random (or auto's random) needs an ID made
    msg = lib.strict_json(run_ok(["show", "-c", cfg], env).stdout)
    return msg


def instance_id(msg, fmt):
    if fmt == "posthog":
        return msg["batch"][0]["distinct_id"]
    if fmt == "otlp":
        attrs = msg["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]["attributes"]
        return attrs[0]["value"]["stringValue"]
    return (msg.get("data") or msg)["system"]["id"]


def errors(validator, msg):
    return [e.message for e in validator.iter_errors(msg)]


def valid_row(tmp, name, fmt, scheme):
    env = env_for(tmp, ANONTEL_ID=FIXED_ID if scheme == "fixed" else None)
    cfg = config(tmp, fmt, scheme)
    schema, v, p = schema_of(cfg, env)
    want_id = "https://anontel.invalid/schema/v1/%s.json" % ("butler" if fmt == "bare" else fmt)
    lib.eq(schema["$id"], want_id, "$id")
    msg = message_of(cfg, env)
    lib.eq(errors(v, msg), [], f"{fmt}/{scheme}: show's message against the schema")
    pretty, _, _ = schema_of(cfg, env, "--pretty")
    lib.eq(pretty, schema, "schema --pretty is the same schema")
    # Nothing of this run or machine: not the ID, not the OS release's names.
    text = p.stdout.decode()
    ident = instance_id(msg, fmt)
    lib.check(ident and ident not in text, "the instance ID is in the schema")
    if fmt in ("butler", "bare"):
        system = (msg.get("data") or msg)["system"]
        for k in ("distro", "codename"):
            lib.check(len(system[k]) < 4 or system[k] not in text, f"{k} in the schema")


lib.table_tests(globals(), "test_valid_", [
    (f"{fmt}_{scheme.replace('-', '_')}", fmt, scheme) for fmt in FORMATS for scheme in SCHEMES
], valid_row)


# ---- one change anywhere makes the message invalid ----

def places(v, path=()):
    """Every object, array and leaf of v with its path."""
    yield path, v
    if isinstance(v, dict):
        for k, x in v.items():
            yield from places(x, path + (k,))
    elif isinstance(v, list):
        for i, x in enumerate(v):
            yield from places(x, path + (i,))


def at(v, path):
    for k in path:
        v = v[k]
    return v


def retyped(x):
    """x as a value of another JSON type."""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    if isinstance(x, str):
        return 1
    if isinstance(x, dict):
        return []
    return {}


def mutations(msg):
    """(what, message) for one member added to, or taken from, every object; one
    element added to, or taken from, every array; every value retyped."""
    for path, v in places(msg):
        if path:
            m = copy.deepcopy(msg)
            parent = at(m, path[:-1])
            parent[path[-1]] = retyped(v)
            yield f"{path} retyped", m
            m = copy.deepcopy(msg)
            del at(m, path[:-1])[path[-1]]
            yield f"{path} removed", m
        if isinstance(v, dict):
            for extra in ("extra", "id"):
                if extra not in v:
                    m = copy.deepcopy(msg)
                    at(m, path)[extra] = True
                    yield f"{path} + {extra}", m
        elif isinstance(v, list) and v:
            m = copy.deepcopy(msg)
            at(m, path).append(copy.deepcopy(v[-1]))
            yield f"{path} + element", m


def mutation_row(tmp, name, fmt):
    env = env_for(tmp)
    cfg = config(tmp, fmt)
    _, v, _ = schema_of(cfg, env)
    msg = message_of(cfg, env)
    lib.eq(errors(v, msg), [], "show's message")
    n = 0
    for what, m in mutations(msg):
        lib.check(errors(v, m), f"{fmt}: still valid with {what}")
        n += 1
    inner = sum(1 for _ in places(msg)) - 1
    lib.check(n >= 2 * inner, f"{fmt}: {n} changes tried for {inner} places")


lib.table_tests(globals(), "test_one_change_fails_", [(fmt, fmt) for fmt in FORMATS],
                mutation_row)


def test_values_outside_their_rules_fail(tmp):
    env = env_for(tmp)
    cfg = config(tmp)
    _, v, _ = schema_of(cfg, env)
    msg = message_of(cfg, env)
    for path, bad in [
        (("ts",), "2026-11-26 08:01:48"),
        (("ts",), msg["ts"] + " "),
        (("data", "service"), "other"),
        (("data", "serviceVersion"), "5.1.1"),
        (("data", "system", "platform"), "Linux"),
        (("data", "system", "nodeVersion"), "v20"),
        (("data", "system", "id"), msg["data"]["system"]["id"].upper()),
        (("data", "system", "id"), msg["data"]["system"]["id"][:63]),
        (("data", "system", "distro"), "x" * 128),
    ]:
        m = copy.deepcopy(msg)
        at(m, path[:-1])[path[-1]] = bad
        lib.check(errors(v, m), f"still valid with {path} = {bad!r}")
    m = copy.deepcopy(msg)
    m["data"]["system"]["distro"] = "é" * 127         # characters, not bytes
    lib.eq(errors(v, m), [], "127 characters of facts")


# The ID's pattern follows the scheme: each row's ID values pass or fail.
APP_ID = "eab21f49180d4e6c9e890361fe2b7c4a"      # a UUID v4's 32 digits (machine-id)
HEX64 = "cd90ff7b7cd65a4ae8fcebf8cfb39990bee3fd6dfde37eea773539ffdf51fc33"
ID_ROWS = [
    ("auto", [HEX64], [APP_ID, FIXED_ID, HEX64.upper(), ""]),
    ("butler", [HEX64, APP_ID], [FIXED_ID, APP_ID[:12] + "5" + APP_ID[13:], ""]),
    ("machine-id", [APP_ID], [HEX64, APP_ID[:16] + "c" + APP_ID[17:], ""]),
    ("random", [HEX64], [APP_ID, FIXED_ID, ""]),
    ("fixed", [FIXED_ID, APP_ID, "A" * 128, "a" * 16], ["a" * 15, "A" * 129, "vendor.instance.42", ""]),
]


def id_row(tmp, name, scheme, good, bad):
    env = env_for(tmp, ANONTEL_ID=FIXED_ID if scheme == "fixed" else None)
    for fmt in ("butler", "posthog"):
        cfg = config(tmp, fmt, scheme)
        _, v, _ = schema_of(cfg, env)
        msg = message_of(cfg, env)
        for value in good + bad:
            m = copy.deepcopy(msg)
            if fmt == "butler":
                m["data"]["system"]["id"] = value
            else:
                m["batch"][0]["distinct_id"] = value
            lib.eq(not errors(v, m), value in good, f"{scheme}/{fmt}: ID {value!r} valid")


lib.table_tests(globals(), "test_id_pattern_", [(s.replace("-", "_"), s, g, b)
                                                 for s, g, b in ID_ROWS], id_row)


def test_posthog_event_fields(tmp):
    env = env_for(tmp)
    cfg = config(tmp, "posthog")
    schema, v, _ = schema_of(cfg, env)
    msg = message_of(cfg, env)
    event = msg["batch"][0]
    uuid = event["uuid"]
    lib.eq(uuid[14], "7", "the UUID's version digit")
    for key, bad in [("uuid", uuid[:14] + "4" + uuid[15:]), ("uuid", uuid[:19] + "c" + uuid[20:]),
                     ("uuid", event["uuid"].upper()), ("timestamp", "yesterday"),
                     ("event", "other event")]:
        m = copy.deepcopy(msg)
        m["batch"][0][key] = bad
        lib.check(errors(v, m), f"still valid with {key} = {bad!r}")
    props = schema["properties"]["batch"]["prefixItems"][0]["properties"]["properties"]
    lib.eq(props["properties"]["$lib_version"], {"type": "string", "const": VERSION}, "$lib_version")
    lib.eq(props["properties"]["$geoip_disable"], {"type": "boolean", "const": True}, "$geoip")
    lib.check("feature_api_scheduler_getSchedule" in props["required"], "flattened feature")
    m = copy.deepcopy(msg)
    m["sent_at"] = "2026-11-26T08:01:48.1Z"
    lib.check(errors(v, m), "sent_at in another form")


def test_otlp_structure(tmp):
    """otlp: the resourceLogs tree exactly; the attributes in order; features nested
    8 deep (the schema then nests deeper than a config may)."""
    deep = {"l1": {"l2": {"l3": {"l4": {"l5": {"l6": {"l7": {"leaf": True}}}}}}}, "z": False}
    env = env_for(tmp)
    cfg = config(tmp, "otlp", enabledFeatures=deep)
    _, v, _ = schema_of(cfg, env)
    msg = message_of(cfg, env)
    lib.eq(errors(v, msg), [], "8-deep features")
    attrs = msg["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]["attributes"]
    m = copy.deepcopy(msg)
    attrs2 = at(m, ("resourceLogs", 0, "scopeLogs", 0, "logRecords", 0, "attributes"))
    attrs2[1], attrs2[2] = attrs2[2], attrs2[1]
    lib.check(errors(v, m), "attributes out of order")
    m = copy.deepcopy(msg)
    leaf = at(m, ("resourceLogs", 0, "scopeLogs", 0, "logRecords", 0, "attributes",
                  len(attrs) - 1, "value", "kvlistValue", "values", 0))
    for _ in range(6):
        leaf = leaf["value"]["kvlistValue"]["values"][0]
    leaf["value"]["kvlistValue"]["values"][0]["value"] = {"stringValue": "true"}
    lib.check(errors(v, m), "the deepest feature as a string")
    m = copy.deepcopy(msg)
    m["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]["severityNumber"] = 10
    lib.check(errors(v, m), "another severity")


def test_follows_the_config(tmp):
    """No runtimeVersion: no nodeVersion allowed; no features: an empty object only;
    ANONTEL_FEATURES_FILE and ANONTEL_SERVICE: the schema follows what show follows."""
    env = env_for(tmp)
    cfg = lib.write_config(tmp, {"service": "svc"})
    schema, v, _ = schema_of(cfg, env)
    msg = message_of(cfg, env)
    lib.eq(errors(v, msg), [], "bare config")
    lib.eq(msg["data"]["enabledFeatures"], {}, "no features")
    m = copy.deepcopy(msg)
    m["data"]["system"]["nodeVersion"] = "v20.11.1"
    lib.check(errors(v, m), "nodeVersion without runtimeVersion")
    lib.eq(schema["properties"]["data"]["properties"]["serviceVersion"]["const"], VERSION,
           "default serviceVersion")
    features = lib.write_config(tmp, {"from": {"file": True}}, name="features.json")
    env2 = env_for(tmp, ANONTEL_FEATURES_FILE=features, ANONTEL_SERVICE="other")
    _, v2, _ = schema_of(cfg, env2)
    msg2 = message_of(cfg, env2)
    lib.eq(errors(v2, msg2), [], "features file")
    lib.check(errors(v, msg2) and errors(v2, msg), "the two configs' messages differ")


def test_depends_on_the_config_alone(tmp):
    """The same config gives the same bytes whatever the ID, state dir or machine; schema
    reads no state dir and makes none."""
    cfg = config(tmp, "posthog", "fixed")
    outs = []
    for i, ident in enumerate((FIXED_ID, "another_fixed_id_0001")):
        state = os.path.join(tmp, f"state{i}")
        p = run_ok(["schema", "-c", cfg], lib.base_env(ANONTEL_STATE_DIR=state, ANONTEL_ID=ident))
        lib.check(not os.path.exists(state), "schema made a state dir")
        lib.eq(p.stderr, b"", "nothing on stderr")
        outs.append(p.stdout)
    lib.eq(outs[0], outs[1], "schema bytes")


def test_sandbox_local(tmp):
    """schema runs in show's sandbox class (LOCAL: read-only opens, no network)."""
    env = env_for(tmp)
    cfg = config(tmp)
    lines = [l for l in lib.run(["-v", "schema", "-c", cfg], env=env).stderr.splitlines()
             if l.startswith(b"anontel: sandbox:")]
    show = [l for l in lib.run(["-v", "show", "-c", cfg], env=env).stderr.splitlines()
            if l.startswith(b"anontel: sandbox:")]
    lib.eq(lines, show, "schema's sandbox line is show's")
    lib.check(lines and lines[0].startswith(b"anontel: sandbox: on ("), f"sandbox: {lines}")


def test_off_still_describes(tmp):
    cfg = config(tmp)
    on = run_ok(["schema", "-c", cfg], env_for(tmp)).stdout
    for env in (env_for(tmp, DO_NOT_TRACK="1"),):
        p = run_ok(["schema", "-c", cfg], env)
        lib.eq(p.stdout, on, "the schema when off")
        lib.eq(p.stderr, b"anontel: telemetry is off: DO_NOT_TRACK is set (the schema is of "
               b"what report would send if it were on)\n", "stderr")
        p = run_ok(["-q", "schema", "-c", cfg], env)
        lib.eq((p.stdout, p.stderr), (on, b""), "-q")
    off = lib.write_config(tmp, dict(json.loads(open(cfg).read()), enabled=False), name="off.json")
    lib.eq(run_ok(["schema", "-c", off], env_for(tmp)).stdout, on, "enabled: false")


def test_usage_and_config_errors(tmp):
    env = env_for(tmp)
    for argv, want in [(["schema", "extra"], b"unexpected argument 'extra'"),
                       (["schema", "--explain"], b"option does not apply to this verb:"),
                       (["schema", "-c", config(tmp, name="a.json", format="nope")], b"format"),
                       (["schema", "-c", os.path.join(tmp, "missing.json")], b"missing.json"),
                       (["schema", "-c", config(tmp, "posthog", name="b.json", posthog={})],
                        b"posthog.apiKey")]:
        p = lib.run(argv, env=env)
        lib.eq(p.returncode, 2, f"{argv}: exit status")
        lib.eq(p.stdout, b"", f"{argv}: stdout")
        lib.check(p.stderr.count(b"\n") == 1 and want in p.stderr, f"{argv}: {p.stderr!r}")
    with open("/dev/full", "wb") as full:
        p = subprocess.run([lib.BIN, "schema"], env=env, stdout=full, stderr=subprocess.PIPE,
                           timeout=30)
    lib.eq(p.returncode, 1, "stdout on /dev/full")
    lib.check(b"cannot write to standard output" in p.stderr, f"/dev/full: {p.stderr!r}")


def doc_json(doc, heading):
    """The first json block of the section under heading."""
    section = doc.split(f"\n## {heading}\n", 1)
    lib.check(len(section) == 2, f"telemetry.md has a section '## {heading}'")
    block = re.search(r"```json\n(.*?)```", section[1].split("\n## ", 1)[0], re.S)
    lib.check(block, f"a json block under '## {heading}'")
    return block.group(1)


def test_telemetry_md_shows_it(tmp):
    """docs/telemetry.md's schema is `schema --pretty` for its example config."""
    with open(os.path.join(lib.TOP, "docs", "telemetry.md")) as f:
        doc = f.read()
    cfg = lib.write_config(tmp, doc_json(doc, "Full examples"))
    p = run_ok(["schema", "--pretty", "-c", cfg], env_for(tmp))
    lib.eq(p.stdout.decode(), doc_json(doc, "The schema"), "the schema in telemetry.md")


# ---- scheme none: no ID in the message, so none in the schema; the age instead

AGES = (["0", "1", "2-4", "5-24", "25+"], ["", "2", "25", "5-25", "26+", "25++", "0 "])


def none_row(tmp, name, fmt):
    env = env_for(tmp)
    cfg = config(tmp, fmt, "none")
    schema, v, p = schema_of(cfg, env)
    msg = message_of(cfg, env)
    lib.eq(errors(v, msg), [], f"{fmt}: show's message against the schema")
    text = p.stdout.decode()
    lib.check("[0-9a-f]{64}" not in text and '"id"' not in text and "system.id" not in text,
              f"{fmt}: no instance ID in the schema")
    if fmt == "posthog":
        event = msg["batch"][0]
        lib.eq(event["distinct_id"], event["uuid"], "distinct_id: the event's own UUID")
        lib.check("distinct_id" in text, "distinct_id is in the schema")
    for value in AGES[0] + AGES[1]:
        m = copy.deepcopy(msg)
        if fmt == "posthog":
            m["batch"][0]["properties"]["system_age"] = value
        elif fmt == "otlp":
            attrs = m["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]["attributes"]
            lib.eq(attrs[0]["key"], "system.age", "the age attribute first")
            attrs[0]["value"]["stringValue"] = value
        else:
            (m.get("data") or m)["system"]["age"] = value
        lib.eq(not errors(v, m), value in AGES[0], f"{fmt}: age {value!r} valid")
    if fmt in ("butler", "bare"):
        m = copy.deepcopy(msg)
        (m.get("data") or m)["system"]["id"] = HEX64
        lib.check(errors(v, m), f"{fmt}: a message with an id is not one of scheme none")


lib.table_tests(globals(), "test_none_scheme_", [(fmt, fmt) for fmt in FORMATS], none_row)
