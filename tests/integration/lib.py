"""Helpers shared by the integration tests: run the built binary, parse JSON
strictly, make configs and temporary trees. Tests call check()/eq() instead of
bare `assert` so a check never vanishes under `python -O`."""
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(TOP, "build", "anontel")

# Variables that change anontel's behaviour; removed from every run unless a test sets them.
ANONTEL_ENV = ["ANONTEL_CONFIG", "ANONTEL_ENDPOINT", "ANONTEL_STATE_DIR", "ANONTEL_DISABLED",
               "ANONTEL_ID", "DO_NOT_TRACK", "SSL_CERT_FILE", "https_proxy", "HTTPS_PROXY",
               "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY", "http_proxy", "HTTP_PROXY",
               "ANONTEL_SERVICE", "ANONTEL_SERVICE_VERSION", "ANONTEL_FORMAT",
               "ANONTEL_FEATURES_FILE", "ANONTEL_HEADERS_FILE"]

# What a test says when something ./build.sh test's set-up fetches is missing: the tests
# themselves never fetch (their traffic stays on loopback).
SETUP = "run ./build.sh setup (./build.sh test's set-up)"

# Receivers' own client libraries (npm, pinned by tests/npm/package-lock.json), installed
# into build/npm (git-ignored) by the set-up, which writes the lock's SHA-256 to build/npm/.ok.
NPM_DIR = os.path.join(TOP, "build", "npm")
NPM_LOCK = os.path.join(TOP, "tests", "npm", "package-lock.json")


class CheckFailed(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise CheckFailed(msg)


def eq(got, want, what):
    if got != want:
        raise CheckFailed(f"{what}: got {got!r}, want {want!r}")


def _refuse_constant(name):
    raise ValueError(f"non-standard JSON constant {name}")


def strict_json(data):
    """Parses bytes as strict JSON: UTF-8, no NaN/Infinity, no duplicate keys."""
    def pairs(items):
        keys = [k for k, _ in items]
        check(len(keys) == len(set(keys)), f"duplicate keys in {keys}")
        return dict(items)
    text = data.decode("utf-8", "strict") if isinstance(data, bytes) else data
    return json.loads(text, parse_constant=_refuse_constant, object_pairs_hook=pairs)


def base_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ANONTEL_ENV}
    env.update({k: v for k, v in extra.items() if v is not None})
    return env


def run(args, env=None, timeout=30, binary=BIN, **kw):
    """Runs anontel with args; returns CompletedProcess with bytes stdout/stderr."""
    return subprocess.run([binary] + list(args), env=env if env is not None else base_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, timeout=timeout, **kw)


def write_config(dirpath, obj_or_text, name="config.json"):
    path = os.path.join(dirpath, name)
    mode = "wb" if isinstance(obj_or_text, bytes) else "w"
    with open(path, mode) as f:
        f.write(obj_or_text if isinstance(obj_or_text, (str, bytes)) else json.dumps(obj_or_text))
    return path


@contextlib.contextmanager
def scratch_dir():
    d = tempfile.mkdtemp(prefix="anontel-test-")
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def table_tests(namespace, prefix, rows, run_row):
    """Makes one test per table row in namespace (a module's globals()): prefix + row[0]
    runs run_row(tmp, *row), so a failure names its row and one row can run alone."""
    def make(row):
        def test(tmp):
            run_row(tmp, *row)
        test.__name__ = prefix + row[0]
        return test
    for row in rows:
        namespace[prefix + row[0]] = make(row)


def npm_module(name):
    """The path of npm module `name` in NPM_DIR. Fails with one line when the set-up has not
    installed tests/npm/package-lock.json there as it stands: a test never fetches."""
    mod = os.path.join(NPM_DIR, "node_modules", name)
    with open(NPM_LOCK, "rb") as f:
        want = hashlib.sha256(f.read()).hexdigest()
    try:
        with open(os.path.join(NPM_DIR, ".ok")) as f:
            got = f.read().strip()
    except FileNotFoundError:
        got = None
    check(got == want and os.path.isfile(os.path.join(mod, "package.json")),
          f"npm module {name} is not installed from tests/npm/package-lock.json in "
          f"build/npm: {SETUP}")
    return mod
