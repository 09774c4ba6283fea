"""TLS matrix (SPEC §6 and §11 "TLS and HTTP"): certificate shapes against the name a
user writes in the endpoint. Each row is its own test (test_tls_<name>).

The PKI is made at test time with the `openssl` CLI, once per module, in a temporary
directory removed at exit: an EC root, an EC intermediate, RSA intermediates of 1024 and
2048 bits, and leaves that differ in one property each (Extended Key Usage, key type and
size, subjectAltName, CN). The subject CN of every leaf is a name no endpoint uses, except
in the CN-fallback rows, so an accepted row is accepted on its SAN.

The server is Python `ssl` on loopback (security level 0, so OpenSSL itself serves the weak
keys) and records the SNI of every ClientHello: None when the client sends none. The client
is `anontel report --force -c config` with the row's endpoint and tls.caFile.

An accepted row: exit 0, the request arrived, and the SNI is the endpoint's DNS name in
lower case without a trailing dot, or absent for an IP literal (RFC 6066).
A refused row: the TLS handshake was reached (the server accepted a connection), no request
arrived, exit 1 with exactly one line "anontel: ..." that names the cause in words and holds
no bare library error number.
"""
import atexit
import concurrent.futures
import datetime
import os
import re
import shutil
import ssl
import tempfile

import lib
import peers

# ---------------------------------------------------------------- the PKI

# Keys: name -> genpkey options.
KEYS = {
    "root": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    "inter": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    "ec256": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    "ec384": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
    "rsa1024": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"],
    "rsa2048": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    "rsa4096": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:4096"],
    "inter_rsa1024": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"],
    "inter_rsa2048": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
}

CA_EXT = ["basicConstraints = critical,CA:TRUE,pathlen:0",
          "keyUsage = critical,keyCertSign,cRLSign",
          "subjectKeyIdentifier = hash", "authorityKeyIdentifier = keyid:always"]
ROOT_EXT = ["basicConstraints = critical,CA:TRUE", "keyUsage = critical,keyCertSign,cRLSign",
            "subjectKeyIdentifier = hash"]


def leaf_ext(san="DNS:localhost", eku="serverAuth", rsa=False, selfsigned=False):
    """A leaf's extensions; san or eku None leaves the extension out."""
    ku = "digitalSignature,keyEncipherment" if rsa else "digitalSignature"
    ext = ["basicConstraints = critical,CA:FALSE", f"keyUsage = critical,{ku}",
           "subjectKeyIdentifier = hash"]
    if not selfsigned:
        ext.append("authorityKeyIdentifier = keyid:always")
    if eku:
        ext.append(f"extendedKeyUsage = {eku}")
    if san:
        ext.append(f"subjectAltName = {san}")
    return ext


