"""Our X25519 and P-256 ECDH (src/x25519.c, src/p256.c: the engine's tls_ec) against
OpenSSL, and their constant time under valgrind's memcheck.

tests/x25519/tool.c is compiled here with the host compiler, src/x25519.c, src/p256.c and
the host BearSSL (HOSTBRB, else BRB, else build/: `make units` makes it), as shipped
(-Oz with link-time optimisation, SHIPPED) and at -O2.

- OpenSSL: keys made now by `openssl genpkey` (X25519; EC on P-256), and from chosen
  private keys, shared secrets by `openssl pkeyutl -derive`, and peer keys OpenSSL is
  handed as raw bytes (X25519: random u, top bit set, u >= p; P-256: G, -G, the points
  with x = 0 and y = p - 1): our public keys and secrets must be OpenSSL's, byte for
  byte. P-256 points off the curve or with a coordinate >= p: OpenSSL will not load
  them, and we refuse them.
- Constant time ("ctgrind"): memcheck treats bytes marked undefined
  (VALGRIND_MAKE_MEM_UNDEFINED) as secret and reports every branch, conditional move or
  memory address computed from them. `tool ct` marks the scalars so and runs the key
  share and both shared secrets of RFC 7748 6.1, and a key share and the shared secret
  of RFC 5903 8.1 (P-256), through tls_ec: memcheck must report nothing, and the results
  must be right. `tool ct-control` adds one branch and one table lookup on a secret bit
  in the tool itself: memcheck must report both, or the check proves nothing.
"""
import os
import shutil
import subprocess

import lib

TOOL = os.path.join(lib.TOP, "tests", "x25519", "tool.c")
SRCS = [os.path.join(lib.TOP, "src", f) for f in ("x25519.c", "p256.c")]
BR = os.environ.get("BEARSSL", os.path.join(lib.TOP, "third_party", "bearssl"))
BRB = os.environ.get("HOSTBRB", os.environ.get("BRB", os.path.join(lib.TOP, "build")))
LIBBR = os.path.join(BRB, "host", "libbearssl.a")
SECRET_USE = ("Conditional jump or move depends on uninitialised value",
              "Use of uninitialised value")

# DER prefixes of an X25519 private key (PKCS #8) and public key (SPKI), RFC 8410.
PRIV_DER = bytes.fromhex("302e020100300506032b656e04220420")
PUB_DER = bytes.fromhex("302a300506032b656e032100")
# P-256: a private key (SEC 1 / RFC 5915) without its public key (OpenSSL computes
# it; genpkey's keys hold it: 0x30 0x77 and 121 bytes), and the SPKI prefix (RFC 5480).
P256_OID = bytes.fromhex("a00a06082a8648ce3d030107")
P256_PRIV_IN = bytes.fromhex("30310201010420")
P256_PUB_DER = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200")
P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551
P256_P = 2**256 - 2**224 + 2**192 + 2**96 - 1
P256_G = bytes.fromhex("046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
                       "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5")
# Points on P-256 with x = 0 and with y = p - 1 (test_p256.c's X0_Q and YP1_Q).
P256_X0 = bytes.fromhex("04" + "00" * 32 +
                        "66485c780e2f83d72433bd5d84a06bb6541c2af31dae871728bf856a174f93f4")
P256_YP1 = bytes.fromhex("046916fac45e568b6b9e2e2ecd611b282e5fcc40a3067d601057f879ce5a8a73cc"
                         "ffffffff00000001000000000000000000000000fffffffffffffffffffffffe")


# The Makefile's optimisation for the shipped binary: -Oz, and link-time optimisation
# across our objects (which may inline tls_ec's code into its callers) at a fixed address.
SHIPPED = "-Oz -flto=auto -fno-pie -no-pie"


