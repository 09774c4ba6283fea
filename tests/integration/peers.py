"""Real peers for the delivery tests, all on loopback and all bounded in time:

- certs(): a CA hierarchy and leaves made with the `openssl` CLI, once per process;
- pin(): curl's sha256// pin of a certificate's key (SPKI parsed here, not by openssl);
- TLSServer: a threaded HTTPS (or plain HTTP, tls=False) server that records SNI,
  request line, headers and body, then writes raw reply bytes;
- RawServer: misbehaving TCP servers (silent, ClientHello-then-close, ClientHello-then-stall);
- SilentDNS: a UDP socket that takes queries and never answers;
- run_in_mountns(): runs a program in a private mount namespace with files bind-mounted
  over /etc/hosts, /etc/resolv.conf, ...;
- Tinyproxy: Debian's tinyproxy in the foreground with a temporary config.

Every server binds 127.0.0.1 (or ::1), holds a connection at most `hold` seconds and is
stopped by its context manager. Nothing here talks to any other address.
"""
import atexit
import base64
import contextlib
import datetime
import hashlib
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time

import lib

VERSION = open(os.path.join(lib.TOP, "VERSION")).read().strip()
LOOPBACK4 = "127.0.0.1"
LOOPBACK6 = "::1"
# A name with two addresses, the first refusing (see test_peers.test_hosts_with_two_addresses).
MULTI_HOSTS = ["127.0.0.1 multi.test", "127.0.0.3 multi.test"]
MULTI_SERVER = "127.0.0.3"
# The names test_dns asks DNS for (the dns leaf certificate carries them all).
DNS_NAMES = ["api.dns.test", "v6only.dns.test", "chain.dns.test", "api", "hosts.dns.test",
             "hand.dns.test"]
OK_REPLY = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"

# ---------------------------------------------------------------- certificates