# Certificates in signing order: name -> (key, issuer or None for self-signed, CN, extensions).
# A leaf's chain (what the server sends) is the leaf and its issuer when that is not the root.
CERTS = {
    "root": ("root", None, "anontel matrix root", ROOT_EXT),
    "inter": ("inter", "root", "anontel matrix intermediate", CA_EXT),
    "inter_rsa1024": ("inter_rsa1024", "root", "anontel matrix RSA-1024 intermediate", CA_EXT),
    "inter_rsa2048": ("inter_rsa2048", "root", "anontel matrix RSA-2048 intermediate", CA_EXT),

    "eku_server": ("ec256", "inter", "eku server leaf", leaf_ext(eku="serverAuth")),
    "eku_client": ("ec256", "inter", "eku client leaf", leaf_ext(eku="clientAuth")),
    "eku_none": ("ec256", "inter", "eku none leaf", leaf_ext(eku=None)),
    "eku_any": ("ec256", "inter", "eku any leaf", leaf_ext(eku="anyExtendedKeyUsage")),
    "eku_both": ("ec256", "inter", "eku both leaf", leaf_ext(eku="serverAuth,clientAuth")),

    "rsa1024": ("rsa1024", "inter", "rsa 1024 leaf", leaf_ext(rsa=True)),
    "rsa2048": ("rsa2048", "inter", "rsa 2048 leaf", leaf_ext(rsa=True)),
    "rsa4096": ("rsa4096", "inter", "rsa 4096 leaf", leaf_ext(rsa=True)),
    "under_inter_rsa1024": ("rsa2048", "inter_rsa1024", "leaf under 1024", leaf_ext(rsa=True)),
    "under_inter_rsa2048": ("rsa2048", "inter_rsa2048", "leaf under 2048", leaf_ext(rsa=True)),
    "selfsigned_rsa1024": ("rsa1024", None, "self-signed rsa 1024",
                           leaf_ext(rsa=True, selfsigned=True)),
    "selfsigned_rsa2048": ("rsa2048", None, "self-signed rsa 2048",
                           leaf_ext(rsa=True, selfsigned=True)),

    "ec_p256": ("ec256", "inter", "ec p-256 leaf", leaf_ext()),
    "ec_p384": ("ec384", "inter", "ec p-384 leaf", leaf_ext()),

    "ip4_san": ("ec256", "inter", "ip4 leaf", leaf_ext(san="IP:127.0.0.1")),
    "ip4_as_dns": ("ec256", "inter", "ip4 as dns leaf", leaf_ext(san="DNS:127.0.0.1")),
    "ip6_san": ("ec256", "inter", "ip6 leaf", leaf_ext(san="IP:::1")),

    "wildcard": ("ec256", "inter", "wildcard leaf", leaf_ext(san="DNS:*.a.localhost")),
    "cn_only": ("ec256", "inter", "localhost", leaf_ext(san=None)),
    "san_other_cn_localhost": ("ec256", "inter", "localhost",
                               leaf_ext(san="DNS:other.localhost")),
    "ip_san_cn_localhost": ("ec256", "inter", "localhost", leaf_ext(san="IP:127.0.0.1")),
    "cn_ip_only": ("ec256", "inter", "127.0.0.1", leaf_ext(san=None)),
}


class PKI:
    """dir; cert(name), key(name), chain(name) paths; text(name) is `openssl x509 -text`."""

    def __init__(self, d):
        self.dir = d

    def _p(self, *parts):
        return os.path.join(self.dir, *parts)

    def cert(self, name):
        return self._p(name + ".pem")

    def key(self, name):
        return self._p("keys", CERTS[name][0] + ".pem")

    def chain(self, name):
        return self._p(name + ".chain.pem")

    def text(self, name):
        return peers._openssl(["x509", "-noout", "-text", "-in", self.cert(name)],
                              os.environ, self.dir).decode()


_PKI = None


def _stamp(dt):
    return dt.strftime("%Y%m%d%H%M%SZ")


def _make_pki():
    d = tempfile.mkdtemp(prefix="anontel-tlsmatrix-")
    atexit.register(shutil.rmtree, d, True)
    pki = PKI(d)
    for sub in ("keys", "db/new", "ext"):
        os.makedirs(os.path.join(d, sub))
    open(os.path.join(d, "db", "index.txt"), "w").close()
    with open(os.path.join(d, "db", "serial"), "w") as f:
        f.write("2000\n")
    cnf = os.path.join(d, "openssl.cnf")
    with open(cnf, "w") as f:
        f.write(peers._CNF_BASE)
    env = dict(os.environ, CA_DIR=os.path.join(d, "db"), OPENSSL_CONF=cnf)

    # Keys in parallel: the RSA-4096 one alone takes a second or more.
    def genkey(name):
        peers._openssl(["genpkey"] + KEYS[name] + ["-out", os.path.join(d, "keys", name + ".pem")],
                       env, d)
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        list(ex.map(genkey, KEYS))

    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    start = _stamp(now - datetime.timedelta(days=2))
    end = _stamp(now + datetime.timedelta(days=3650))
    for name, (_, issuer, cn, ext) in CERTS.items():
        extfile = os.path.join(d, "ext", name + ".cnf")
        with open(extfile, "w") as f:
            f.write("[ext]\n" + "".join(line + "\n" for line in ext))
        csr = os.path.join(d, name + ".csr")
        peers._openssl(["req", "-new", "-config", cnf, "-key", pki.key(name), "-subj", "/CN=" + cn,
                        "-out", csr], env, d)
        args = ["ca", "-batch", "-notext", "-config", cnf, "-extfile", extfile,
                "-extensions", "ext", "-in", csr, "-out", pki.cert(name),
                "-startdate", start, "-enddate", end]
        if issuer is None:
            args += ["-selfsign", "-keyfile", pki.key(name)]
        else:
            args += ["-cert", pki.cert(issuer), "-keyfile", pki.key(issuer)]
        peers._openssl(args, env, d)
        parts = [pki.cert(name)] + ([pki.cert(issuer)] if issuer not in (None, "root") else [])
        with open(pki.chain(name), "w") as out:
            for part in parts:
                with open(part) as f:
                    out.write(f.read())
    return pki


