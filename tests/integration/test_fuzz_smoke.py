"""The fuzz targets (tests/fuzz/, docs/SECURITY.md "Fuzzing") build and run clean for
a few seconds each over their seed corpus: one test per target, each bounded to
FUZZ_SMOKE_SECS (2 s) of fuzzing plus start-up, about a minute for all fourteen. A finding
fails the test and names the log (build/fuzz/smoke-<target>.log) and the saved
input (build/fuzz/artifacts/<target>/). Inputs recorded in tests/fuzz/crashes/ are
replayed too. The long runs are `./build.sh fuzz` (tests/fuzz/run.sh long)."""
import os
import subprocess

import lib

RUN = os.path.join(lib.TOP, "tests", "fuzz", "run.sh")
SECONDS = "2"


def smoke(tmp, target):
    env = dict(os.environ, FUZZ_SMOKE_SECS=SECONDS, TMPDIR=tmp)
    p = subprocess.run([RUN, "smoke", target], cwd=lib.TOP, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=600)
    out = p.stdout.decode("utf-8", "replace")
    lib.eq(p.returncode, 0, f"run.sh smoke {target}: {out[-3000:]}")
    lib.check(f"ok fuzz_{target}:" in out, f"no result line for {target}: {out[-3000:]}")


def test_fuzz_json(tmp):
    smoke(tmp, "json")


def test_fuzz_config(tmp):
    smoke(tmp, "config")


def test_fuzz_osrelease(tmp):
    smoke(tmp, "osrelease")


def test_fuzz_url(tmp):
    smoke(tmp, "url")


def test_fuzz_http(tmp):
    smoke(tmp, "http")


def test_fuzz_retry(tmp):
    smoke(tmp, "retry")


def test_fuzz_pem(tmp):
    smoke(tmp, "pem")


def test_fuzz_state(tmp):
    smoke(tmp, "state")


def test_fuzz_x509(tmp):
    smoke(tmp, "x509")


def test_fuzz_x25519(tmp):
    smoke(tmp, "x25519")


def test_fuzz_p256(tmp):
    smoke(tmp, "p256")


def test_fuzz_dns(tmp):
    smoke(tmp, "dns")


def test_fuzz_p256dh(tmp):
    smoke(tmp, "p256dh")


def test_fuzz_rsa(tmp):
    smoke(tmp, "rsa")