_CNF_BASE = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = placeholder
[ca]
default_ca = ca_default
[ca_default]
database = $ENV::CA_DIR/index.txt
new_certs_dir = $ENV::CA_DIR/new
serial = $ENV::CA_DIR/serial
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = no
copy_extensions = none
preserve = no
[policy_any]
commonName = supplied
"""
# The extension sections use $ENV::KU and $ENV::SAN, which OpenSSL resolves when it reads
# the file: a caller with its own -extfile takes _CNF_BASE alone.
_CNF = _CNF_BASE + """\
[ext_root]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ext_inter]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ext_leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,$ENV::KU
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = $ENV::SAN
[ext_self]
basicConstraints = critical,CA:FALSE
keyUsage = critical,$ENV::KU
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
subjectAltName = $ENV::SAN
"""


class Leaf:
    """A server certificate: cert (leaf alone), key, chain (leaf + intermediate, what the
    server sends), names (its DNS SANs)."""

    def __init__(self, name, cert, key, chain, names):
        self.name, self.cert, self.key, self.chain, self.names = name, cert, key, chain, names

    def __repr__(self):
        return f"Leaf({self.name})"


class Certs:
    """root (CA file content for the tests), other_root (an unrelated CA), inter, and
    leaves: ec, rsa (localhost), names (multi.test, svc.test, v6.test), other (other.test),
    dns (the names test_dns resolves: DNS_NAMES), expired, notyet, selfsigned (localhost)."""


_CERTS = None


def _openssl(args, env, cwd):
    p = subprocess.run(["openssl"] + args, env=env, cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=60)
    if p.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)}: {p.stderr.decode(errors='replace')}")
    return p.stdout


def _stamp(dt):
    return dt.strftime("%Y%m%d%H%M%SZ")


def _make_certs():
    d = tempfile.mkdtemp(prefix="anontel-certs-")
    atexit.register(shutil.rmtree, d, True)
    os.makedirs(os.path.join(d, "db", "new"))
    open(os.path.join(d, "db", "index.txt"), "w").close()
    with open(os.path.join(d, "db", "serial"), "w") as f:
        f.write("1000\n")
    cnf = os.path.join(d, "openssl.cnf")
    with open(cnf, "w") as f:
        f.write(_CNF)
    base = dict(os.environ, CA_DIR=os.path.join(d, "db"), SAN="DNS:localhost",
                KU="digitalSignature", OPENSSL_CONF=cnf)
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    valid = (_stamp(now - datetime.timedelta(days=2)), _stamp(now + datetime.timedelta(days=3650)))

    def p(name):
        return os.path.join(d, name)

    def key(name, rsa=False):
        if rsa:
            _openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                      "-out", p(name + ".key")], base, d)
        else:
            _openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                      "-pkeyopt", "ec_param_enc:named_curve", "-out", p(name + ".key")], base, d)
        return p(name + ".key")

    def csr(name, cn, env=base):
        _openssl(["req", "-new", "-config", cnf, "-key", p(name + ".key"), "-subj", "/CN=" + cn,
                  "-out", p(name + ".csr")], env, d)

    def sign(name, issuer, ext, dates, env=base, selfsign=False):
        args = ["ca", "-batch", "-notext", "-config", cnf, "-extensions", ext,
                "-keyfile", p(issuer + ".key"), "-in", p(name + ".csr"), "-out", p(name + ".pem"),
                "-startdate", dates[0], "-enddate", dates[1]]
        args += ["-selfsign"] if selfsign else ["-cert", p(issuer + ".pem")]
        _openssl(args, env, d)
        return p(name + ".pem")

    def cat(out, *parts):
        with open(p(out), "wb") as f:
            for part in parts:
                with open(part, "rb") as g:
                    f.write(g.read())
        return p(out)

    c = Certs()
    c.dir = d
    for root in ("root", "other_root"):
        key(root)
        csr(root, "anontel test " + root.replace("_", " "))
        sign(root, root, "ext_root", valid, selfsign=True)
    c.root, c.other_root = p("root.pem"), p("other_root.pem")
    key("inter")
    csr("inter", "anontel test intermediate")
    c.inter = sign("inter", "root", "ext_inter", valid)
    c.inter_key = p("inter.key")

    def leaf(name, names, rsa=False, dates=valid):
        env = dict(base, SAN=",".join("DNS:" + n for n in names),
                   KU="digitalSignature,keyEncipherment" if rsa else "digitalSignature")
        key(name, rsa)
        csr(name, names[0], env)
        cert = sign(name, "inter", "ext_leaf", dates, env)
        return Leaf(name, cert, p(name + ".key"), cat(name + ".chain.pem", cert, c.inter), names)

    c.ec = leaf("ec", ["localhost"])
    c.rsa = leaf("rsa", ["localhost"], rsa=True)
    c.names = leaf("names", ["multi.test", "svc.test", "v6.test"])
    c.other = leaf("other", ["other.test"])
    c.dns = leaf("dns", DNS_NAMES)
    c.expired = leaf("expired", ["localhost"], dates=("20200101000000Z", "20200201000000Z"))
    c.notyet = leaf("notyet", ["localhost"], dates=("20990101000000Z", "20991231000000Z"))
    key("selfsigned")
    csr("selfsigned", "localhost")
    cert = sign("selfsigned", "selfsigned", "ext_self", valid, selfsign=True)
    c.selfsigned = Leaf("selfsigned", cert, p("selfsigned.key"), cert, ["localhost"])
    return c


def certs():
    """The certificates, made on first use and removed at process exit."""
    global _CERTS
    if _CERTS is None:
        _CERTS = _make_certs()
    return _CERTS


_RSA_PKIS = {}


def rsa_pki(bits, pubexp=65537):
    """An all-RSA chain made by OpenSSL, for the RSA signature checks (src/rsa.c): a root,
    an intermediate and a localhost leaf, each key of `bits` bits with exponent `pubexp`,
    each certificate signed with SHA-256 by the one above. Returns (root PEM path, Leaf
    whose chain is leaf + intermediate); made once per (bits, pubexp) and removed at
    process exit."""
    if (bits, pubexp) in _RSA_PKIS:
        return _RSA_PKIS[(bits, pubexp)]
    d = tempfile.mkdtemp(prefix=f"anontel-rsa{bits}-")
    atexit.register(shutil.rmtree, d, True)
    env = dict(os.environ)
    env.pop("OPENSSL_CONF", None)

    def p(name):
        return os.path.join(d, name)

    with open(p("ext"), "w") as f:
        f.write("[inter]\nbasicConstraints = critical,CA:TRUE,pathlen:0\n"
                "keyUsage = critical,keyCertSign,cRLSign\n"
                "[leaf]\nbasicConstraints = critical,CA:FALSE\n"
                "keyUsage = critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage = serverAuth\nsubjectAltName = DNS:localhost\n")
    for name in ("root", "inter", "leaf"):
        _openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", f"rsa_keygen_bits:{bits}",
                  "-pkeyopt", f"rsa_keygen_pubexp:{pubexp}", "-out", p(name + ".key")], env, d)
    _openssl(["req", "-x509", "-new", "-sha256", "-key", p("root.key"), "-days", "30",
              "-subj", f"/CN=anontel test RSA-{bits} root",
              "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", p("root.pem")], env, d)
    for name, issuer, cn in (("inter", "root", f"anontel test RSA-{bits} intermediate"),
                             ("leaf", "inter", "localhost")):
        _openssl(["req", "-new", "-key", p(name + ".key"), "-subj", "/CN=" + cn,
                  "-out", p(name + ".csr")], env, d)
        _openssl(["x509", "-req", "-sha256", "-in", p(name + ".csr"), "-CA", p(issuer + ".pem"),
                  "-CAkey", p(issuer + ".key"), "-set_serial", str(bits + len(name)),
                  "-days", "30", "-extfile", p("ext"), "-extensions", name,
                  "-out", p(name + ".pem")], env, d)
    with open(p("chain.pem"), "w") as f:
        f.write(open(p("leaf.pem")).read() + open(p("inter.pem")).read())
    r = (p("root.pem"), Leaf(f"rsa{bits}", p("leaf.pem"), p("leaf.key"), p("chain.pem"),
                             ["localhost"]))
    _RSA_PKIS[(bits, pubexp)] = r
    return r


def _first_pem_der(path):
    text = open(path).read()
    m = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", text, re.S)
    if not m:
        raise ValueError(f"{path}: no certificate")
    return ssl.PEM_cert_to_DER_cert(m.group(0))


def _tlv(der, i):
    """(tag, content start, end) of the DER element at i."""
    tag, n = der[i], der[i + 1]
    j = i + 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(der[j:j + k], "big")
        j += k
    return tag, j, j + n


def spki_der(cert_path):
    """The DER SubjectPublicKeyInfo of the (first) certificate in a PEM file."""
    der = _first_pem_der(cert_path)
    _, cert_start, _ = _tlv(der, 0)
    _, i, _ = _tlv(der, cert_start)          # tbsCertificate content
    tag, _, end = _tlv(der, i)
    if tag == 0xA0:                          # [0] version
        i = end
    for _ in range(5):                       # serial, signature, issuer, validity, subject
        _, _, i = _tlv(der, i)
    tag, _, end = _tlv(der, i)
    if tag != 0x30:
        raise ValueError("SubjectPublicKeyInfo is not a SEQUENCE")
    return der[i:end]


def pin(cert_path):
    """curl's --pinnedpubkey form: sha256// + base64(SHA-256(SPKI DER))."""
    return "sha256//" + base64.b64encode(hashlib.sha256(spki_der(cert_path)).digest()).decode()