def pki():
    """The matrix PKI, made on first use and removed at process exit."""
    global _PKI
    if _PKI is None:
        _PKI = _make_pki()
    return _PKI


# ---------------------------------------------------------------- the server

class SNIServer(peers.TLSServer):
    """peers.TLSServer serving one matrix certificate at OpenSSL security level 0 (so weak
    keys are served, and refusing them is left to the client). .snis lists the SNI of every
    ClientHello, also of handshakes the client aborted (None: the client sent none)."""

    def __init__(self, name, host=peers.LOOPBACK4):
        self.requests = []
        self.reply = peers.OK_REPLY
        self.mode = "close"
        self.tls = True
        self._sni = {}
        self.snis = []
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.load_cert_chain(pki().chain(name), pki().key(name))
        ctx.sni_callback = self._on_sni
        self.ctx = ctx
        peers._Base.__init__(self, host, 10.0, 0)

    def _on_sni(self, sslsock, name, ctx):
        self.snis.append(name)
        super()._on_sni(sslsock, name, ctx)


# ---------------------------------------------------------------- the rows

ACCEPT = None
EKU = [["extended key usage", "not for a tls server"]]
WEAK = [["weak"], ["1024"]]
MISMATCH = [["does not match"]]

# Words that would show a library's error number instead of the cause.
BARE_NUMBER = [re.compile(r"error \d+", re.I), re.compile(r"\(\d+\)"),
               re.compile(r"\berr(or)?[ =:#-]*-?\d+", re.I)]

