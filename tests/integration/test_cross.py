"""Embedded targets (docs/embedded.md): tools/cross.sh builds build/aarch64/anontel,
build/armhf/anontel and build/riscv64/anontel (static musl, stripped), and each runs under
qemu-user-static on this machine: `show` names Node's arch, `report` delivers to a loopback
TLS server, `check` works.

The first test builds all three (tools/cross.sh --qemu: cross gcc, musl-dev of the target or,
for riscv64, Debian's musl source built once, and qemu-user-static with apt-get; make is
incremental, so an up-to-date tree costs ~1 s).
binfmt_misc is not relied on: every run is `qemu-<cpu>-static BINARY ARGS`."""
import os
import re
import struct
import subprocess

import lib
import peers

TARGETS = {
    # target: (qemu, ELF class, e_machine, Node's arch name); uname -m under qemu-user is
    # "aarch64" and "armv7l", which facts_arch maps to Node's names.
    "aarch64": ("qemu-aarch64-static", 2, 183, "arm64"),
    "armhf": ("qemu-arm-static", 1, 40, "arm"),
    # uname -m "riscv64", Node's name too; EM_RISCV
    "riscv64": ("qemu-riscv64-static", 2, 243, "riscv64"),
}
CROSS = os.path.join(lib.TOP, "tools", "cross.sh")
EF_ARM_ABI_FLOAT_HARD = 0x400
EF_RISCV_FLOAT_ABI_DOUBLE = 0x4   # lp64d, Debian's riscv64 ABI (RV64GC)
EF_RISCV_FLOAT_ABI = 0x6


def binary(target):
    return os.path.join(lib.TOP, "build", target, "anontel")


def qrun(target, args, env=None, timeout=60):
    """Runs the target's binary under qemu-user (no binfmt needed)."""
    path = binary(target)
    lib.check(os.path.exists(path), f"{path} was not built (see test_cross_build)")
    return lib.run([path] + list(args), env=env, timeout=timeout, binary=TARGETS[target][0])


def test_cross_build(tmp):
    p = subprocess.run([CROSS, "--qemu"] + list(TARGETS), cwd=lib.TOP, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=480)
    out = p.stdout.decode("utf-8", "replace")
    lib.eq(p.returncode, 0, f"tools/cross.sh exit status; output: {out[-1500:]}")
    for t in TARGETS:
        lib.check(os.path.isfile(binary(t)), f"{binary(t)} exists")


def _elf(path):
    """(class, e_machine, e_flags, program header types, section header types)."""
    with open(path, "rb") as f:
        data = f.read()
    lib.eq(data[:4], b"\x7fELF", f"{path}: ELF magic")
    lib.eq(data[5], 1, f"{path}: little-endian")
    cls = data[4]
    if cls == 2:
        machine, = struct.unpack_from("<H", data, 18)
        phoff, shoff, flags = struct.unpack_from("<QQI", data, 32)
        phentsize, phnum, shentsize, shnum = struct.unpack_from("<HHHH", data, 54)
    else:
        machine, = struct.unpack_from("<H", data, 18)
        phoff, shoff, flags = struct.unpack_from("<III", data, 28)
        phentsize, phnum, shentsize, shnum = struct.unpack_from("<HHHH", data, 42)
    phtypes = [struct.unpack_from("<I", data, phoff + i * phentsize)[0] for i in range(phnum)]
    shtypes = [struct.unpack_from("<I", data, shoff + i * shentsize + 4)[0]
               for i in range(shnum)]
    return cls, machine, flags, phtypes, shtypes


def _check_elf(target):
    _, cls, machine, _ = TARGETS[target]
    got_cls, got_machine, flags, phtypes, shtypes = _elf(binary(target))
    lib.eq((got_cls, got_machine), (cls, machine), f"{target}: ELF class and machine")
    lib.check(3 not in phtypes, f"{target}: no PT_INTERP (static)")
    lib.check(2 not in phtypes, f"{target}: no PT_DYNAMIC (static)")
    lib.check(2 not in shtypes, f"{target}: no .symtab (stripped)")
    if target == "armhf":
        lib.check(flags & EF_ARM_ABI_FLOAT_HARD, f"armhf: hard-float ABI (e_flags {flags:#x})")
    if target == "riscv64":
        lib.eq(flags & EF_RISCV_FLOAT_ABI, EF_RISCV_FLOAT_ABI_DOUBLE,
               f"riscv64: double-float ABI (e_flags {flags:#x})")