# ---------------------------------------------------------------- servers

class Request:
    """One HTTP request as a server saw it."""

    def __init__(self):
        self.sni = None
        self.tls_version = None
        self.cipher = None         # the suite's OpenSSL name
        self.method = self.target = self.version = None
        self.headers = []          # [(name, value)] in order, as received
        self.body = b""
        self.head = b""

    def header(self, name):
        """All values of header `name` (case-insensitive)."""
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def __repr__(self):
        return f"Request({self.method} {self.target} {self.version}, sni={self.sni})"


def _read_request(s, limit=1 << 20):
    """Reads a request head and its whole Content-Length body. Returns a Request, or None
    when the client went away first (a torn request is not a received one)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            return None
        data += chunk
        if len(data) > limit:
            return None
    head, _, rest = data.partition(b"\r\n\r\n")
    r = Request()
    r.head = head
    lines = head.split(b"\r\n")
    parts = lines[0].decode("latin-1").split(" ")
    if len(parts) == 3:
        r.method, r.target, r.version = parts
    for line in lines[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        r.headers.append((name, value.strip(" \t")))
    te = r.header("Transfer-Encoding")
    if te and te[-1].lower() == "chunked":
        r.body = _read_chunked(s, rest, limit)
        if r.body is None:
            return None
        r.received = time.monotonic()
        return r
    cl = r.header("Content-Length")
    n = int(cl[0]) if cl and cl[0].isdigit() else 0
    while len(rest) < n:
        chunk = s.recv(65536)
        if not chunk:
            return None          # torn: the client went away mid-body
        rest += chunk
    r.body = rest[:n]
    r.received = time.monotonic()
    return r


def _read_chunked(s, rest, limit):
    """A chunked body (no trailers), as a client library such as Node's may send it;
    None when torn."""
    body = b""

    def need(n):
        nonlocal rest
        while len(rest) < n:
            chunk = s.recv(65536)
            if not chunk or len(rest) > limit:
                return False
            rest += chunk
        return True

    while True:
        while b"\r\n" not in rest:
            if not need(len(rest) + 1):
                return None
        line, _, rest = rest.partition(b"\r\n")
        size = int(line.split(b";")[0], 16)
        if not need(size + 2):
            return None
        body += rest[:size]
        rest = rest[size + 2:]
        if size == 0:
            return body


class _Base:
    """A threaded accept loop on loopback; subclasses implement _handle(conn)."""

    def __init__(self, host=LOOPBACK4, hold=10.0, port=0, backlog=16):
        self.host = host
        self.hold = hold
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._conns = []
        self._threads = []
        self.accepted = 0
        self.errors = []           # exceptions raised while serving (for diagnosis)
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._ls = socket.socket(fam, socket.SOCK_STREAM)
        self._ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._ls.bind((host, port))
        self._ls.listen(backlog)
        self._ls.settimeout(0.05)
        self.port = self._ls.getsockname()[1]
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._accept_thread.start()

    def url(self, path="/collect", host="localhost", scheme="https"):
        return f"{scheme}://{host}:{self.port}{path}"

    def _accept_loop(self):
        while not self._stop.is_set():
            try:
                conn, _ = self._ls.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.settimeout(self.hold)
            with self._lock:
                self.accepted += 1
                self._conns.append(conn)
            t = threading.Thread(target=self._run, args=(conn,), daemon=True)
            self._threads.append(t)
            t.start()

    def _run(self, conn):
        try:
            self._handle(conn)
        except Exception as e:  # noqa: BLE001 -- a peer's failure is data for the test
            self.errors.append(e)
        finally:
            with contextlib.suppress(OSError):
                conn.close()

    def _hold(self, s):
        """Keeps s open until the peer closes, stop(), or `hold` seconds, never writing."""
        deadline = time.monotonic() + self.hold
        while not self._stop.is_set() and time.monotonic() < deadline:
            s.settimeout(0.05)
            try:
                if not s.recv(65536):
                    return
            except (socket.timeout, ssl.SSLWantReadError):
                continue
            except (OSError, ssl.SSLError):
                return

    def _wait_idle(self, s):
        """Waits without reading (the peer's bytes stay unread) until stop() or `hold`."""
        self._stop.wait(self.hold)

    def stop(self):
        self._stop.set()
        with contextlib.suppress(OSError):
            self._ls.close()
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
        self._accept_thread.join(2)
        for t in self._threads:
            t.join(2)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class TLSServer(_Base):
    """An HTTPS server (tls=False: plain HTTP) on an ephemeral loopback port.

    leaf: a Leaf (chain=True sends leaf + intermediate, False the leaf alone);
    min_tls/max_tls: ssl.TLSVersion bounds; ecdh_curve: the one ECDHE curve the server
    will use (OpenSSL's name, ssl.SSLContext.set_ecdh_curve), else OpenSSL's default
    list; ciphers: the TLS 1.2 suites the server accepts (OpenSSL's cipher list); reply: bytes, a list of bytes and float
    pauses (seconds), or callable(request, server) returning either; mode: "close"
    (close after the reply), "keep" (keep the connection open until the client closes,
    stop() or `hold`). Each connection reads one request (head + Content-Length body),
    recorded in .requests (with .sni, .tls_version and .cipher); failed handshakes in .errors.
    """

    def __init__(self, leaf=None, chain=True, min_tls=None, max_tls=None, reply=OK_REPLY,
                 mode="close", host=LOOPBACK4, tls=True, hold=10.0, port=0, ecdh_curve=None,
                 ciphers=None):
        self.requests = []
        self.reply = reply
        self.mode = mode
        self.tls = tls
        self._sni = {}
        if tls:
            leaf = leaf or certs().ec
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(leaf.chain if chain else leaf.cert, leaf.key)
            if min_tls:
                ctx.minimum_version = min_tls
            if max_tls:
                ctx.maximum_version = max_tls
            if ecdh_curve:
                ctx.set_ecdh_curve(ecdh_curve)
            if ciphers:
                ctx.set_ciphers(ciphers)
            ctx.sni_callback = self._on_sni
            self.ctx = ctx
        super().__init__(host, hold, port)

    def url(self, path="/collect", host="localhost", scheme=None):
        return super().url(path, host, scheme or ("https" if self.tls else "http"))

    def _on_sni(self, sslsock, name, ctx):
        self._sni[id(sslsock)] = name

    def _handle(self, conn):
        s = conn
        sni = version = cipher = None
        if self.tls:
            s = self.ctx.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
            s.do_handshake()
            sni, version, cipher = self._sni.pop(id(s), None), s.version(), s.cipher()[0]
        r = _read_request(s)
        if r is None:
            return
        r.sni, r.tls_version, r.cipher = sni, version, cipher
        self.requests.append(r)
        reply = self.reply(r, self) if callable(self.reply) else self.reply
        try:
            for part in ([reply] if isinstance(reply, bytes) else reply):
                if isinstance(part, (int, float)):
                    if self._stop.wait(part):
                        return
                else:
                    s.sendall(part)
        except (OSError, ssl.SSLError):
            return
        if self.mode == "keep":
            self._hold(s)
        elif self.tls:
            s.settimeout(1.0)
            with contextlib.suppress(OSError, ssl.SSLError, ValueError):
                s.unwrap()


class RawServer(_Base):
    """A TCP server that misbehaves at the TLS layer:
    "silent": accepts and never reads nor writes; "hello_close": reads the ClientHello
    record, then closes; "hello_stall": reads the ClientHello record, then holds the
    connection without writing. Received ClientHello records are kept in .hellos."""

    def __init__(self, behavior, host=LOOPBACK4, hold=10.0, port=0):
        if behavior not in ("silent", "hello_close", "hello_stall"):
            raise ValueError(behavior)
        self.behavior = behavior
        self.hellos = []
        super().__init__(host, hold, port)

    def _read_record(self, s):
        data = b""
        while len(data) < 5 or len(data) < 5 + int.from_bytes(data[3:5], "big"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data

    def _handle(self, conn):
        if self.behavior == "silent":
            self._wait_idle(conn)
            return
        self.hellos.append(self._read_record(conn))
        if self.behavior == "hello_stall":
            self._hold(conn)


def is_client_hello(record):
    """True if bytes start with a TLS handshake record holding a ClientHello."""
    return len(record) > 5 and record[0] == 0x16 and record[1] == 3 and record[5] == 1


class _Daemon:
    """A Debian daemon run in the foreground as self.proc (None until started): stopped
    with SIGTERM, then SIGKILL after 3 s; a context manager."""

    proc = None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(3)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class Dnsmasq(_Daemon):
    """Debian's dnsmasq (dnsmasq-base) in the foreground on addr:53, answering only from
    its command line (no upstream, no /etc/hosts, no resolv.conf): `records` are its
    options (--host-record=..., --cname=..., --local=/zone/ for NXDOMAIN). Every query is
    logged; .queries() lists them as ("A" | "AAAA", name)."""

    def __init__(self, dirpath, addr, records):
        if shutil.which("dnsmasq") is None:
            raise lib.CheckFailed(f"dnsmasq is not installed (Debian's dnsmasq-base): {lib.SETUP}")
        self.addr = addr
        self.dir = tempfile.mkdtemp(prefix="dnsmasq-", dir=dirpath)
        self.log = os.path.join(self.dir, "queries.log")
        out = open(os.path.join(self.dir, "stdout"), "wb")
        self.proc = subprocess.Popen(
            ["dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
             "--bind-interfaces", f"--listen-address={addr}", "--port=53", "--user=root",
             "--group=root", "--pid-file=", "--log-queries", f"--log-facility={self.log}"]
            + list(records), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        out.close()
        if not self._wait_ready(5.0):
            self.stop()
            raise RuntimeError(f"dnsmasq did not start on {addr}: {self.output()}")

    def _wait_ready(self, secs):
        # Ready when it answers a query (for a name it does not know: REFUSED or NXDOMAIN).
        query = b"\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x05ready\x00\x00\x01\x00\x01"
        deadline = time.monotonic() + secs
        while time.monotonic() < deadline and self.proc.poll() is None:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(0.1)
                try:
                    s.sendto(query, (self.addr, 53))
                    if s.recv(512)[:2] == query[:2]:
                        return True
                except OSError:
                    time.sleep(0.05)
        return False

    def output(self):
        with contextlib.suppress(OSError):
            return open(os.path.join(self.dir, "stdout"), errors="replace").read()
        return ""

    def queries(self):
        with contextlib.suppress(OSError):
            text = open(self.log, errors="replace").read()
            return [q for q in re.findall(r"query\[(A|AAAA)\] (\S+) from", text)
                    if q[1] != "ready"]
        return []



def dns_question(packet):
    """(ID, name, qtype, the question's bytes) of a query (uncompressed, as clients send)."""
    i, labels = 12, []
    while packet[i]:
        labels.append(packet[i + 1:i + 1 + packet[i]].decode("ascii", "replace"))
        i += 1 + packet[i]
    qtype = int.from_bytes(packet[i + 1:i + 3], "big")
    return int.from_bytes(packet[:2], "big"), ".".join(labels), qtype, packet[12:i + 5]


def dns_answer(query, rcode=0, records=(), flags=0x81, qid=None, question=None):
    """A hand-made answer to `query`: `records` are (owner bytes, type, rdata bytes) of
    class IN; owner b"\\xc0\\x0c" is the question's name."""
    q_id, _, _, q = dns_question(query)
    head = (q_id if qid is None else qid).to_bytes(2, "big") + bytes([flags, 0x80 | rcode])
    head += b"\x00\x01" + len(records).to_bytes(2, "big") + b"\x00\x00\x00\x00"
    body = b"".join(owner + rtype.to_bytes(2, "big") + b"\x00\x01\x00\x00\x00\x3c" +
                    len(rd).to_bytes(2, "big") + rd for owner, rtype, rd in records)
    return head + (q if question is None else question) + body


class HandDNS:
    """A UDP socket on addr:53 whose answers a test writes: reply(query, sock) is called
    for each query (dns_question/dns_answer help) and sends what it likes with
    sock.sendto(..., peer) where peer is .peer; .queries counts them."""

    def __init__(self, addr, reply):
        self.addr, self.reply, self.queries, self.peer = addr, reply, 0, None
        self._stop = threading.Event()
        self._s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._s.bind((addr, 53))
        self._s.settimeout(0.05)
        self._t = threading.Thread(target=self._loop, daemon=True)
        self._t.start()

    def _loop(self):
        while not self._stop.is_set():
            try:
                data, self.peer = self._s.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            self.queries += 1
            with contextlib.suppress(Exception):
                self.reply(data, self._s)

    def stop(self):
        self._stop.set()
        self._t.join(2)
        self._s.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class SilentDNS(HandDNS):
    """A UDP socket on addr:53 that reads queries (counted in .queries) and never answers."""

    def __init__(self, addr="127.0.0.2"):
        super().__init__(addr, lambda query, sock: None)


# ---------------------------------------------------------------- mount namespace

def write_file(dirpath, name, text):
    path = os.path.join(dirpath, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def resolv_conf(dirpath, nameserver="127.0.0.2"):
    return write_file(dirpath, "resolv.conf", f"nameserver {nameserver}\n")


def hosts_file(dirpath, lines, name="hosts"):
    """A hosts file from ["127.0.0.1 a.test", ...] (or [] for an empty one)."""
    return write_file(dirpath, name, "".join(line + "\n" for line in lines))


def run_in_mountns(args, env=None, binds=None, timeout=10, binary=lib.BIN):
    """Runs `binary args` inside `unshare --propagation private -m` after bind-mounting
    each binds[target] = source (e.g. {"/etc/hosts": path}). The mounts live only in
    the new namespace. Returns (CompletedProcess, elapsed seconds); raises
    subprocess.TimeoutExpired (after killing the process) past `timeout`."""
    binds = binds or {}
    script = "set -e\n"
    argv = []
    for i, (target, source) in enumerate(binds.items()):
        script += f'mount --bind "${2 * i + 1}" "${2 * i + 2}"\n'
        argv += [source, target]
    script += f"shift {len(argv)}\nexec \"$@\"\n"
    cmd = ["unshare", "--propagation", "private", "-m", "sh", "-c", script, "sh"] + argv
    cmd += [binary] + list(args)
    started = time.monotonic()
    p = subprocess.run(cmd, env=env if env is not None else lib.base_env(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, timeout=timeout)
    return p, time.monotonic() - started


# ---------------------------------------------------------------- tinyproxy

def free_port(host=LOOPBACK4):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class Tinyproxy(_Daemon):
    """Debian's tinyproxy in the foreground (-d) on 127.0.0.1, config, log and pid file
    in `dirpath`. auth=(user, password) adds BasicAuth. .port, .log, .url(creds)."""

    def __init__(self, dirpath, auth=None, connect_ports=None):
        self.dir = tempfile.mkdtemp(prefix="tinyproxy-", dir=dirpath)
        self.auth = auth
        self.log = os.path.join(self.dir, "tinyproxy.log")
        self.proc = None
        for _ in range(5):
            self.port = free_port()
            conf = [f"Port {self.port}", "Listen 127.0.0.1", "Timeout 15", "MaxClients 20",
                    f'LogFile "{self.log}"', "LogLevel Info",
                    f'PidFile "{os.path.join(self.dir, "tinyproxy.pid")}"', "Allow 127.0.0.1"]
            if auth:
                conf.append(f"BasicAuth {auth[0]} {auth[1]}")
            for p in connect_ports or []:
                conf.append(f"ConnectPort {p}")
            self.conf = write_file(self.dir, "tinyproxy.conf", "\n".join(conf) + "\n")
            out = open(os.path.join(self.dir, "stdout"), "wb")
            self.proc = subprocess.Popen(["tinyproxy", "-d", "-c", self.conf], stdout=out,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            out.close()
            if self._wait_ready(5.0):
                return
            self.stop()
        raise RuntimeError(f"tinyproxy did not start: {self.output()}")

    def _wait_ready(self, secs):
        deadline = time.monotonic() + secs
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            with socket.socket() as s:
                s.settimeout(0.2)
                if s.connect_ex((LOOPBACK4, self.port)) == 0:
                    return True
            time.sleep(0.02)
        return False

    def url(self, user=None, password=None):
        cred = f"{user}:{password}@" if user is not None else ""
        return f"http://{cred}127.0.0.1:{self.port}"

    def output(self):
        with contextlib.suppress(OSError):
            return open(os.path.join(self.dir, "stdout"), errors="replace").read()
        return ""

    def log_text(self):
        with contextlib.suppress(OSError):
            return open(self.log, errors="replace").read()
        return ""

    def requests(self):
        """Request lines tinyproxy logged, e.g. ["CONNECT localhost:4433 HTTP/1.1"]."""
        return re.findall(r"Request \(file descriptor \d+\): (.*)", self.log_text())



# ---------------------------------------------------------------- running anontel

def new_env(tmp, **extra):
    """lib.base_env with a fresh state dir under tmp (so no kept message carries over)."""
    state = tempfile.mkdtemp(prefix="state-", dir=tmp)
    return lib.base_env(ANONTEL_STATE_DIR=state, **extra)


def config(tmp, obj):
    """Writes a config with a unique name in tmp; returns its path."""
    fd, path = tempfile.mkstemp(prefix="config-", suffix=".json", dir=tmp)
    os.close(fd)
    return lib.write_config(os.path.dirname(path), obj, name=os.path.basename(path))


def tls_config(tmp, server=None, endpoint=None, ca=None, pin_=None, **more):
    """A config for `server` (endpoint https://localhost:PORT/collect unless given) with
    caFile (default: the test root) or a pin."""
    obj = {}
    if endpoint or server:
        obj["endpoint"] = endpoint or server.url()
    if pin_:
        obj["tls"] = {"pin": pin_}
    elif ca is not False:
        obj["tls"] = {"caFile": ca or certs().root}
    obj.update(more)
    return config(tmp, obj)


def report(tmp, cfg=None, args=(), env=None, timeout=20, mountns=None):
    """Runs `anontel report --force [-c cfg] args`; returns (CompletedProcess, seconds).
    mountns: {target: source} binds to run it in a private mount namespace."""
    argv = ["report", "--force"] + (["-c", cfg] if cfg else []) + list(args)
    env = env if env is not None else new_env(tmp)
    if mountns is not None:
        return run_in_mountns(argv, env=env, binds=mountns, timeout=timeout)
    started = time.monotonic()
    p = lib.run(argv, env=env, timeout=timeout)
    return p, time.monotonic() - started


def show(tmp, cfg=None, env=None):
    """The message bytes `anontel show` prints (without the trailing newline), after
    `anontel id`: the default scheme auto may choose a random ID, which show only reads
    once it is made (report makes it too)."""
    env = env or new_env(tmp)
    p = lib.run(["id"] + (["-c", cfg] if cfg else []), env=env)
    lib.eq(p.returncode, 0, f"id exit status (stderr {p.stderr!r})")
    p = lib.run(["show"] + (["-c", cfg] if cfg else []), env=env)
    lib.eq(p.returncode, 0, f"show exit status (stderr {p.stderr!r})")
    lib.check(p.stdout.endswith(b"\n") and p.stdout.count(b"\n") == 1,
              f"show prints one line: {p.stdout!r}")
    return p.stdout[:-1]


def describe(p):
    return f"exit {p.returncode}, stdout {p.stdout[-300:]!r}, stderr {p.stderr[-600:]!r}"


def expect_failure(p, code, words, what):
    """Exit `code` and exactly one stderr line starting 'anontel: ' that contains one
    of `words` (case-insensitive). Returns the line."""
    lib.eq(p.returncode, code, f"{what}: exit status ({describe(p)})")
    lines = p.stderr.decode("utf-8", "replace").splitlines()
    lib.eq(len(lines), 1, f"{what}: stderr line count ({describe(p)})")
    line = lines[0]
    lib.check(line.startswith("anontel: "), f"{what}: line starts with 'anontel: ': {line!r}")
    words = [words] if isinstance(words, str) else list(words)
    lib.check(any(w.lower() in line.lower() for w in words),
              f"{what}: line names the cause (one of {words}): {line!r}")
    return line


def expect_delivered(p, server, what, n=1):
    lib.eq(p.returncode, 0, f"{what}: exit status ({describe(p)})")
    lib.eq(len(server.requests), n, f"{what}: requests received (server errors {server.errors!r})")


_TS = re.compile(rb'"ts":"[^"]*"')


def mask_ts(body):
    return _TS.sub(b'"ts":"-"', body, count=1)


def check_message(body, expected, what):
    """body is the message `show` printed (expected), up to the ts value."""
    lib.eq(mask_ts(body), mask_ts(expected), f"{what}: body bytes (ts masked)")
    got, want = lib.strict_json(body), lib.strict_json(expected)
    lib.check("ts" in got, f"{what}: body has ts")
    ts = got.pop("ts")
    want.pop("ts", None)
    lib.eq(got, want, f"{what}: body without ts")
    lib.check(isinstance(ts, str) and re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", ts), f"{what}: ts format {ts!r}")
    t = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc)
    skew = abs((datetime.datetime.now(datetime.timezone.utc) - t).total_seconds())
    lib.check(skew < 300, f"{what}: ts {ts} is now (off by {skew:.0f}s)")


def check_request(r, host_header, body_expected, what, path="/collect"):
    """The request line, the headers the contract names, and the body."""
    lib.eq((r.method, r.target, r.version), ("POST", path, "HTTP/1.1"), f"{what}: request line")
    want = {"host": host_header, "user-agent": f"anontel/{VERSION}",
            "content-type": "application/json", "content-length": str(len(r.body)),
            "connection": "close"}
    for name, value in want.items():
        lib.eq(r.header(name), [value], f"{what}: header {name}")
    check_message(r.body, body_expected, what)
