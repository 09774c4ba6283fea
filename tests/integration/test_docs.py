"""The man page lints clean and installs with the binary; the docs name every
verb and environment variable the binary knows."""
import os
import re
import shutil
import subprocess

import lib

MAN = os.path.join(lib.TOP, "docs", "anontel.1")


def test_man_page_lints_clean(tmp):
    mandoc = shutil.which("mandoc")
    lib.check(mandoc, "mandoc missing: build.sh test installs it")
    p = subprocess.run([mandoc, "-T", "lint", "-W", "warning", MAN], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=30)
    lib.eq(p.stdout.decode(), "", "mandoc -T lint -W warning output")
    lib.eq(p.returncode, 0, "mandoc exit")


def test_install_puts_binary_and_man_page_under_prefix(tmp):
    dest = os.path.join(tmp, "dest")
    p = subprocess.run([os.path.join(lib.TOP, "build.sh"), "install", "PREFIX=/opt/anontel",
                        f"DESTDIR={dest}"], cwd=lib.TOP, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=600)
    lib.eq(p.returncode, 0, f"install: {p.stdout[-1500:]!r}")
    binary = os.path.join(dest, "opt/anontel/bin/anontel")
    man = os.path.join(dest, "opt/anontel/share/man/man1/anontel.1")
    lib.check(os.access(binary, os.X_OK), "installed binary is executable")
    with open(binary, "rb") as a, open(lib.BIN, "rb") as b:
        lib.check(a.read() == b.read(), "the installed binary is the built one")
    with open(man, "rb") as a, open(MAN, "rb") as b:
        lib.check(a.read() == b.read(), "the installed man page is docs/anontel.1")
    bad = subprocess.run([os.path.join(lib.TOP, "build.sh"), "install", "PREFIX"], cwd=lib.TOP,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
    lib.eq(bad.returncode, 2, "a malformed install argument is a usage error")


def test_docs_cover_every_verb_and_variable(tmp):
    help_text = lib.run(["--help"]).stdout.decode()
    with open(MAN) as f:
        man = f.read()
    with open(os.path.join(lib.TOP, "README.md")) as f:
        readme = f.read()
    for verb in ("show", "id", "report", "status", "check", "notice", "forget"):
        lib.check(verb in help_text and f"Cm {verb}" in man, f"verb {verb} documented")
    src = ""
    for name in os.listdir(os.path.join(lib.TOP, "src")):
        with open(os.path.join(lib.TOP, "src", name)) as f:
            src += f.read()
    variables = set(re.findall(r'getenv\("([A-Za-z_]+)"\)', src))
    variables |= set(re.findall(r'"((?:https|all|no)_proxy|(?:HTTPS|ALL|NO)_PROXY)"', src))
    lib.check(len(variables) >= 10, f"found the variables the code reads: {sorted(variables)}")
    for var in sorted(variables):
        lib.check(var in man, f"{var} is in the man page")
        lib.check(var in readme or var.lower().endswith("proxy"), f"{var} is in the README")
