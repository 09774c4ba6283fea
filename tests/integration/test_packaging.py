"""Packaging (issue 15): the licence file, the Makefile's knobs (CC, CFLAGS, LDFLAGS, PREFIX,
DESTDIR, SOURCE_DATE_EPOCH: two clean builds give the same bytes), contrib/ (systemd units
through `systemd-analyze verify`, the init scripts through busybox ash, dash and shellcheck,
the Alpine, OpenWrt and Buildroot recipes' build and install steps run here), and the
repository's Dockerfile built for real by podman from a checkout that has build/ and
third_party/ in it, then its image run.

The Dockerfile test builds with `podman build --network none`: what the image takes from
Debian (the debian:12 base, the `deps` stage's apt-get and BearSSL source) comes from podman's
per-machine storage in /var/tmp/anontel-podman/, made by ./build.sh test's set-up
(tests/integration/podcache.py); the test fails with one line when it is not there.
"""
import json
import os
import re
import shutil
import subprocess
import time

import lib
import podcache

TOP = lib.TOP
CONTRIB = os.path.join(TOP, "contrib")
# BearSSL's objects of the main build, reused by the test builds (BRB, HOSTBRB).
BRB = os.path.join(TOP, "build")


def sh(argv, timeout=300, **kw):
    """Runs argv; returns (exit status, stdout and stderr as one str)."""
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       stdin=subprocess.DEVNULL, timeout=timeout, **kw)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def source_tree(dest):
    """Copies the work tree's own files (tracked and new, not ignored) to dest, as a clean
    checkout or a release tarball would have them; third_party/'s BearSSL and jsmn are
    linked in where `with_third_party`."""
    rc, out = sh(["git", "-C", TOP, "ls-files", "-z", "-c", "-o", "--exclude-standard"])
    lib.eq(rc, 0, f"git ls-files: {out[-500:]}")
    for rel in sorted(set(out.split("\0")) - {""}):
        src = os.path.join(TOP, rel)
        if not os.path.lexists(src):
            continue   # deleted in the work tree
        os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
        shutil.copy2(src, os.path.join(dest, rel), follow_symlinks=False)
    return dest


def link_third_party(tree):
    os.makedirs(os.path.join(tree, "third_party"), exist_ok=True)
    for name in ("bearssl", "jsmn"):
        os.symlink(os.path.realpath(os.path.join(TOP, "third_party", name)),
                   os.path.join(tree, "third_party", name))


def make(args, timeout=300, **kw):
    return sh(["make", "-s", "-C", TOP] + list(args), timeout=timeout, **kw)


# ------------------------------------------------------------------ LICENSE

def _words(text):
    return " ".join(re.sub(r"[*/]", " ", text).split())


def test_license_is_isc_and_names_each_third_party_part(tmp):
    with open(os.path.join(TOP, "LICENSE")) as f:
        text = f.read()
    lib.check(text.startswith("anontel is distributed under the ISC licence"), "ISC first")
    lib.check("Copyright (c) 2026 The anontel authors" in text, "holder")
    for part, licence in (("BearSSL 0.6", "MIT"), ("jsmn 1.1.0", "MIT"), ("musl 1.2.3", "MIT"),
                          ("Mozilla's root certificates", "MPL-2.0")):
        row = [line for line in text.splitlines() if line.startswith(f"| {part}")]
        lib.eq(len(row), 1, f"one row for {part}")
        lib.check(f"| {licence}" in row[0] and "Debian" in row[0], f"{part}: {row[0]}")
    # The MIT notices are the fetched sources' own, word for word.
    flat = _words(text)
    with open(os.path.join(TOP, "third_party", "bearssl", "LICENSE.txt")) as f:
        lib.check(_words(f.read()) in flat, "BearSSL's LICENSE.txt is in LICENSE")
    with open(os.path.join(TOP, "third_party", "jsmn", "jsmn.h")) as f:
        head = f.read().split("*/")[0].replace("MIT License", "")
    lib.check(_words(head) in flat, "jsmn.h's licence comment is in LICENSE")


# ------------------------------------------------------------------ the Makefile

