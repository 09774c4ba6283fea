"""format "otlp": an OTLP/HTTP JSON logs request of one LogRecord, checked against what
the OpenTelemetry JS SDK's own exporter (@opentelemetry/sdk-logs and
@opentelemetry/exporter-logs-otlp-http, from npm, installed by ./build.sh test's set-up)
sends to a local server for the same log record: path, content type, the JSON shape
(resourceLogs -> resource.attributes -> scopeLogs -> logRecords), the AnyValue encodings,
timeUnixNano as a string."""
import json
import os
import re
import subprocess

import lib
import peers

VERSION = open(os.path.join(lib.TOP, "VERSION")).read().strip()

# The SDK's exporter, given anontel's record decoded back to JavaScript values: the
# same resource, scope, times, severity, body and attributes (objects become
# kvlistValues, booleans boolValues, strings stringValues, integers intValues).
NODE_SEND = r"""
const [base, url, recordJson] = process.argv.slice(1);
const rec = JSON.parse(recordJson);
const { LoggerProvider, SimpleLogRecordProcessor } = require(base + '/@opentelemetry/sdk-logs');
const { OTLPLogExporter } = require(base + '/@opentelemetry/exporter-logs-otlp-http');
const { resourceFromAttributes } = require(base + '/@opentelemetry/resources');
const provider = new LoggerProvider({
  resource: resourceFromAttributes(rec.resource),
  processors: [new SimpleLogRecordProcessor({ exporter: new OTLPLogExporter({ url }) })],
});
provider.getLogger(rec.scope.name, rec.scope.version).emit({
  timestamp: rec.ms, observedTimestamp: rec.ms, severityNumber: rec.severityNumber,
  severityText: rec.severityText, body: rec.body, attributes: rec.attributes });
provider.shutdown().then(() => process.exit(0));
"""
# Keys the SDK writes that anontel leaves out: both are the protobuf default (0), which
# the protobuf JSON mapping lets a writer omit.
SDK_ONLY = {"droppedAttributesCount"}
NANOS = re.compile(r"^[0-9]+$")


def otel_modules():
    """node_modules of the SDK's packages (tests/npm/package-lock.json), installed by
    ./build.sh test's set-up."""
    for name in ("@opentelemetry/resources", "@opentelemetry/exporter-logs-otlp-http",
                 "@opentelemetry/sdk-logs"):
        lib.npm_module(name)
    return os.path.join(lib.NPM_DIR, "node_modules")


def any_value(v):
    """An OTLP AnyValue back to the plain value the SDK is given."""
    (kind, x), = v.items()
    if kind == "kvlistValue":
        return {kv["key"]: any_value(kv["value"]) for kv in x.get("values", [])}
    lib.check(kind in ("stringValue", "boolValue"), f"an AnyValue anontel writes: {kind}")
    return x


def attributes(kvs):
    return {kv["key"]: any_value(kv["value"]) for kv in kvs}


def drop_defaults(v):
    """v without the SDK's zero counts, at every level."""
    if isinstance(v, dict):
        return {k: drop_defaults(x) for k, x in v.items() if k not in SDK_ONLY}
    if isinstance(v, list):
        return [drop_defaults(x) for x in v]
    return v


def send_otlp(tmp, server, extra=None, env=None):
    obj = {"format": "otlp", "endpoint": server.url("/v1/logs", host="127.0.0.1"),
           "service": "butler", "serviceVersion": "5.1.0", "runtimeVersion": "v20.11.1",
           "enabledFeatures": {"api": {"butlerping": True, "scheduler": {"getSchedule": False}},
                               "beta": True, "empty": {}}}
    obj.update(extra or {})
    cfg = peers.config(tmp, obj)
    env = env or peers.new_env(tmp)
    p, _ = peers.report(tmp, cfg, env=env)
    return p, cfg, env


