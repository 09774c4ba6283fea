"""Certificate and key checks (SPEC §6): every bad server is refused with exit 1, one
line naming the cause, and the server never receives a request. Pins accept the one
key alone, with no CA and no clock."""
import os
import ssl

import lib
import peers


def _refused(tmp, server, words, what, cfg=None):
    cfg = cfg or peers.tls_config(tmp, endpoint=f"https://localhost:{server.port}/collect")
    p, secs = peers.report(tmp, cfg, ["--timeout", "5s"])
    line = peers.expect_failure(p, 1, words, what)
    lib.eq(getattr(server, "requests", []), [], f"{what}: the server received no request")
    lib.check(secs < 3, f"{what}: refused without waiting for the deadline ({secs:.2f}s)")
    return line


def test_unknown_ca(tmp):
    with peers.TLSServer() as s:
        _refused(tmp, s, ["not trusted"], "unknown CA",
                 cfg=peers.tls_config(tmp, s, ca=peers.certs().other_root))


def test_self_signed_leaf(tmp):
    with peers.TLSServer(peers.certs().selfsigned) as s:
        _refused(tmp, s, ["not trusted"], "self-signed leaf")


def test_expired_leaf(tmp):
    with peers.TLSServer(peers.certs().expired) as s:
        _refused(tmp, s, ["expired"], "expired leaf")


def test_not_yet_valid_leaf(tmp):
    with peers.TLSServer(peers.certs().notyet) as s:
        line = _refused(tmp, s, ["not yet valid"], "not-yet-valid leaf")
        lib.check("expired" not in line.lower(), f"not-yet-valid is not called expired: {line!r}")


def test_wrong_host_name(tmp):
    with peers.TLSServer(peers.certs().other) as s:
        _refused(tmp, s, ["does not match"], "certificate for other.test")


def _flipped(tmp, pem_path, name):
    """A PEM copy of the first certificate in pem_path with the last bit of its signature
    flipped: still well-formed DER (the low bit of ECDSA's s), no longer a valid signature."""
    der = bytearray(peers._first_pem_der(pem_path))
    der[-1] ^= 0x01
    path = os.path.join(tmp, name + ".pem")
    with open(path, "w") as f:
        f.write(ssl.DER_cert_to_PEM_cert(bytes(der)))
    return path


def _cat(tmp, name, *paths):
    out = os.path.join(tmp, name)
    with open(out, "w") as f:
        for p in paths:
            f.write(open(p).read())
    return out


def test_forged_p256_signatures(tmp):
    # Both signatures of the chain are ECDSA P-256 (the intermediate's by the root, the
    # leaf's by the intermediate), checked by src/p256.c: one bit off in either refuses.
    # BearSSL's X.509 engine names a bad signature inside the chain as such, and one that
    # fails against the trust anchor's key as an anchor not found.
    c = peers.certs()
    leaf = _flipped(tmp, c.ec.cert, "leaf-forged")
    inter = _flipped(tmp, c.inter, "inter-forged")
    for what, cert, chain, words in (
            ("leaf signature", leaf, _cat(tmp, "chain1.pem", leaf, c.inter),
             "signature does not verify"),
            ("intermediate signature", c.ec.cert, _cat(tmp, "chain2.pem", c.ec.cert, inter),
             "not trusted")):
        forged = peers.Leaf("forged", cert, c.ec.key, chain, c.ec.names)
        with peers.TLSServer(forged) as s:
            _refused(tmp, s, [words], f"one bit off in the {what}")


def test_forged_rsa_signatures(tmp):
    # An all-RSA chain (peers.rsa_pki: root, intermediate, leaf, made by OpenSSL), whose
    # signatures src/rsa.c checks: the last bit of the leaf's or the intermediate's
    # signature flipped refuses, as with P-256 above.
    root, good = peers.rsa_pki(2048)
    inter = good.chain.replace("chain.pem", "inter.pem")
    leaf = _flipped(tmp, good.cert, "rsa-leaf-forged")
    inter_forged = _flipped(tmp, inter, "rsa-inter-forged")
    for what, chain, words in (
            ("leaf signature", _cat(tmp, "rsa1.pem", leaf, inter), "signature does not verify"),
            ("intermediate signature", _cat(tmp, "rsa2.pem", good.cert, inter_forged),
             "not trusted")):
        forged = peers.Leaf("forged", good.cert, good.key, chain, good.names)
        with peers.TLSServer(forged) as s:
            _refused(tmp, s, [words], f"RSA: one bit off in the {what}",
                     cfg=peers.tls_config(tmp, s, ca=root))
    with peers.TLSServer(good) as s:
        p, _ = peers.report(tmp, peers.tls_config(tmp, s, ca=root))
        peers.expect_delivered(p, s, "the same RSA chain unforged")


def test_missing_intermediate(tmp):
    with peers.TLSServer(chain=False) as s:
        _refused(tmp, s, ["not trusted"], "leaf without its intermediate")


def test_wrong_pin(tmp):
    with peers.TLSServer() as s:
        _refused(tmp, s, ["pin"], "wrong pin",
                 cfg=peers.tls_config(tmp, s, pin_=peers.pin(peers.certs().rsa.cert)))