def test_make_passes_cc_cflags_ldflags_to_every_target_step(tmp):
    out = os.path.join(tmp, "b")
    rc, text = make(["-n", f"B={out}", f"BRB={out}", "CC=my-musl-cc", "CFLAGS=-O2 -mfoo",
                     "LDFLAGS=-Wl,-z,now", "HOSTCC=my-host-cc", f"{out}/anontel"])
    lib.eq(rc, 0, f"make -n: {text[-800:]}")
    lines = text.splitlines()
    compiles = [l for l in lines if l.startswith("my-musl-cc") and " -c " in l]
    lib.check(any("src/main.c" in l for l in compiles), "src/main.c compiled with CC")
    lib.check(any("/bearssl/src/" in l for l in compiles), "BearSSL compiled with CC")
    for l in compiles:
        # the packager's flags come after ours, so -O2 beats our -Oz
        lib.check(" -O2 -mfoo" in l and "-Oz" not in l, f"CFLAGS in: {l[:200]}")
    link = [l for l in lines if l.startswith("my-musl-cc") and f"-o {out}/anontel" in l]
    lib.eq(len(link), 1, "one link step with CC")
    lib.check("-static" in link[0] and "-O2 -mfoo -Wl,-z,now" in link[0], f"link: {link[0]}")
    lib.check(any(l.startswith("my-host-cc") and "mkroots" in l for l in lines),
              "the roots generator is built with HOSTCC")
    lib.check(not any("musl-gcc" in l for l in lines), "no musl-gcc once CC is given")
    # make's own default (cc) is not taken for the musl compiler
    env = {k: v for k, v in os.environ.items() if k != "CC"}
    rc, text = make(["-n", f"B={out}", f"BRB={out}", f"{out}/musl/src/main.o"], env=env)
    main = [l for l in text.splitlines() if "src/main.c" in l]
    lib.check(rc == 0 and len(main) == 1 and main[0].startswith("musl-gcc "),
              f"default CC: {main}")


def test_make_install_honours_prefix_and_destdir(tmp):
    dest = os.path.join(tmp, "dest")
    rc, text = make(["install", f"BRB={BRB}", "PREFIX=/usr", f"DESTDIR={dest}"])
    lib.eq(rc, 0, f"make install: {text[-800:]}")
    files = sorted(os.path.relpath(os.path.join(d, f), dest)
                   for d, _, fs in os.walk(dest) for f in fs)
    lib.eq(files, ["usr/bin/anontel", "usr/share/man/man1/anontel.1"], "installed files")
    lib.eq(os.stat(os.path.join(dest, "usr/bin/anontel")).st_mode & 0o777, 0o755, "mode")


def test_same_source_date_epoch_gives_the_same_bytes(tmp):
    # Two clean builds in two output dirs (different paths), the same tree and epoch;
    # BearSSL's objects are the main build's (BRB).
    epoch = "1700000000"   # 2023-11-14 22:13:20 UTC
    bins = []
    for name in ("one", "two"):
        out = os.path.join(tmp, name)
        rc, text = make(["-j2", f"B={out}", f"BRB={BRB}", f"{out}/anontel"],
                        env=dict(os.environ, SOURCE_DATE_EPOCH=epoch))
        lib.eq(rc, 0, f"build {name}: {text[-800:]}")
        with open(os.path.join(out, "anontel"), "rb") as f:
            bins.append(f.read())
    lib.check(bins[0] == bins[1], f"two builds differ ({len(bins[0])} and {len(bins[1])} bytes)")
    p = lib.run(["--version"], binary=os.path.join(tmp, "one", "anontel"))
    lib.check(b"built: 2023-11-14\n" in p.stdout, f"--version: {p.stdout!r}")
    rc, text = make(["-n", f"B={tmp}/x", "all"], env=dict(os.environ, SOURCE_DATE_EPOCH="soon"))
    lib.check(rc != 0 and "SOURCE_DATE_EPOCH 'soon' is not a number" in text, text[-300:])


# ------------------------------------------------------------------ contrib/