def build(tmp, opt):
    cc = os.environ.get("HOSTCC", "gcc")
    lib.check(os.path.exists(LIBBR), f"{LIBBR} missing: `make units` builds it (BRB=... for a worktree)")
    out = os.path.join(tmp, "tool" + opt.split()[0])
    p = subprocess.run([cc, "-std=c11", "-D_DEFAULT_SOURCE", "-Wall", "-Wextra", "-Werror", "-g"] + opt.split() + [
                        "-I" + os.path.join(lib.TOP, "src"), "-I" + os.path.join(BR, "inc"),
                        "-o", out, TOOL] + SRCS + [LIBBR],
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


def p256_key_files(tmp, name, priv=None):
    """(private PEM path, public PEM path, raw private, raw public point): made by
    genpkey, or from the raw private key given."""
    path = os.path.join(tmp, name + ".pem")
    if priv is None:
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path)
    else:
        with open(path, "wb") as f:
            f.write(openssl("pkey", "-inform", "DER", data=P256_PRIV_IN + priv + P256_OID))
    der = openssl("pkey", "-in", path, "-outform", "DER")
    lib.check(der[2:7] == P256_PRIV_IN[2:] and der[39:51] == P256_OID and len(der) in (51, 121),
              f"{name}: private key DER {der.hex()}")
    pub_der = openssl("pkey", "-in", path, "-pubout", "-outform", "DER")
    lib.check(pub_der.startswith(P256_PUB_DER) and len(pub_der) == 91, f"{name}: public key DER")
    return path, p256_peer_file(tmp, name, pub_der[-65:]), der[7:39], pub_der[-65:]