def test_wrong_pin_even_with_a_valid_chain(tmp):
    # A pin replaces the CA check: a chain that would verify does not rescue a wrong key.
    with peers.TLSServer() as s:
        cfg = peers.config(tmp, {"endpoint": s.url(), "tls": {"pin": peers.pin(peers.certs().rsa.cert)}})
        p, _ = peers.report(tmp, cfg, env=peers.new_env(tmp, SSL_CERT_FILE=peers.certs().root))
        peers.expect_failure(p, 1, ["pin"], "wrong pin, trusted chain")
        lib.eq(s.requests, [], "no request")


def test_tls13_only_server(tmp):
    with peers.TLSServer(min_tls=ssl.TLSVersion.TLSv1_3) as s:
        _refused(tmp, s, ["TLS 1.3"], "TLS 1.3-only server")


def test_server_closes_mid_handshake(tmp):
    with peers.RawServer("hello_close") as s:
        _refused(tmp, s, ["closed"], "server closes after the ClientHello")
        lib.check(peers.is_client_hello(s.hellos[0]), "the server did get a ClientHello")


def test_client_hello_offers_tls12_with_sni(tmp):
    with peers.RawServer("hello_close") as s:
        peers.report(tmp, peers.tls_config(tmp, s), ["--timeout", "2s"])
        hello = s.hellos[0]
        lib.check(peers.is_client_hello(hello), "ClientHello")
        lib.eq(hello[9:11], b"\x03\x03", "client_version TLS 1.2")
        lib.check(b"\x00\x09localhost" in hello, "server_name extension holds localhost")


def test_pin_alone_delivers(tmp):
    c = peers.certs()
    for leaf in (c.ec, c.rsa):
        with peers.TLSServer(leaf) as s:
            p, _ = peers.report(tmp, peers.tls_config(tmp, s, pin_=peers.pin(leaf.cert)))
            peers.expect_delivered(p, s, f"pin of {leaf}")


def test_pin_needs_no_ca_and_no_clock(tmp):
    c = peers.certs()
    for leaf in (c.selfsigned, c.expired, c.notyet):
        with peers.TLSServer(leaf, chain=False) as s:
            p, _ = peers.report(tmp, peers.tls_config(tmp, s, pin_=peers.pin(leaf.cert)))
            peers.expect_delivered(p, s, f"pinned {leaf}")


def test_ca_file_with_root_and_intermediate(tmp):
    # A CA file holding the intermediate as well lets a leaf-only server verify.
    both = peers.write_file(tmp, "both.pem", open(peers.certs().root).read()
                            + open(peers.certs().inter).read())
    with peers.TLSServer(chain=False) as s:
        p, _ = peers.report(tmp, peers.tls_config(tmp, s, ca=both))
        peers.expect_delivered(p, s, "intermediate in the CA file")


def test_missing_ca_file_is_a_config_error(tmp):
    with peers.TLSServer() as s:
        missing = os.path.join(tmp, "nope.pem")
        p, _ = peers.report(tmp, peers.tls_config(tmp, s, ca=missing))
        lib.check(p.returncode in (1, 2), f"missing caFile fails: {peers.describe(p)}")
        lines = p.stderr.decode(errors="replace").splitlines()
        lib.eq(len(lines), 1, "one line")
        lib.check("nope.pem" in lines[0], f"the line names the file: {lines[0]!r}")
        lib.eq(s.requests, [], "no request")


SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def _pems(path):
    text = open(path).read()
    end = "-----END CERTIFICATE-----"
    return [p[p.index("-----BEGIN CERTIFICATE-----"):] + end + "\n"
            for p in text.split(end) if "-----BEGIN CERTIFICATE-----" in p]


def test_ca_file_capacity(tmp):
    # docs/configuration.md: 512 certificates whose names and keys fit 256 KiB, room for
    # 512 of Debian's average root (its whole bundle: 144 roots, about 61 KiB).
    bundle = _pems(SYSTEM_BUNDLE)
    ours = open(peers.certs().root).read()
    lib.check(len(bundle) > 100, f"the system bundle has roots: {len(bundle)}")
    full = (bundle * 4)[:511] + [ours]
    with peers.TLSServer() as s:
        ca = peers.write_file(tmp, "full.pem", "".join(full))
        p, _ = peers.report(tmp, peers.tls_config(tmp, s, ca=ca), ["-v"])
        peers.expect_delivered(p, s, "512 certificates of Debian's bundle")
        err = p.stderr.decode(errors="replace")
        lib.check("trusting the CA file" in err, f"-v names the CA file: {err!r}")

        ca = peers.write_file(tmp, "over.pem", "".join(full + [bundle[0]]))
        p, _ = peers.report(tmp, peers.tls_config(tmp, s, ca=ca))
        peers.expect_failure(p, 2, ["more than 512 certificates"], "513 certificates")

        # The largest root (an RSA-4096 key alone is 515 bytes) 511 times over the arena.
        big = max(bundle, key=len)
        ca = peers.write_file(tmp, "big.pem", big * 511 + ours)
        p, _ = peers.report(tmp, peers.tls_config(tmp, s, ca=ca))
        peers.expect_failure(p, 2, ["too large to load"], "511 large roots")
        lib.eq(len(s.requests), 1, "only the run that could verify reached the server")