def test_systemd_units_verify_clean(tmp):
    # systemd-analyze checks ExecStart's binary and the man page named in Documentation=:
    # the unit's /usr/bin/anontel is pointed at the built binary, MANPATH at docs/.
    units = os.path.join(tmp, "units")
    man = os.path.join(tmp, "man", "man1")
    os.makedirs(units)
    os.makedirs(man)
    shutil.copy(os.path.join(TOP, "docs", "anontel.1"), man)
    with open(os.path.join(CONTRIB, "systemd", "anontel.service")) as f:
        service = f.read()
    lib.check("\nExecStart=/usr/bin/anontel report\n" in service, "ExecStart")
    with open(os.path.join(units, "anontel.service"), "w") as f:
        f.write(service.replace("ExecStart=/usr/bin/anontel", f"ExecStart={lib.BIN}"))
    shutil.copy(os.path.join(CONTRIB, "systemd", "anontel.timer"), units)
    rc, out = sh(["systemd-analyze", "verify", os.path.join(units, "anontel.service"),
                  os.path.join(units, "anontel.timer")],
                 env=dict(os.environ, MANPATH=os.path.dirname(man)), timeout=60)
    lib.eq((rc, out), (0, ""), "systemd-analyze verify")
    for key in ("Type=oneshot", "StateDirectory=anontel", "ProtectSystem=strict",
                "NoNewPrivileges=yes", "User=anontel"):
        lib.check(f"\n{key}\n" in service, f"{key} in anontel.service")
    with open(os.path.join(CONTRIB, "systemd", "anontel.sysusers")) as f:
        lib.check(re.search(r"^u anontel - ", f.read(), re.M), "sysusers line for anontel")


def test_init_scripts_parse_in_busybox_ash_and_dash_and_pass_shellcheck(tmp):
    scripts = [os.path.join(CONTRIB, "openwrt", "anontel", "files", "anontel.init"),
               os.path.join(CONTRIB, "alpine", "APKBUILD")]
    for shell in (["busybox", "ash"], ["dash"]):
        lib.check(shutil.which(shell[0]), f"{shell[0]} missing (./build.sh test installs it)")
        for s in scripts:
            rc, out = sh(shell + ["-n", s], timeout=30)
            lib.eq((rc, out), (0, ""), f"{' '.join(shell)} -n {os.path.relpath(s, TOP)}")
    lib.check(shutil.which("shellcheck"), "shellcheck missing (./build.sh test installs it)")
    # SC2034: variables the packaging system reads (START, USE_PROCD, pkgdesc, ...);
    # SC2154: variables it sets (srcdir, pkgdir, CFLAGS).
    rc, out = sh(["shellcheck", "-s", "sh", "-e", "SC2034,SC2154"] + scripts, timeout=60)
    lib.eq((rc, out), (0, ""), "shellcheck")
    with open(scripts[0]) as f:
        init = f.read()
    lib.check(init.startswith("#!/bin/sh /etc/rc.common\n"), "rc.common shebang")
    lib.check(os.access(scripts[0], os.X_OK), "the init script is executable")
    for word in ("USE_PROCD=1", "start_service()", "procd_open_instance",
                 'procd_set_param command "$PROG" report', "procd_close_instance"):
        lib.check(word in init, f"{word} in the procd init script")


def fake_upstream(tmp):
    """dl/: the release tarballs the recipes fetch, made here with upstream's layout (the
    machines reach no other site): anontel-0.1.0.tar.gz from the work tree, BearSSL 0.6
    from third_party/bearssl (Debian's source of the same release) and jsmn 1.1.0's
    header, under every name a recipe uses. File times are kept, so the main build's
    BearSSL objects (BRB) stay up to date."""
    dl = os.path.join(tmp, "dl")
    os.makedirs(dl)
    version = open(os.path.join(TOP, "VERSION")).read().strip()
    src = source_tree(os.path.join(tmp, "up", f"anontel-{version}"))
    jsmn = os.path.join(tmp, "up", "jsmn-1.1.0")
    os.makedirs(jsmn)
    shutil.copy2(os.path.join(TOP, "third_party", "jsmn", "jsmn.h"), jsmn)
    bearssl = os.path.realpath(os.path.join(TOP, "third_party", "bearssl"))
    for name, tree, arc in ((f"anontel-{version}.tar.gz", src, f"anontel-{version}"),
                            ("bearssl-0.6.tar.gz", bearssl, "bearssl-0.6"),
                            ("jsmn-1.1.0.tar.gz", jsmn, "jsmn-1.1.0")):
        rc, out = sh(["tar", "-C", os.path.dirname(tree), "-czf", os.path.join(dl, name),
                      "--transform", f"s,^{os.path.basename(tree)},{arc},",
                      os.path.basename(tree)])
        lib.eq(rc, 0, f"tar {name}: {out}")
    shutil.copy(os.path.join(dl, "jsmn-1.1.0.tar.gz"), os.path.join(dl, "v1.1.0.tar.gz"))
    return dl, version