def test_binaries_are_static_stripped_elf_for_the_cpu(tmp):
    for t in TARGETS:
        _check_elf(t)


def test_no_glibc_or_host_headers(tmp):
    # Every header the target build sees comes from the target's musl (third_party/
    # musl-<arch>), the cross gcc's own include dir, or the project: none from /usr/include.
    srcs = sorted(os.path.join("src", f) for f in os.listdir(os.path.join(lib.TOP, "src"))
                  if f.endswith(".c"))
    for t in TARGETS:
        cc = subprocess.run([CROSS, "--print-cc", t], cwd=lib.TOP, stdout=subprocess.PIPE,
                            check=True).stdout.decode().split()
        gccinc = subprocess.run(cc + ["-print-file-name=include"], stdout=subprocess.PIPE,
                                check=True).stdout.decode().strip()
        allowed = [os.path.join(lib.TOP, "third_party", "musl-" + t) + "/", gccinc + "/"]
        flags = ["-std=c11", "-D_DEFAULT_SOURCE", '-DANONTEL_VERSION="x"',
                 '-DANONTEL_BUILD_DATE="x"', "-DANONTEL_BUILD_EPOCH=0LL", "-Isrc",
                 "-Ithird_party/bearssl/inc", "-Ithird_party/bearssl/src", "-Ithird_party/jsmn",
                 f"-Ibuild/{t}/gen", "-M"]
        p = subprocess.run(cc + flags + srcs, cwd=lib.TOP, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        lib.eq(p.returncode, 0, f"{t}: gcc -M ({p.stderr[-500:]!r})")
        deps = [d for d in p.stdout.decode().replace("\\\n", " ").split() if not d.endswith(":")]
        outside = sorted({d for d in deps if d.startswith("/")
                          and not any(os.path.realpath(d).startswith(os.path.realpath(a))
                                      or d.startswith(a) for a in allowed)})
        lib.eq(outside, [], f"{t}: headers from outside musl and gcc")
        lib.check(any(d.startswith(allowed[0]) for d in deps), f"{t}: musl's headers are used")
        # glibc's and the kernel's headers are not on the path at all.
        for hdr in ("gnu/stubs.h", "linux/types.h"):
            q = subprocess.run(cc + ["-x", "c", "-fsyntax-only", "-"],
                               input=f"#include <{hdr}>\n".encode(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
            lib.check(q.returncode != 0 and b"No such file" in q.stderr,
                      f"{t}: <{hdr}> must not be found ({q.stderr[-300:]!r})")


def _show(target, tmp, cfg=None, env=None):
    # `id` first: auto may choose a random ID, which show only reads once made.
    env = env or peers.new_env(tmp)
    p = qrun(target, ["id"] + (["-c", cfg] if cfg else []), env=env)
    lib.eq(p.returncode, 0, f"{target} id: exit status ({peers.describe(p)})")
    p = qrun(target, ["show"] + (["-c", cfg] if cfg else []), env=env)
    lib.eq(p.returncode, 0, f"{target} show: exit status ({peers.describe(p)})")
    lib.check(p.stdout.endswith(b"\n") and p.stdout.count(b"\n") == 1,
              f"{target} show prints one line: {p.stdout!r}")
    return p.stdout[:-1]


def _show_names_the_arch(target, tmp):
    env = peers.new_env(tmp)
    msg = lib.strict_json(_show(target, tmp, env=env))
    system = msg["data"]["system"]
    lib.eq(system["arch"], TARGETS[target][3], f"{target}: system.arch")
    lib.eq(system["platform"], "linux", f"{target}: system.platform")
    # Same machine, same state dir: the same facts and ID as the native binary.
    native = lib.strict_json(peers.show(tmp, env=env))["data"]["system"]
    for key in ("id", "platform", "release", "distro", "codename"):
        lib.eq(system.get(key), native.get(key), f"{target}: system.{key} as the native build")
    p = qrun(target, ["--version"])
    lib.eq(p.returncode, 0, f"{target} --version")
    lib.check(re.search(rb"roots: \d+ compiled in", p.stdout), f"{target}: {p.stdout!r}")


def test_aarch64_show_says_arm64(tmp):
    _show_names_the_arch("aarch64", tmp)


def test_armhf_show_says_arm(tmp):
    _show_names_the_arch("armhf", tmp)


def test_riscv64_show_says_riscv64(tmp):
    _show_names_the_arch("riscv64", tmp)


def _report_delivers(target, tmp):
    # localhost (loopback, no DNS), TLS 1.2 with the test CA
    # from caFile, the POST and its reply: all inside the emulated binary.
    with peers.TLSServer() as s:
        cfg = peers.tls_config(tmp, s)
        env = peers.new_env(tmp)
        expected = _show(target, tmp, cfg, env)
        p = qrun(target, ["report", "--force", "-c", cfg], env=env)
        peers.expect_delivered(p, s, f"{target} report")
        r = s.requests[0]
        lib.eq(r.sni, "localhost", f"{target}: SNI")
        lib.eq(r.tls_version, "TLSv1.2", f"{target}: TLS version")
        peers.check_request(r, f"localhost:{s.port}", expected, f"{target} report")


def test_aarch64_report_delivers_over_tls(tmp):
    _report_delivers("aarch64", tmp)


def test_armhf_report_delivers_over_tls(tmp):
    _report_delivers("armhf", tmp)


def test_riscv64_report_delivers_over_tls(tmp):
    _report_delivers("riscv64", tmp)


def _check_verb(target, tmp):
    with peers.TLSServer(tls=False) as s:
        url = f"http://127.0.0.1:{s.port}/health"
        p = qrun(target, ["check", url], env=peers.new_env(tmp))
        lib.eq(p.returncode, 0, f"{target} check: exit status ({peers.describe(p)})")
        lib.eq(len(s.requests), 1, f"{target} check: requests received")
        lib.eq((s.requests[0].method, s.requests[0].target), ("GET", "/health"),
               f"{target} check: request")
    with peers.TLSServer(tls=False, reply=b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n"
                                           b"Connection: close\r\n\r\n") as s:
        p = qrun(target, ["check", f"http://127.0.0.1:{s.port}/health"],
                 env=peers.new_env(tmp))
        lib.eq(p.returncode, 1, f"{target} check on a 503: exit status ({peers.describe(p)})")


def test_aarch64_check(tmp):
    _check_verb("aarch64", tmp)


def test_armhf_check(tmp):
    _check_verb("armhf", tmp)


def test_riscv64_check(tmp):
    _check_verb("riscv64", tmp)


def test_random_id_is_shared_across_cpus(tmp):
    # The armhf binary makes the random ID (getrandom and the state lock under qemu-user);
    # the aarch64, riscv64 and native binaries read the same file and print the same ID.
    state = os.path.join(tmp, "state")
    cfg = lib.write_config(tmp, {"id": {"scheme": "random"}})
    env = lib.base_env(ANONTEL_STATE_DIR=state)
    p = qrun("armhf", ["id", "-c", cfg], env=env)
    lib.eq(p.returncode, 0, f"armhf id ({peers.describe(p)})")
    made = p.stdout.decode().strip()
    lib.check(re.fullmatch(r"[0-9a-f]{64}", made), f"64 hex: {made!r}")
    p = qrun("aarch64", ["id", "-c", cfg], env=env)
    lib.eq(p.stdout.decode().strip(), made, "aarch64 reads the same ID")
    p = qrun("riscv64", ["id", "-c", cfg], env=env)
    lib.eq(p.stdout.decode().strip(), made, "riscv64 reads the same ID")
    p = lib.run(["id", "-c", cfg], env=env)
    lib.eq(p.stdout.decode().strip(), made, "the native binary reads the same ID")