# (name, certificate, endpoint host, server address, caFile (None: the root), expected)
# expected: ACCEPT, or word groups the refusal line must hold (one word of each group).
ROWS = [
    # Extended Key Usage (SPEC §11): serverAuth or anyExtendedKeyUsage when present.
    ("eku_server_auth", "eku_server", "localhost", "127.0.0.1", None, ACCEPT),
    ("eku_client_auth_only", "eku_client", "localhost", "127.0.0.1", None, EKU),
    ("eku_absent", "eku_none", "localhost", "127.0.0.1", None, ACCEPT),
    ("eku_any_extended_key_usage", "eku_any", "localhost", "127.0.0.1", None, ACCEPT),
    ("eku_server_and_client_auth", "eku_both", "localhost", "127.0.0.1", None, ACCEPT),

    # RSA sizes: under 2048 bits refused, in the leaf and in the chain.
    ("rsa_leaf_1024", "rsa1024", "localhost", "127.0.0.1", None, WEAK),
    ("rsa_leaf_2048", "rsa2048", "localhost", "127.0.0.1", None, ACCEPT),
    ("rsa_leaf_4096", "rsa4096", "localhost", "127.0.0.1", None, ACCEPT),
    ("rsa_intermediate_1024", "under_inter_rsa1024", "localhost", "127.0.0.1", None, WEAK),
    ("rsa_intermediate_2048", "under_inter_rsa2048", "localhost", "127.0.0.1", None, ACCEPT),
    ("rsa_1024_self_signed_trusted_directly", "selfsigned_rsa1024", "localhost", "127.0.0.1",
     "selfsigned_rsa1024", WEAK),
    # The control of the row above: the same shape at 2048 bits is trusted.
    ("rsa_2048_self_signed_trusted_directly", "selfsigned_rsa2048", "localhost", "127.0.0.1",
     "selfsigned_rsa2048", ACCEPT),

    # EC leaves.
    ("ec_p256_leaf", "ec_p256", "localhost", "127.0.0.1", None, ACCEPT),
    ("ec_p384_leaf", "ec_p384", "localhost", "127.0.0.1", None, ACCEPT),

    # IP literals: no SNI, iPAddress SANs only.
    ("ipv4_endpoint_ip_san", "ip4_san", "127.0.0.1", "127.0.0.1", None, ACCEPT),
    ("ipv4_endpoint_dns_san_spelling_the_ip", "ip4_as_dns", "127.0.0.1", "127.0.0.1", None,
     MISMATCH),
    ("ipv6_endpoint_ip_san", "ip6_san", "[::1]", "::1", None, ACCEPT),
    ("ipv6_endpoint_only_ipv4_san", "ip4_san", "[::1]", "::1", None, MISMATCH),

    # DNS names (under localhost: loopback without DNS, SPEC §11).
    ("wildcard_matches_one_label", "wildcard", "b.a.localhost", "127.0.0.1", None, ACCEPT),
    ("wildcard_does_not_match_its_parent", "wildcard", "a.localhost", "127.0.0.1", None, MISMATCH),
    ("wildcard_does_not_match_two_labels", "wildcard", "c.b.a.localhost", "127.0.0.1", None,
     MISMATCH),
    ("trailing_dot_in_endpoint_host", "ec_p256", "localhost.", "127.0.0.1", None, ACCEPT),
    ("upper_case_endpoint_host", "ec_p256", "LOCALHOST", "127.0.0.1", None, ACCEPT),

    # CN only when there is no SAN.
    ("cn_fallback_without_san", "cn_only", "localhost", "127.0.0.1", None, ACCEPT),
    ("cn_ignored_when_san_present", "san_other_cn_localhost", "localhost", "127.0.0.1", None,
     MISMATCH),
    # A SAN of iPAddresses alone is still a SAN: the CN is not looked at.
    ("cn_ignored_when_only_an_ip_san", "ip_san_cn_localhost", "localhost", "127.0.0.1", None,
     MISMATCH),
    # An IP literal matches iPAddress SANs only, never a CN spelling it.
    ("ipv4_endpoint_cn_spelling_the_ip", "cn_ip_only", "127.0.0.1", "127.0.0.1", None, MISMATCH),
]


def _expected_sni(host):
    """RFC 6066: no SNI for an IP literal; else the DNS name, lower case, no trailing dot."""
    if host.startswith("[") or re.fullmatch(r"[0-9.]+", host):
        return None
    return host.lower().rstrip(".")


def _run_row(tmp, name, cert, host, addr, ca, expected):
    ca_file = pki().cert(ca) if ca else pki().cert("root")
    with SNIServer(cert, host=addr) as s:
        endpoint = f"https://{host}:{s.port}/collect"
        cfg = peers.tls_config(tmp, endpoint=endpoint, ca=ca_file)
        p, secs = peers.report(tmp, cfg, ["--timeout", "5s"])
        what = f"{name} ({endpoint}, {cert})"
        if expected is ACCEPT:
            peers.expect_delivered(p, s, what)
            lib.eq(s.requests[0].sni, _expected_sni(host), f"{what}: SNI the server received")
            return
        lib.check(s.accepted >= 1, f"{what}: anontel never connected to the server, so the "
                  f"refusal is not a TLS one ({peers.describe(p)})")
        line = peers.expect_failure(p, 1, expected[0], what)
        for group in expected[1:]:
            lib.check(any(w.lower() in line.lower() for w in group),
                      f"{what}: line names the cause (one of {group}): {line!r}")
        for rx in BARE_NUMBER:
            lib.check(not rx.search(line), f"{what}: line holds a library error number "
                      f"({rx.pattern}): {line!r}")
        lib.eq(s.requests, [], f"{what}: the server received no request")
        lib.check(secs < 3, f"{what}: refused without waiting for the deadline ({secs:.2f}s)")
        if s.snis:
            lib.eq(s.snis[0], _expected_sni(host), f"{what}: SNI the server received")


