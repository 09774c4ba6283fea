"""format "posthog": one PostHog capture event, checked against what PostHog's own
Node library (posthog-node, from npm) sends to a local server."""
import gzip
import json
import os
import re
import subprocess

import lib
import peers

NPM_DIR = os.path.join(lib.TOP, "build", "npm")
NODE_SEND = r"""
const { PostHog } = require(process.argv[1]);
const c = new PostHog('phc_TestProjectKey', { host: process.argv[2], flushAt: 1,
  flushInterval: 0, disableGeoip: true });
c.capture({ distinctId: process.argv[3], event: 'telemetry sent',
  properties: { $process_person_profile: false, system_arch: 'x64' } });
c.shutdown().then(() => process.exit(0));
"""
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def posthog_node():
    """Installs posthog-node into build/npm (git-ignored) once; returns its path."""
    mod = os.path.join(NPM_DIR, "node_modules", "posthog-node")
    if not os.path.isdir(mod):
        os.makedirs(NPM_DIR, exist_ok=True)
        p = subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund",
                            "--prefix", NPM_DIR, "posthog-node@5"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
        lib.eq(p.returncode, 0, f"npm install posthog-node: {p.stdout[-1500:]!r}")
    return mod


def body_of(req):
    if "gzip" in [v.lower() for v in req.header("Content-Encoding")]:
        return gzip.decompress(req.body)
    return req.body


def test_capture_event_has_posthog_nodes_shape(tmp):
    mod = posthog_node()
    with peers.TLSServer(tls=False) as s:
        # PostHog's own client first...
        p = subprocess.run(["node", "-e", NODE_SEND, mod, s.url("", host="127.0.0.1"), "abc"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        lib.eq(p.returncode, 0, f"posthog-node: {p.stdout[-800:]!r}")
        lib.eq(len(s.requests), 1, "posthog-node sent one request")
        ref = s.requests[0]
        ref_body = lib.strict_json(body_of(ref))
        ref_event = ref_body["batch"][0]
        # ...then anontel, to the capture endpoint.
        cfg = peers.config(tmp, {"format": "posthog", "endpoint": s.url("/i/v0/e/", host="127.0.0.1"),
                                 "posthog": {"apiKey": "phc_TestProjectKey"},
                                 "enabledFeatures": {"api": {"butlerping": True,
                                                             "scheduler": {"getSchedule": False}}}})
        env = peers.new_env(tmp)
        rp, _ = peers.report(tmp, cfg, env=env)
        peers.expect_delivered(rp, s, "posthog format", n=2)
        ours = s.requests[1]
    ident = lib.run(["id", "-c", cfg], env=env).stdout.decode().strip()

    lib.eq(ours.method, ref.method, "method")
    lib.eq(ours.target, "/i/v0/e/", "anontel posts one event to the capture path it is given")
    lib.eq(ref.target, "/batch/", "posthog-node batches (the reference's path)")
    lib.eq(ours.header("Content-Type"), ref.header("Content-Type"), "content type")
    ev = lib.strict_json(ours.body)
    lib.eq(list(ev), ["api_key", "event", "distinct_id", "timestamp", "properties"], "keys")
    lib.eq(ev["api_key"], ref_body["api_key"], "api_key as posthog-node sends it")
    for key in ("event", "distinct_id", "timestamp", "properties"):
        lib.eq(type(ev[key]), type(ref_event[key]), f"type of {key}")
    lib.eq(ev["event"], ref_event["event"], "event name")
    lib.check(TS.match(ev["timestamp"]) and TS.match(ref_event["timestamp"]), "timestamps")
    lib.eq(ev["distinct_id"], ident, "distinct_id is the instance ID")
    props = ev["properties"]
    lib.eq(props["$process_person_profile"], ref_event["properties"]["$process_person_profile"],
           "$process_person_profile")
    lib.eq(props["$geoip_disable"], ref_event["properties"]["$geoip_disable"], "$geoip_disable")
    lib.eq(props["$geoip_disable"], True, "$geoip_disable set")
    lib.eq(props["system_arch"], ref_event["properties"]["system_arch"], "system_arch")
    lib.eq(props["feature_api_butlerping"], True, "flattened feature")
    lib.eq(props["feature_api_scheduler_getSchedule"], False, "flattened nested feature")
    for name in ("system_platform", "system_release", "system_distro", "system_codename"):
        lib.check(isinstance(props[name], str), f"{name} is a string")
    lib.check(isinstance(props["system_virtual"], bool), "system_virtual is a boolean")


def test_posthog_needs_an_api_key(tmp):
    cfg = lib.write_config(tmp, {"format": "posthog"})
    p = lib.run(["show", "-c", cfg])
    lib.eq(p.returncode, 2, "exit status")
    lib.check(b"posthog.apiKey" in p.stderr, f"names the key: {p.stderr!r}")


def test_features_that_flatten_alike_are_refused(tmp):
    cfg = lib.write_config(tmp, {"format": "posthog", "posthog": {"apiKey": "phc_k"},
                                 "enabledFeatures": {"a_b": True, "a": {"b": False}}})
    p = lib.run(["show", "-c", cfg])
    lib.eq(p.returncode, 2, "exit status")
    lib.check(b"feature_a_b" in p.stderr, f"names the property: {p.stderr!r}")
    ok = lib.write_config(tmp, {"format": "posthog", "posthog": {"apiKey": "phc_k"},
                                "enabledFeatures": {"a_b": True, "a": {"c": False}}}, name="ok.json")
    lib.eq(lib.run(["show", "-c", ok]).returncode, 0, "distinct names are fine")
