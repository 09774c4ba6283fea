"""The roots compiled into the binary are what `report` trusts when no CA file is
given, and they are Debian's ca-certificates bundle."""
import os
import subprocess

import lib
import peers

BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def build_with_roots(tmp, bundle):
    """Builds a variant binary whose compiled-in roots are `bundle` (reusing the main
    build's BearSSL objects); returns its path."""
    out = os.path.join(tmp, "variant")
    p = subprocess.run(["make", "-s", "-C", lib.TOP, f"B={out}", "BRB=build",
                        f"CA_BUNDLE={bundle}", f"{out}/anontel"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    lib.eq(p.returncode, 0, f"variant build: {p.stdout[-2000:]!r}")
    return os.path.join(out, "anontel")


def test_version_counts_debians_bundle(tmp):
    with open(BUNDLE) as f:
        want = f.read().count("-----BEGIN CERTIFICATE-----")
    p = lib.run(["--version"])
    lib.check(f"roots: {want} compiled in".encode() in p.stdout,
              f"--version names {want} roots: {p.stdout!r}")


def test_compiled_roots_are_the_ones_used(tmp):
    variant = build_with_roots(tmp, peers.certs().root)
    with peers.TLSServer() as s:
        cfg = peers.config(tmp, {"endpoint": s.url()})
        # The shipped binary does not know the test CA...
        p, _ = peers.report(tmp, cfg)
        peers.expect_failure(p, 1, "not trusted", "shipped roots, test server")
        # ...the variant, with the test CA compiled in and no file named, delivers,
        # and opens no certificate file to do it.
        log = os.path.join(tmp, "strace.log")
        env = peers.new_env(tmp)
        cmd = ["strace", "-f", "-qq", "-e", "trace=open,openat", "-o", log, variant,
               "report", "--force", "-c", cfg]
        p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=30)
        peers.expect_delivered(p, s, "compiled-in test root")
        with open(log) as f:
            opened = f.read()
        for needle in ("/etc/ssl", ".pem", ".crt"):
            lib.check(needle not in opened, f"a certificate file was opened: {needle}")