# ---------------------------------------------------------------- the PKI is what the rows say

def test_tls_pki_is_what_the_rows_say(tmp):
    """The certificates hold the properties the rows name (checked with openssl, not anontel),
    so a row that passes tests the shape it claims."""
    t = {name: pki().text(name) for name in CERTS}
    want = {
        "eku_server": ["TLS Web Server Authentication"],
        "eku_client": ["TLS Web Client Authentication"],
        "eku_any": ["Any Extended Key Usage"],
        "eku_both": ["TLS Web Server Authentication", "TLS Web Client Authentication"],
        "rsa1024": ["Public-Key: (1024 bit)"],
        "rsa2048": ["Public-Key: (2048 bit)"],
        "rsa4096": ["Public-Key: (4096 bit)"],
        "inter_rsa1024": ["Public-Key: (1024 bit)", "CA:TRUE"],
        "inter_rsa2048": ["Public-Key: (2048 bit)", "CA:TRUE"],
        "under_inter_rsa1024": ["Public-Key: (2048 bit)", "Issuer: CN = anontel matrix RSA-1024"],
        "under_inter_rsa2048": ["Public-Key: (2048 bit)", "Issuer: CN = anontel matrix RSA-2048"],
        "selfsigned_rsa1024": ["Public-Key: (1024 bit)", "Issuer: CN = self-signed rsa 1024"],
        "selfsigned_rsa2048": ["Public-Key: (2048 bit)", "Issuer: CN = self-signed rsa 2048"],
        "ec_p256": ["NIST CURVE: P-256"],
        "ec_p384": ["NIST CURVE: P-384"],
        "ip4_san": ["IP Address:127.0.0.1"],
        "ip4_as_dns": ["DNS:127.0.0.1"],
        "ip6_san": ["IP Address:0:0:0:0:0:0:0:1"],
        "wildcard": ["DNS:*.a.localhost"],
        "cn_only": ["Subject: CN = localhost"],
        "ip_san_cn_localhost": ["Subject: CN = localhost", "IP Address:127.0.0.1"],
        "cn_ip_only": ["Subject: CN = 127.0.0.1"],
        "san_other_cn_localhost": ["Subject: CN = localhost", "DNS:other.localhost"],
    }
    for name, needles in want.items():
        for needle in needles:
            lib.check(needle in t[name], f"{name}: openssl -text shows {needle!r}")
    lib.check("Extended Key Usage" not in t["eku_none"], "eku_none has no EKU extension")
    lib.check("Subject Alternative Name" not in t["cn_only"], "cn_only has no SAN")
    lib.check("IP Address" not in t["ip4_as_dns"], "ip4_as_dns has no iPAddress SAN")
    for name in ("ip4_san", "ip6_san", "ip_san_cn_localhost"):
        lib.check("DNS:" not in t[name], f"{name}: no dNSName SAN")
    lib.check("Subject Alternative Name" not in t["cn_ip_only"], "cn_ip_only has no SAN")
    for name, (_, _, cn, _) in CERTS.items():
        if name not in ("cn_only", "san_other_cn_localhost", "ip_san_cn_localhost", "cn_ip_only"):
            lib.check("localhost" not in cn and "127.0.0.1" not in cn,
                      f"{name}: CN {cn!r} names no endpoint, so a match is on the SAN")


lib.table_tests(globals(), "test_tls_", ROWS, _run_row)