def check_package_root(root, what, man=True):
    binary = os.path.join(root, "usr", "bin", "anontel")
    lib.check(os.access(binary, os.X_OK), f"{what}: /usr/bin/anontel installed")
    p = lib.run(["--version"], binary=binary)
    lib.check(p.returncode == 0 and re.search(rb"roots: \d+ compiled in", p.stdout),
              f"{what}: the packaged binary runs: {p.stdout!r} {p.stderr!r}")
    if man:
        lib.check(os.path.isfile(os.path.join(root, "usr/share/man/man1/anontel.1")),
                  f"{what}: man page installed")


def test_alpine_apkbuild_builds_and_packages(tmp):
    # abuild's steps by hand: sources unpacked in srcdir, then build, check and package
    # with Alpine's variables (CC is the musl gcc there: musl-gcc here).
    dl, version = fake_upstream(tmp)
    srcdir, pkgdir = os.path.join(tmp, "src"), os.path.join(tmp, "pkg")
    os.makedirs(srcdir)
    for f in (f"anontel-{version}.tar.gz", "bearssl-0.6.tar.gz", "jsmn-1.1.0.tar.gz"):
        lib.eq(sh(["tar", "-C", srcdir, "-xzf", os.path.join(dl, f)])[0], 0, f"untar {f}")
    apkbuild = os.path.join(CONTRIB, "alpine", "APKBUILD")
    with open(apkbuild) as f:
        text = f.read()
    lib.check(f"pkgver={version}\n" in text, f"pkgver is VERSION ({version})")
    script = (f'set -e\nsrcdir={srcdir}\npkgdir={pkgdir}\nCC=musl-gcc\nCFLAGS=-Os\nLDFLAGS=\n'
              f'. {apkbuild}\ncd "$builddir"\nbuild\ncheck\npackage\n')
    rc, out = sh(["busybox", "ash", "-c", script], timeout=400,
                 env=dict(lib.base_env(), MAKEFLAGS=f"-j2 BRB={BRB}"))
    lib.eq(rc, 0, f"APKBUILD build/check/package: {out[-1500:]}")
    check_package_root(pkgdir, "apk")
    lib.check(os.path.isfile(os.path.join(pkgdir, "usr/share/licenses/anontel/LICENSE")),
              "apk: LICENSE installed")


OPENWRT_RULES = """\
TAR := tar
INSTALL_DIR := install -d -m0755
INSTALL_BIN := install -m0755
INSTALL_DATA := install -m0644
INCLUDE_DIR := $(TOPDIR)/include
"""
OPENWRT_PACKAGE = """\
PKG_BUILD_DIR ?= $(BUILD_DIR)/$(PKG_NAME)-$(PKG_VERSION)
Download =
define Build/Prepare/Default
	mkdir -p $(PKG_BUILD_DIR)
	$(TAR) -C $(PKG_BUILD_DIR) --strip-components=1 -xzf $(DL_DIR)/$(PKG_SOURCE)
endef
define BuildPackage
stub-install:
	$$(Build/Prepare)
	$$(Build/Compile)
	$$(call Package/$(1)/install,$$(STUB_ROOT))
endef
"""


def test_openwrt_package_prepares_compiles_and_installs(tmp):
    dl, version = fake_upstream(tmp)
    top = os.path.join(tmp, "openwrt")
    os.makedirs(os.path.join(top, "include"))
    with open(os.path.join(top, "rules.mk"), "w") as f:
        f.write(OPENWRT_RULES)
    with open(os.path.join(top, "include", "package.mk"), "w") as f:
        f.write(OPENWRT_PACKAGE)
    pkg = os.path.join(CONTRIB, "openwrt", "anontel")
    with open(os.path.join(pkg, "Makefile")) as f:
        text = f.read()
    lib.check(f"PKG_VERSION:={version}\n" in text, f"PKG_VERSION is VERSION ({version})")
    root = os.path.join(tmp, "root")
    rc, out = sh(["make", "-s", "-C", pkg, f"TOPDIR={top}", f"DL_DIR={dl}",
                  f"BUILD_DIR={tmp}/build_dir", f"STUB_ROOT={root}", "TARGET_CC=musl-gcc",
                  "TARGET_CFLAGS=-Os", "TARGET_LDFLAGS=", "HOSTCC=gcc", f"BRB={BRB}", "-j2",
                  "stub-install"], timeout=400, env=lib.base_env())
    lib.eq(rc, 0, f"OpenWrt Build/Prepare, Build/Compile, Package/install: {out[-1500:]}")
    check_package_root(root, "ipk", man=False)
    lib.check(os.access(os.path.join(root, "etc/init.d/anontel"), os.X_OK), "init script")
    lib.check(os.path.isfile(os.path.join(root, "usr/share/doc/anontel/README.openwrt")),
              "README.openwrt installed")


