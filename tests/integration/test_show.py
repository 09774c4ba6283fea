"""`anontel show`: the exact message, in Butler's format, about this machine."""
import json
import os
import re
import shutil
import subprocess

import lib

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

# Butler 5.1's enabledFeatures, from its telemetry page: under "api" 18 flags and the
# "scheduler" object with 7 more (25 booleans), and 19 "feature" flags.
BUTLER_FEATURES = json.loads("""{
 "api": {"activeUserCount": true, "activeUsers": true, "apiListEnbledEndpoints": true,
  "base62ToBase16": true, "base16ToBase62": true, "butlerping": true, "createDir": true,
  "createDirQVD": true, "fileDelete": true, "fileMove": true, "fileCopy": true,
  "keyValueStore": true, "mqttPublishMessage": true,
  "scheduler": {"createNewSchedule": true, "getSchedule": true, "getScheduleStatusAll": true,
   "updateSchedule": true, "deleteSchedule": true, "startSchedule": true, "stopSchedule": true},
  "senseAppReload": true, "senseAppDump": true, "senseListApps": true, "senseStartTask": true,
  "slackPostMessage": true},
 "feature": {"heartbeat": false, "dockerHealthCheck": false, "uptimeMonitor": true,
  "uptimeMonitor_storeInInfluxdb": false, "teamsNotification": true,
  "teamsNotification_reloadTaskFailure": true, "teamsNotification_reloadTaskAborted": true,
  "slackNotification": true, "slackNotification_reloadTaskFailure": true,
  "slackNotification_reloadTaskAborted": true, "emailNotification": true,
  "emailNotification_reloadTaskFailure": true, "emailNotification_reloadTaskAborted": true,
  "webhookNotification": false, "webhookNotification_reloadTaskFailure": false,
  "webhookNotification_reloadTaskAborted": false, "scheduler": true, "mqtt": true,
  "userActivityLogging": false}
}""")


def leaves(obj):
    n = 0
    for v in obj.values():
        n += leaves(v) if isinstance(v, dict) else 1
    return n


def ordered(data):
    """Parses strictly, keeping key order as lists of pairs."""
    lib.strict_json(data)
    return json.loads(data, object_pairs_hook=lambda p: p)


def show(tmp, *args, config=None, **env):
    argv = ["show"] + list(args)
    if config is not None:
        argv += ["-c", lib.write_config(tmp, config)]
    p = lib.run(argv, env=lib.base_env(ANONTEL_STATE_DIR=os.path.join(tmp, "state"), **env))
    lib.eq(p.returncode, 0, f"exit status (stderr: {p.stderr!r})")
    return p


def os_release():
    vals = {}
    with open("/etc/os-release") as f:
        for line in f:
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                vals[k] = v.strip('"')
    return vals


def test_one_line_in_butler_order(tmp):
    # `id` first: the default scheme auto may choose a random ID, which show only reads.
    lib.run(["id"], env=lib.base_env(ANONTEL_STATE_DIR=os.path.join(tmp, "state")))
    p = show(tmp)
    out = p.stdout
    lib.check(out.endswith(b"\n") and out.count(b"\n") == 1, f"not one line: {out!r}")
    top = ordered(out)
    lib.eq([k for k, _ in top], ["ts", "data"], "envelope keys")
    lib.check(TS.match(dict(top)["ts"]), f"ts format: {dict(top)['ts']}")
    data = dict(top)["data"]
    lib.eq([k for k, _ in data], ["service", "serviceVersion", "system", "enabledFeatures"],
           "data keys")
    system = dict(dict(data)["system"])
    lib.eq(list(system), ["id", "arch", "platform", "release", "distro", "codename", "virtual"],
           "system keys (nodeVersion omitted when unset)")
    lib.check(re.fullmatch(r"[0-9a-f]{64}", system["id"]), f"id: {system['id']}")
    lib.eq(dict(data)["enabledFeatures"], [], "enabledFeatures when unset")
    lib.check(b"\n" not in p.stderr.rstrip(b"\n"), f"stderr is one line: {p.stderr!r}")
    lib.check(b"no endpoint configured" in p.stderr, f"destination on stderr: {p.stderr!r}")


def test_facts_of_this_machine(tmp):
    system = lib.strict_json(show(tmp).stdout)["data"]["system"]
    machine = os.uname().machine
    want_arch = {"x86_64": "x64", "aarch64": "arm64"}.get(machine, machine)
    lib.eq(system["arch"], want_arch, "arch")
    lib.eq(system["platform"], "linux", "platform")
    rel = os_release()
    if rel.get("ID") == "debian" and rel.get("VERSION_ID") == "12":
        lib.eq((system["distro"], system["release"], system["codename"]),
               ("Debian GNU/Linux", "12", "bookworm"), "distro, release, codename")
    else:
        lib.eq(system["distro"], rel.get("NAME"), "distro on a non-Debian-12 machine")