def test_request_is_what_the_sdk_exporter_sends(tmp):
    mods = otel_modules()
    with peers.TLSServer(tls=False) as s:
        p, cfg, env = send_otlp(tmp, s)
        peers.expect_delivered(p, s, "otlp format")
        ours = s.requests[0]
        body = lib.strict_json(ours.body)
        rl = body["resourceLogs"][0]
        sl = rl["scopeLogs"][0]
        rec = sl["logRecords"][0]
        ms = int(rec["timeUnixNano"]) // 1000000
        lib.eq(int(rec["timeUnixNano"]), ms * 1000000, "a time in whole milliseconds")
        given = {"resource": attributes(rl["resource"]["attributes"]), "scope": sl["scope"],
                 "ms": ms, "severityNumber": rec["severityNumber"],
                 "severityText": rec["severityText"], "body": any_value(rec["body"]),
                 "attributes": attributes(rec["attributes"])}
        node = subprocess.run(["node", "-e", NODE_SEND, mods, s.url("/v1/logs", host="127.0.0.1"),
                               json.dumps(given)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        lib.eq(node.returncode, 0, f"the SDK's exporter: {node.stdout[-800:]!r}")
        lib.eq(len(s.requests), 2, "the SDK sent one request")
        ref = s.requests[1]
    ref_body = lib.strict_json(ref.body)
    ident = lib.run(["id", "-c", cfg], env=env).stdout.decode().strip()

    lib.eq((ours.method, ours.target), (ref.method, ref.target), "method and path /v1/logs")
    lib.eq(ours.header("Content-Type"), ref.header("Content-Type"), "content type")
    lib.eq(ours.header("Content-Type"), ["application/json"], "application/json")
    # The whole request, but the SDK's zero counts: every key, every AnyValue encoding,
    # every array and the times as decimal strings.
    lib.eq(body, drop_defaults(ref_body), "anontel's request is the SDK's for the same record")
    lib.eq(list(body), ["resourceLogs"], "resourceLogs at the top")
    lib.eq(list(rl), ["resource", "scopeLogs"], "resource, scopeLogs")
    lib.eq(rl["resource"]["attributes"],
           [{"key": "service.name", "value": {"stringValue": "butler"}},
            {"key": "service.version", "value": {"stringValue": "5.1.0"}}], "resource attributes")
    lib.eq(sl["scope"], {"name": "anontel", "version": VERSION}, "scope")
    for key in ("timeUnixNano", "observedTimeUnixNano"):
        lib.check(isinstance(rec[key], str) and NANOS.match(rec[key]), f"{key} is a string")
    lib.eq((rec["severityNumber"], rec["severityText"]), (9, "INFO"), "severity")
    attrs = {kv["key"]: kv["value"] for kv in rec["attributes"]}
    lib.eq(attrs["system.id"], {"stringValue": ident}, "the instance ID")
    lib.eq(attrs["system.virtual"], {"boolValue": attrs["system.virtual"].get("boolValue")},
           "system.virtual is a boolValue")
    lib.check(isinstance(attrs["system.virtual"]["boolValue"], bool), "a JSON boolean")
    lib.eq(attrs["system.nodeVersion"], {"stringValue": "v20.11.1"}, "runtimeVersion")
    lib.eq(attrs["enabledFeatures"], {"kvlistValue": {"values": [
        {"key": "api", "value": {"kvlistValue": {"values": [
            {"key": "butlerping", "value": {"boolValue": True}},
            {"key": "scheduler", "value": {"kvlistValue": {"values": [
                {"key": "getSchedule", "value": {"boolValue": False}}]}}}]}}},
        {"key": "beta", "value": {"boolValue": True}},
        {"key": "empty", "value": {"kvlistValue": {"values": []}}}]}},
        "features as nested kvlistValues, in file order")
    lib.eq([kv["key"] for kv in rec["attributes"]],
           ["system.id", "system.arch", "system.platform", "system.release", "system.distro",
            "system.codename", "system.virtual", "system.nodeVersion", "enabledFeatures"],
           "the message's fields as attributes")


def test_the_sdk_writes_integers_as_intvalue(tmp):
    """No anontel field is an integer; if one comes, it is an intValue. The SDK writes a
    JSON number; anontel would write the decimal string the protobuf JSON mapping gives a
    64-bit integer (as it does for timeUnixNano). Both parse in the Collector."""
    mods = otel_modules()
    given = {"resource": {"service.name": "x"}, "scope": {"name": "s", "version": "1"},
             "ms": 1614770035862, "severityNumber": 9, "severityText": "INFO", "body": "b",
             "attributes": {"n": 42}}
    with peers.TLSServer(tls=False) as s:
        node = subprocess.run(["node", "-e", NODE_SEND, mods, s.url("/v1/logs", host="127.0.0.1"),
                               json.dumps(given)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        lib.eq(node.returncode, 0, f"the SDK's exporter: {node.stdout[-800:]!r}")
        rec = lib.strict_json(s.requests[0].body)["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]
    lib.eq(rec["attributes"], [{"key": "n", "value": {"intValue": 42}}], "the SDK's intValue")
    lib.eq(rec["timeUnixNano"], "1614770035862000000", "the SDK's time: a decimal string")


def test_show_prints_what_is_sent(tmp):
    with peers.TLSServer(tls=False) as s:
        env = peers.new_env(tmp)
        cfg = peers.config(tmp, {"format": "otlp", "endpoint": s.url("/v1/logs", host="127.0.0.1"),
                                 "enabledFeatures": {"a": {"b": True}}})
        shown = peers.show(tmp, cfg, env=env)
        p, _ = peers.report(tmp, cfg, env=env)
        peers.expect_delivered(p, s, "otlp")
        sent = s.requests[0].body
    nanos = re.compile(rb'"(time|observedTime)UnixNano":"[0-9]+"')
    lib.eq(nanos.sub(b"T", sent), nanos.sub(b"T", shown), "show's bytes, times aside")
    pretty = lib.run(["show", "--pretty", "-c", cfg], env=env)
    lib.eq(pretty.returncode, 0, f"show --pretty ({peers.describe(pretty)})")
    want = json.dumps(lib.strict_json(pretty.stdout), indent=2).encode() + b"\n"
    lib.eq(pretty.stdout, want, "show --pretty is JSON.stringify(v, null, 2)'s layout")


def test_otlp_needs_no_config_file(tmp):
    """A scratch image: the format, service and features from the environment alone."""
    features = lib.write_config(tmp, {"api": {"x": True}}, name="features.json")
    with peers.TLSServer(tls=False) as s:
        env = peers.new_env(tmp, ANONTEL_FORMAT="otlp", ANONTEL_SERVICE="svc",
                            ANONTEL_SERVICE_VERSION="2.0.0", ANONTEL_FEATURES_FILE=features,
                            ANONTEL_ENDPOINT=s.url("/v1/logs", host="127.0.0.1"))
        p, _ = peers.report(tmp, env=env)
        peers.expect_delivered(p, s, "otlp from the environment")
        body = lib.strict_json(s.requests[0].body)
    rl = body["resourceLogs"][0]
    lib.eq(attributes(rl["resource"]["attributes"]),
           {"service.name": "svc", "service.version": "2.0.0"}, "service from the environment")
    rec = rl["scopeLogs"][0]["logRecords"][0]
    lib.eq(attributes(rec["attributes"])["enabledFeatures"], {"api": {"x": True}},
           "features from ANONTEL_FEATURES_FILE")
