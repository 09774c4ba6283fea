"""Our X25519 (src/x25519.c, the engine's tls_ec) against OpenSSL, and its constant time
under valgrind's memcheck.

tests/x25519/tool.c is compiled here with the host compiler, src/x25519.c and the host
BearSSL (HOSTBRB, else BRB, else build/: `make units` makes it), at -Os (as shipped) and
-O2.

- OpenSSL: keys made now by `openssl genpkey -algorithm X25519`, shared secrets by
  `openssl pkeyutl -derive`, and peer keys OpenSSL is handed as raw bytes (random u,
  top bit set, u >= p): our public keys and secrets must be OpenSSL's, byte for byte.
- Constant time ("ctgrind"): memcheck treats bytes marked undefined
  (VALGRIND_MAKE_MEM_UNDEFINED) as secret and reports every branch, conditional move or
  memory address computed from them. `tool ct` marks the scalars so and runs the key
  share and both shared secrets of RFC 7748 6.1 through tls_ec: memcheck must report
  nothing, and the results must be right. `tool ct-control` adds one branch and one table
  lookup on a secret bit in the tool itself: memcheck must report both, or the check
  proves nothing.
"""
import os
import shutil
import subprocess

import lib

TOOL = os.path.join(lib.TOP, "tests", "x25519", "tool.c")
SRC = os.path.join(lib.TOP, "src", "x25519.c")
BR = os.environ.get("BEARSSL", os.path.join(lib.TOP, "third_party", "bearssl"))
BRB = os.environ.get("HOSTBRB", os.environ.get("BRB", os.path.join(lib.TOP, "build")))
LIBBR = os.path.join(BRB, "host", "libbearssl.a")
SECRET_USE = ("Conditional jump or move depends on uninitialised value",
              "Use of uninitialised value")

# DER prefixes of an X25519 private key (PKCS #8) and public key (SPKI), RFC 8410.
PRIV_DER = bytes.fromhex("302e020100300506032b656e04220420")
PUB_DER = bytes.fromhex("302a300506032b656e032100")