def p256_peer_file(tmp, name, q):
    """A P-256 public key file holding the point given (65 bytes), or None when OpenSSL
    will not load it."""
    pub = os.path.join(tmp, name + ".pub.pem")
    p = subprocess.run(["openssl", "pkey", "-pubin", "-inform", "DER", "-out", pub],
                       input=P256_PUB_DER + q, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    return pub if p.returncode == 0 else None


def test_openssl_keys_and_secrets(tmp):
    exe = build(tmp, SHIPPED)
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


def test_low_order_peer_keys_refused_as_openssl_refuses_them(tmp):
    """A peer key of low order makes the shared secret all zeros: RFC 8422 5.11 says
    abort, OpenSSL's derive fails, and our mul returns 0 (the engine then aborts the
    handshake). A key of full order next to them is derived by both."""
    exe = build(tmp, SHIPPED)
    path, _, priv, _ = key_files(tmp, "me")
    p = (1 << 255) - 19
    low = [0, 1, p - 1,
           int.from_bytes(bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd86620516"
                                        "5f49b800"), "little"),                  # order 8
           int.from_bytes(bytes.fromhex("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd"
                                        "09f1157"), "little")]                   # order 8
    for i, u in enumerate(low + [9]):
        raw = u.to_bytes(32, "little")
        d = subprocess.run(["openssl", "pkeyutl", "-derive", "-inkey", path, "-peerkey",
                            peer_file(tmp, f"low{i}", raw)], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        ours = tool(exe, "mul", priv.hex(), raw.hex())
        if u == 9:
            lib.eq(d.returncode, 0, "OpenSSL derives with the generator")
            lib.eq(ours, d.stdout.hex(), "and so do we, the same secret")
        else:
            lib.check(d.returncode != 0, f"OpenSSL refuses u = {raw.hex()}")
            lib.eq(ours, "refused", f"u = {raw.hex()}")


def test_openssl_odd_peer_keys(tmp):
    exe = build(tmp, SHIPPED)
    path, _, priv, _ = key_files(tmp, "me")
    p = (1 << 255) - 19
    odd = [os.urandom(32) for _ in range(6)]                   # twist points, top bit random
    odd += [(p + 9).to_bytes(32, "little"),                    # u >= p: taken mod p
            ((1 << 255) - 1).to_bytes(32, "little"),
            (9 | 1 << 255).to_bytes(32, "little")]             # top bit set: ignored
    for i, u in enumerate(odd):
        want = openssl("pkeyutl", "-derive", "-inkey", path, "-peerkey", peer_file(tmp, f"u{i}", u)).hex()
        lib.eq(tool(exe, "mul", priv.hex(), u.hex()), want, f"peer u {u.hex()}")


def test_openssl_p256_keys_and_secrets(tmp):
    exe = build(tmp, SHIPPED)
    keys = [p256_key_files(tmp, f"k{i}") for i in range(5)]
    # Chosen private keys: 1, 2, n - 1, n - 2, and the largest the engine draws
    # (2^255 - 1: BearSSL clears the top bit).
    for d in (1, 2, P256_N - 1, P256_N - 2, 2**255 - 1):
        keys.append(p256_key_files(tmp, f"d{d:x}", d.to_bytes(32, "big")))
    lib.eq(keys[5][3], P256_G, "the key 1's public key is G")
    for i, (_, _, priv, pub) in enumerate(keys):
        lib.eq(tool(exe, "p256-mulgen", priv.hex()), pub.hex(), f"public key {i}")
    for i, (path, _, priv, _) in enumerate(keys):
        for j, (_, peer, _, ppub) in enumerate(keys):
            if i == j:
                continue
            want = openssl("pkeyutl", "-derive", "-inkey", path, "-peerkey", peer).hex()
            got = tool(exe, "p256-mul", priv.hex(), ppub.hex())
            lib.eq(got[2:66], want, f"secret {i} x {j}")


def test_openssl_p256_peer_points(tmp):
    exe = build(tmp, SHIPPED)
    path, _, priv, _ = p256_key_files(tmp, "me")
    y = int.from_bytes(P256_G[33:], "big")
    good = {"G": P256_G, "-G": P256_G[:33] + (P256_P - y).to_bytes(32, "big"),
            "x=0": P256_X0, "y=p-1": P256_YP1}
    for name, q in good.items():
        peer = p256_peer_file(tmp, f"good-{name}", q)
        lib.check(peer, f"OpenSSL loads the point {name}")
        want = openssl("pkeyutl", "-derive", "-inkey", path, "-peerkey", peer).hex()
        lib.eq(tool(exe, "p256-mul", priv.hex(), q.hex())[2:66], want, f"peer {name}")
    bad = {"off the curve": P256_G[:64] + bytes([P256_G[64] ^ 1]),
           "x = p": b"\x04" + P256_P.to_bytes(32, "big") + P256_X0[33:],
           "y = p + 1": P256_YP1[:33] + (P256_P + 1).to_bytes(32, "big"),
           "infinity's zeros": b"\x04" + bytes(64)}
    for name, q in bad.items():
        lib.check(p256_peer_file(tmp, "bad", q) is None, f"OpenSSL refuses the point {name}")
        lib.eq(tool(exe, "p256-mul", priv.hex(), q.hex()), "refused", f"we refuse the point {name}")


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
    for opt in (SHIPPED, "-O2"):
        exe = build(tmp, opt)
        p, text = memcheck(tmp, exe, "ct")
        lib.eq(p.stdout.decode().strip(), "results right", f"{opt}: results ({text[-1500:]})")
        lib.eq(p.returncode, 0, f"{opt}: exit status")
        for what in SECRET_USE:
            lib.check(what not in text, f"{opt}: a secret-dependent use in tls_ec:\n{text[-4000:]}")
        lib.check("ERROR SUMMARY: 0 errors" in text, f"{opt}: memcheck errors:\n{text[-4000:]}")


def test_constant_time_check_sees_a_secret_branch(tmp):
    exe = build(tmp, SHIPPED)
    p, text = memcheck(tmp, exe, "ct-control")
    lib.eq(p.stdout.decode().strip(), "results right", f"results ({text[-1500:]})")
    for what in SECRET_USE:
        lib.check(what in text, f"memcheck did not report the control's {what!r}:\n{text[-3000:]}")
    lib.check("tool.c" in text, f"the reports name tool.c:\n{text[-3000:]}")
    lib.check("x25519.c" not in text and "p256.c" not in text,
              f"a report in x25519.c or p256.c:\n{text[-3000:]}")
