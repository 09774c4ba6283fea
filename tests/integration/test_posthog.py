"""format "posthog": a batch of one PostHog capture event, checked field for field
against what PostHog's own Node library (posthog-node, from npm, installed by ./build.sh
test's set-up) sends to a local server; its uuid and sent_at over a retry; the Date header."""
import datetime
import email.utils
import gzip
import os
import re
import subprocess
import time

import lib
import peers
import runs

VERSION = open(os.path.join(lib.TOP, "VERSION")).read().strip()

NODE_SEND = r"""
const { PostHog } = require(process.argv[1]);
const c = new PostHog('phc_TestProjectKey', { host: process.argv[2], flushAt: 1,
  flushInterval: 0, disableGeoip: true });
c.capture({ distinctId: process.argv[3], event: 'telemetry sent',
  properties: { $process_person_profile: false, system_arch: 'x64' } });
c.shutdown().then(() => process.exit(0));
"""
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
# What posthog-node sends that anontel does not, and why: $is_server is posthog-node's
# own flag (anontel runs on servers and small boxes alike).
NODE_ONLY = {"$is_server"}


def posthog_node():
    return lib.npm_module("posthog-node")


def body_of(req):
    if "gzip" in [v.lower() for v in req.header("Content-Encoding")]:
        return gzip.decompress(req.body)
    return req.body


def ms_of(ts):
    t = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ")
    return round(t.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)


def check_uuid7(uuid, ts, who, slack_ms=0):
    """A UUID v7 whose 48-bit time is the event's timestamp (RFC 9562 5.7); anontel
    makes both from one clock reading, posthog-node reads the clock twice."""
    lib.check(UUID7.match(uuid), f"{who}: uuid {uuid!r} is a UUID v7")
    off = int(uuid.replace("-", "")[:12], 16) - ms_of(ts)
    lib.check(0 <= off <= slack_ms, f"{who}: uuid time - timestamp = {off} ms")


def no_sent_at(body):
    """The body with its sent_at's value (24 bytes at the end) blanked."""
    lib.check(re.search(rb',"sent_at":"[^"]{24}"}$', body), f"sent_at last: {body[-60:]!r}")
    return body[:-26]


def check_date(req, who):
    dates = req.header("Date")
    lib.eq(len(dates), 1, f"{who}: one Date header: {req.headers}")
    t = email.utils.parsedate_to_datetime(dates[0])
    lib.eq(email.utils.format_datetime(t, usegmt=True), dates[0], f"{who}: Date is an IMF-fixdate")
    skew = abs(time.time() - t.timestamp())
    lib.check(skew < 60, f"{who}: Date {dates[0]} is now (off by {skew:.0f} s)")


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
        # ...then anontel, to the same path.
        cfg = peers.config(tmp, {"format": "posthog", "endpoint": s.url("/batch/", host="127.0.0.1"),
                                 "posthog": {"apiKey": "phc_TestProjectKey"},
                                 "enabledFeatures": {"api": {"butlerping": True,
                                                             "scheduler": {"getSchedule": False}}}})
        env = peers.new_env(tmp)
        before = time.time()
        rp, _ = peers.report(tmp, cfg, env=env)
        peers.expect_delivered(rp, s, "posthog format", n=2)
        ours = s.requests[1]
    ident = lib.run(["id", "-c", cfg], env=env).stdout.decode().strip()

    # The request: method, path, content type; and a Date.
    lib.eq((ours.method, ours.target), (ref.method, ref.target), "method and path")
    lib.eq(ours.header("Content-Type"), ref.header("Content-Type"), "content type")
    check_date(ours, "anontel")
    # The body, field for field: {"api_key", "batch": [one event], "sent_at"}.
    body = lib.strict_json(ours.body)
    lib.eq(sorted(body), sorted(ref_body), "the body's keys are posthog-node's")
    lib.eq(body["api_key"], ref_body["api_key"], "api_key")
    lib.eq(len(body["batch"]), 1, "a batch of one event")
    ev = body["batch"][0]
    lib.eq(sorted(ev), sorted(ref_event), "the event's keys are posthog-node's")
    for key in ref_event:
        lib.eq(type(ev[key]), type(ref_event[key]), f"type of {key}")
    lib.eq(ev["event"], ref_event["event"], "event name")
    lib.eq(ev["distinct_id"], ident, "distinct_id is the instance ID")
    for who, b, e, slack in (("anontel", body, ev, 0),
                             ("posthog-node", ref_body, ref_event, 1000)):
        lib.check(TS.match(e["timestamp"]) and TS.match(b["sent_at"]), f"{who}: ISO times")
        lib.check(ms_of(e["timestamp"]) <= ms_of(b["sent_at"]), f"{who}: sent after built")
        check_uuid7(e["uuid"], e["timestamp"], who, slack)
    lib.check(before - 1 <= ms_of(body["sent_at"]) / 1000 <= time.time() + 1, "sent_at is now")
    # Properties: every one posthog-node sends, with its type, but NODE_ONLY.
    props, ref_props = ev["properties"], ref_event["properties"]
    for key, value in ref_props.items():
        if key in NODE_ONLY:
            lib.check(key not in props, f"{key} is posthog-node's only")
            continue
        lib.check(key in props, f"property {key} (posthog-node sends it)")
        lib.eq(type(props[key]), type(value), f"type of property {key}")
    lib.eq(ref_props["$lib"], "posthog-node", "posthog-node names itself")
    lib.eq((props["$lib"], props["$lib_version"]), ("anontel", VERSION), "$lib, $lib_version")
    lib.eq(props["$os"], "Linux", "$os")
    lib.eq(props["$process_person_profile"], ref_props["$process_person_profile"],
           "$process_person_profile")
    lib.eq(props["$geoip_disable"], ref_props["$geoip_disable"], "$geoip_disable")
    lib.eq(props["$geoip_disable"], True, "$geoip_disable set")
    lib.eq(props["system_arch"], ref_props["system_arch"], "system_arch")
    lib.eq(props["feature_api_butlerping"], True, "flattened feature")
    lib.eq(props["feature_api_scheduler_getSchedule"], False, "flattened nested feature")
    for name in ("system_platform", "system_release", "system_distro", "system_codename"):
        lib.check(isinstance(props[name], str), f"{name} is a string")
    lib.check(isinstance(props["system_virtual"], bool), "system_virtual is a boolean")