def build(tmp, opt):
    cc = os.environ.get("HOSTCC", "gcc")
    lib.check(os.path.exists(LIBBR), f"{LIBBR} missing: `make units` builds it (BRB=... for a worktree)")
    out = os.path.join(tmp, f"tool{opt}")
    p = subprocess.run([cc, "-std=c11", "-D_DEFAULT_SOURCE", "-Wall", "-Wextra", "-Werror", "-g", opt,
                        "-I" + os.path.join(lib.TOP, "src"), "-I" + os.path.join(BR, "inc"),
                        "-o", out, TOOL, SRC, LIBBR],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    lib.eq(p.returncode, 0, f"{cc} {opt} tool.c: {p.stdout.decode()[-2000:]}")
    return out


def tool(exe, *args):
    p = subprocess.run([exe] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    lib.eq(p.returncode, 0, f"tool {args}: {p.stderr!r}")
    return p.stdout.decode().strip()


def openssl(*args, data=None):
    p = subprocess.run(["openssl"] + list(args), input=data, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    lib.eq(p.returncode, 0, f"openssl {' '.join(args)}: {p.stderr.decode()[-500:]}")
    return p.stdout


def key_files(tmp, name, priv=None):
    """(private PEM path, public PEM path, raw private, raw public): made by genpkey, or
    from the raw private bytes given."""
    path = os.path.join(tmp, name + ".pem")
    if priv is None:
        openssl("genpkey", "-algorithm", "X25519", "-out", path)
    else:
        with open(path, "wb") as f:
            f.write(openssl("pkey", "-inform", "DER", data=PRIV_DER + priv))
    der = openssl("pkey", "-in", path, "-outform", "DER")
    pub_der = openssl("pkey", "-in", path, "-pubout", "-outform", "DER")
    lib.check(der.startswith(PRIV_DER) and len(der) == 48, f"{name}: private key DER {der.hex()}")
    lib.check(pub_der.startswith(PUB_DER) and len(pub_der) == 44, f"{name}: public key DER")
    pub = os.path.join(tmp, name + ".pub.pem")
    with open(pub, "wb") as f:
        f.write(openssl("pkey", "-pubin", "-inform", "DER", data=pub_der))
    return path, pub, der[-32:], pub_der[-32:]


def peer_file(tmp, name, u):
    """A public key file holding the raw u given (any 32 bytes)."""
    pub = os.path.join(tmp, name + ".pub.pem")
    with open(pub, "wb") as f:
        f.write(openssl("pkey", "-pubin", "-inform", "DER", data=PUB_DER + u))
    return pub


def test_openssl_keys_and_secrets(tmp):
    exe = build(tmp, "-Os")
    keys = [key_files(tmp, f"k{i}") for i in range(6)]
    # Scalars OpenSSL must clamp as we do: all bits clear, all bits set.
    keys.append(key_files(tmp, "zeros", bytes(32)))
    keys.append(key_files(tmp, "ones", b"\xff" * 32))
    for i, (_, _, priv, pub) in enumerate(keys):
        lib.eq(tool(exe, "mulgen", priv.hex()), pub.hex(), f"public key {i}")
    for i, (path, _, priv, _) in enumerate(keys):
        for j, (_, peer, _, ppub) in enumerate(keys):
            if i == j:
                continue
            want = openssl("pkeyutl", "-derive", "-inkey", path, "-peerkey", peer).hex()
            lib.eq(tool(exe, "mul", priv.hex(), ppub.hex()), want, f"secret {i} x {j}")


def test_openssl_odd_peer_keys(tmp):
    exe = build(tmp, "-Os")
    path, _, priv, _ = key_files(tmp, "me")
    p = (1 << 255) - 19
    odd = [os.urandom(32) for _ in range(6)]                   # twist points, top bit random
    odd += [(p + 9).to_bytes(32, "little"),                    # u >= p: taken mod p
            ((1 << 255) - 1).to_bytes(32, "little"),
            (9 | 1 << 255).to_bytes(32, "little")]             # top bit set: ignored
    for i, u in enumerate(odd):
        want = openssl("pkeyutl", "-derive", "-inkey", path, "-peerkey", peer_file(tmp, f"u{i}", u)).hex()
        lib.eq(tool(exe, "mul", priv.hex(), u.hex()), want, f"peer u {u.hex()}")


def memcheck(tmp, exe, mode):
    vg = shutil.which("valgrind")
    lib.check(vg, "valgrind missing: build.sh test installs it")
    log = os.path.join(tmp, f"{os.path.basename(exe)}-{mode}.log")
    p = subprocess.run([vg, "--tool=memcheck", "--track-origins=yes", f"--log-file={log}", exe, mode],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    with open(log) as f:
        text = f.read()
    return p, text


def test_constant_time_under_memcheck(tmp):
    for opt in ("-Os", "-O2"):
        exe = build(tmp, opt)
        p, text = memcheck(tmp, exe, "ct")
        lib.eq(p.stdout.decode().strip(), "results right", f"{opt}: results ({text[-1500:]})")
        lib.eq(p.returncode, 0, f"{opt}: exit status")
        for what in SECRET_USE:
            lib.check(what not in text, f"{opt}: a secret-dependent use in x25519.c:\n{text[-4000:]}")
        lib.check("ERROR SUMMARY: 0 errors" in text, f"{opt}: memcheck errors:\n{text[-4000:]}")


def test_constant_time_check_sees_a_secret_branch(tmp):
    exe = build(tmp, "-Os")
    p, text = memcheck(tmp, exe, "ct-control")
    lib.eq(p.stdout.decode().strip(), "results right", f"results ({text[-1500:]})")
    for what in SECRET_USE:
        lib.check(what in text, f"memcheck did not report the control's {what!r}:\n{text[-3000:]}")
    lib.check("tool.c" in text, f"the reports name tool.c:\n{text[-3000:]}")
    lib.check("x25519.c" not in text, f"a report in x25519.c:\n{text[-3000:]}")