BUILDROOT_STUB = """\
define sep


endef
generic-package =
include $(RECIPE)
ANONTEL_DIR := $(BUILD_DIR)/anontel-$(ANONTEL_VERSION)
ANONTEL_DL_DIR := $(DL_DIR)
TARGET_MAKE_ENV := PATH=$(PATH)
INSTALL := install
TAR := tar
$(ANONTEL_DIR)/.stamp_extracted:
	mkdir -p $(@D)
	$(TAR) -C $(@D) --strip-components=1 -xzf $(DL_DIR)/anontel-$(ANONTEL_VERSION).tar.gz
	$(foreach h,$(ANONTEL_POST_EXTRACT_HOOKS),$($(h))$(sep))
	touch $@
$(ANONTEL_DIR)/.stamp_built: $(ANONTEL_DIR)/.stamp_extracted
	$(ANONTEL_BUILD_CMDS)
	touch $@
$(ANONTEL_DIR)/.stamp_installed: $(ANONTEL_DIR)/.stamp_built
	$(ANONTEL_INSTALL_TARGET_CMDS)
	$(ANONTEL_INSTALL_INIT_SYSTEMD)
	touch $@
"""


def test_buildroot_package_extracts_builds_and_installs(tmp):
    dl, version = fake_upstream(tmp)
    br = os.path.join(CONTRIB, "buildroot", "anontel")
    with open(os.path.join(br, "anontel.mk")) as f:
        mk = f.read()
    lib.check(f"ANONTEL_VERSION = {version}\n" in mk, f"ANONTEL_VERSION is VERSION ({version})")
    extra = re.search(r"^ANONTEL_EXTRA_DOWNLOADS = \\\n((?:\t.*\n)+)", mk, re.M).group(1)
    names = sorted(os.path.basename(u.strip(" \t\\")) for u in extra.splitlines())
    with open(os.path.join(br, "anontel.hash")) as f:
        hashed = sorted(re.findall(r"^sha256\s+[0-9a-f]{64}\s+(\S+)$", f.read(), re.M))
    lib.eq(hashed, names, "anontel.hash pins every extra download")
    with open(os.path.join(br, "Config.in")) as f:
        lib.check("depends on BR2_TOOLCHAIN_USES_MUSL" in f.read(), "Config.in needs musl")
    stub = os.path.join(tmp, "buildroot.mk")
    with open(stub, "w") as f:
        f.write(BUILDROOT_STUB)
    target = os.path.join(tmp, "target")
    build_dir = os.path.join(tmp, "output", "build")
    rc, out = sh(["make", "-s", "-f", stub, f"RECIPE={br}/anontel.mk", f"DL_DIR={dl}",
                  f"BUILD_DIR={build_dir}", f"TARGET_DIR={target}", "TARGET_CC=musl-gcc",
                  "TARGET_CFLAGS=-Os", "TARGET_LDFLAGS=", "HOSTCC=gcc", f"BRB={BRB}", "-j2",
                  f"{build_dir}/anontel-{version}/.stamp_installed"], timeout=400,
                 env=lib.base_env())
    lib.eq(rc, 0, f"Buildroot extract hook, build, install: {out[-1500:]}")
    check_package_root(target, "buildroot", man=False)
    for unit in ("anontel.service", "anontel.timer"):
        lib.check(os.path.isfile(os.path.join(target, "usr/lib/systemd/system", unit)), unit)


# ------------------------------------------------------------------ podman and the Dockerfile

IMAGE = "localhost/anontel-dockerfile-test"