def test_virtual_agrees_with_systemd(tmp):
    tool = shutil.which("systemd-detect-virt")
    lib.check(tool, "systemd-detect-virt missing: build.sh test installs systemd")
    p = subprocess.run([tool, "--vm"], stdout=subprocess.PIPE, text=True)
    want = p.stdout.strip() != "none"
    system = lib.strict_json(show(tmp).stdout)["data"]["system"]
    lib.eq(system["virtual"], want, f"virtual vs systemd-detect-virt --vm ({p.stdout.strip()})")


def test_pretty_is_the_same_message_indented(tmp):
    compact = lib.strict_json(show(tmp, config={"enabledFeatures": BUTLER_FEATURES}).stdout)
    p = show(tmp, "--pretty", config={"enabledFeatures": BUTLER_FEATURES})
    pretty = lib.strict_json(p.stdout)
    compact["ts"] = pretty["ts"]
    lib.eq(pretty, compact, "pretty parses to the same message")
    want = json.dumps(pretty, indent=2, ensure_ascii=False) + "\n"
    lib.eq(p.stdout.decode(), want, "indentation like JSON.stringify(v, null, 2)")


def test_butler_features_verbatim_in_order(tmp):
    lib.eq(leaves(BUTLER_FEATURES["api"]), 25, "fixture api flags")
    lib.eq(leaves(BUTLER_FEATURES["feature"]), 19, "fixture feature flags")
    text = json.dumps({"service": "butler", "serviceVersion": "5.1.0",
                       "runtimeVersion": "v14.15.4", "enabledFeatures": BUTLER_FEATURES})
    out = show(tmp, config=text).stdout
    got = json.loads(out, object_pairs_hook=lambda p: p)
    data = dict(dict(got)["data"])
    want = json.loads(json.dumps(BUTLER_FEATURES), object_pairs_hook=lambda p: p)
    lib.eq(data["enabledFeatures"], want, "enabledFeatures, in file order")
    lib.eq((data["service"], data["serviceVersion"]), ("butler", "5.1.0"), "service fields")
    lib.eq(dict(data["system"])["nodeVersion"], "v14.15.4", "nodeVersion from runtimeVersion")
    lib.check(b'"enabledFeatures":{"api":{"activeUserCount":true,' in out, "compact form")


def test_envelope_false_sends_the_inner_object(tmp):
    msg = lib.strict_json(show(tmp, config={"envelope": False}).stdout)
    lib.eq(list(msg), ["service", "serviceVersion", "system", "enabledFeatures"], "keys")


def test_endpoint_precedence_on_stderr(tmp):
    cfg = {"endpoint": "https://from-file.example/x"}
    p = show(tmp, config=cfg)
    lib.check(b"https://from-file.example/x" in p.stderr, f"file endpoint: {p.stderr!r}")
    p = show(tmp, config=cfg, ANONTEL_ENDPOINT="https://from-env.example/x")
    lib.check(b"https://from-env.example/x" in p.stderr, f"env wins over file: {p.stderr!r}")
    p = show(tmp, "--endpoint", "https://from-flag.example/x", config=cfg,
             ANONTEL_ENDPOINT="https://from-env.example/x")
    lib.check(b"https://from-flag.example/x" in p.stderr, f"flag wins: {p.stderr!r}")


def test_usage_errors_exit_2(tmp):
    for args in (["show", "--bogus"], ["frobnicate"], ["show", "--explain"], ["id", "--timeout"],
                 ["show", "extra"], []):
        p = lib.run(args)
        lib.eq(p.returncode, 2, f"exit status of {args}")
        lib.eq(p.stdout, b"", f"stdout of {args}")
        lines = p.stderr.decode().splitlines()
        lib.check(len(lines) == 1 and lines[0].startswith("anontel: "), f"{args}: {lines}")


def test_help_and_version(tmp):
    p = lib.run(["--help"])
    lib.eq(p.returncode, 0, "--help exit")
    for word in (b"show", b"id", b"report", b"status", b"check", b"DO_NOT_TRACK"):
        lib.check(word in p.stdout, f"--help mentions {word}")
    p = lib.run(["--version"])
    lib.eq(p.returncode, 0, "--version exit")
    version = open(os.path.join(lib.TOP, "VERSION")).read().strip()
    lib.check(f"anontel: {version}".encode() in p.stdout, f"version line: {p.stdout!r}")
    lib.check(b"BearSSL 0.6" in p.stdout, "BearSSL version")