def test_a_retry_keeps_uuid_and_key_with_a_new_sent_at(tmp):
    """posthog-node keeps an event (its uuid) queued when a send fails and builds a new
    sent_at at the next flush; anontel keeps the message on disk and does the same."""
    answers = [503, 200, 200]
    with runs.Server(lambda r: runs.Reply(answers.pop(0) if answers else 200)) as s:
        cfg = lib.write_config(tmp, {"format": "posthog", "posthog": {"apiKey": "phc_k"},
                                     "endpoint": s.url("/i/v0/e/")})
        e = runs.env(os.path.join(tmp, "state"))
        p, _ = runs.run(["report", "-c", cfg], e)
        lib.eq(p.returncode, 1, f"a 503 is not delivered ({runs.describe(p)})")
        kept = runs.kept_bytes(os.path.join(tmp, "state"))
        lib.eq(len(kept), 1, "the message is kept")
        time.sleep(0.01)
        p, _ = runs.run(["report", "--force", "-c", cfg], e)
        lib.eq(p.returncode, 0, f"the next run delivers ({runs.describe(p)})")
        first, again, new = s.posts
    a, b, c = (lib.strict_json(r.body) for r in (first, again, new))
    k = lib.strict_json(kept[0][1])
    lib.eq(k["sent_at"], k["batch"][0]["timestamp"], "kept with sent_at = the build time")
    lib.eq(no_sent_at(first.body), no_sent_at(kept[0][1]),
           "the first try sent the kept bytes, with its send time")
    lib.check(ms_of(a["sent_at"]) >= ms_of(k["sent_at"]), "sent at or after it was built")
    ea, eb = a["batch"][0], b["batch"][0]
    lib.eq(eb, ea, "the resent event is the kept one: the same uuid, timestamp and properties")
    lib.eq(again.header("Idempotency-Key"), first.header("Idempotency-Key"), "the same key")
    lib.check(ms_of(b["sent_at"]) > ms_of(a["sent_at"]), f"a new sent_at: {a['sent_at']} then "
              f"{b['sent_at']}")
    lib.eq(no_sent_at(again.body), no_sent_at(first.body), "byte for byte but sent_at")
    lib.check(c["batch"][0]["uuid"] != ea["uuid"], "a new message has a new uuid")
    lib.check(c["batch"][0]["uuid"] > ea["uuid"], "UUID v7s sort by time")
    for r in (first, again, new):
        check_date(r, f"POST {r.target}")


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