def decoy_checkout(ctx):
    """The context: the work tree's files, a .git, and a build/ and third_party/ that break
    the image if `COPY . .` takes them: BearSSL's header is an #error, and build/anontel is
    a shell script dated 2100 (make would keep it: newer than anything it depends on)."""
    source_tree(ctx)
    # A work tree whose third_party/ is a link (a git worktree's, say) has it copied as
    # that link: the decoy below must never be written through it.
    if os.path.islink(os.path.join(ctx, "third_party")):
        os.unlink(os.path.join(ctx, "third_party"))
    os.makedirs(os.path.join(ctx, ".git"))
    with open(os.path.join(ctx, ".git", "HEAD"), "w") as f:
        f.write("ref: refs/heads/main\n")
    inc = os.path.join(ctx, "third_party", "bearssl", "inc")
    os.makedirs(inc)
    with open(os.path.join(inc, "bearssl.h"), "w") as f:
        f.write('#error "third_party/ came in from the build context"\n')
    with open(os.path.join(ctx, "third_party", "bearssl", ".sha256-ok"), "w") as f:
        f.write("decoy\n")
    os.makedirs(os.path.join(ctx, "build"))
    open(os.path.join(ctx, "build", ".apt-updated"), "w").close()
    decoy = os.path.join(ctx, "build", "anontel")
    with open(decoy, "w") as f:
        f.write("#!/bin/sh\necho decoy\n")
    os.chmod(decoy, 0o755)
    future = time.mktime((2100, 1, 1, 0, 0, 0, 0, 0, -1))
    os.utime(decoy, (future, future))


def test_dockerfile_builds_with_podman_and_its_image_shows(tmp):
    pod = podcache.Podman()
    try:
        ctx = os.path.join(tmp, "checkout")
        decoy_checkout(ctx)
        podcache.ready(pod, ctx)
        started = time.monotonic()
        build = podcache.BUILD + ["--network", "none"]
        pod.run(*build, "-t", IMAGE, ctx, timeout=540)
        # The build stage tagged too (from the cache: no work), so the prune below keeps
        # its layers (BearSSL compiled) for the next run; podcache.DEPS keeps the deps stage's.
        pod.run(*build, "--target", "build", "-t", IMAGE + "-build", ctx, timeout=120)
        pod.run("image", "prune", "--force", timeout=120)
        built = time.monotonic() - started

        info = json.loads(pod.run("image", "inspect", IMAGE).stdout)[0]
        cfg = info["Config"]
        lib.eq((cfg.get("Entrypoint"), cfg.get("Cmd")), (["/anontel"], ["show"]),
               "the image's entry point and default command")
        lib.eq((info.get("Healthcheck") or {}).get("Test"),
               ["CMD", "/anontel", "check", "http://127.0.0.1:8080/health", "--report"],
               "the image's HEALTHCHECK (exec form)")
        # The final stage holds /anontel alone: export the container's files and list them.
        made = pod.run("create", IMAGE).stdout.decode().strip()
        files = pod.run("export", made).stdout
        pod.run("rm", made)
        names = subprocess.run(["tar", "-t"], input=files, stdout=subprocess.PIPE,
                               check=True).stdout.decode().split()
        lib.eq(sorted(n for n in names if not n.endswith("/")), ["anontel"],
               f"files in the image (/etc/hosts and the like are mounted at run time): {names}")

        p = pod.run("run", "--rm", "--network", "none", IMAGE, timeout=60, ok=False)
        lib.eq(p.returncode, 0, f"podman run IMAGE (show): {p.stderr[-1000:]!r}")
        lib.check(p.stdout.endswith(b"\n") and p.stdout.count(b"\n") == 1,
                  f"show prints one line: {p.stdout!r}")
        system = lib.strict_json(p.stdout)["data"]["system"]
        lib.eq((system["platform"], system["arch"]), ("linux", "x64"), "platform and arch")
        lib.eq((system["distro"], system["release"]), ("unknown", "unknown"),
               "a scratch image has no os-release")
        lib.check(b"telemetry is on" in p.stderr, f"show's stderr: {p.stderr!r}")
        p = pod.run("run", "--rm", "--network", "none", IMAGE, "--version", timeout=60)
        lib.check(re.search(rb"roots: \d+ compiled in", p.stdout), f"--version: {p.stdout!r}")
        print(f"# image built in {built:.0f} s, without the network", flush=True)
    finally:
        pod.close()
