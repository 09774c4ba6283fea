#!/usr/bin/env python3
"""The measurements behind bench/run.sh (which installs the tools, makes the
certificates, builds the floor and starts bench/server.py first).

    bench.py --work DIR --bin BINARY --floor FLOOR [--runs N] [--rounds R]
             [--only main|growth|all] [--out RESULTS.md] [--png growth.png]

main:   one hyperfine invocation per round, all commands in each, R rounds; the
        times of all rounds pooled (so every command is measured in every part of
        the run: interleaved at round level), medians and ratios; peak RSS with
        /usr/bin/time; instruction counts under callgrind; the binary's size.
growth: show against 10/100/1,000 feature flags, report --force against 0/8/32
        kept messages and against a caFile of 2/50/150 roots; a least-squares line
        per series, plotted with gnuplot.
Results go to --out as Markdown (and DIR/results.json).
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
PATH_ = "/api/butlerTelemetry"

# Variables that would make a peer (or anontel) load a CA bundle nobody asked for.
SCRUB = ["SSL_CERT_FILE", "SSL_CERT_DIR", "NODE_EXTRA_CA_CERTS", "CURL_CA_BUNDLE",
         "ANONTEL_CONFIG", "ANONTEL_ENDPOINT", "ANONTEL_STATE_DIR", "ANONTEL_DISABLED",
         "ANONTEL_ID", "DO_NOT_TRACK", "http_proxy", "https_proxy", "HTTP_PROXY",
         "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"]


def clean_env():
    env = {k: v for k, v in os.environ.items() if k not in SCRUB}
    env["LC_ALL"] = "C"
    return env


ENV = clean_env()


def run(args, **kw):
    kw.setdefault("env", ENV)
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    kw.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run(args, **kw)


def must(args, what, **kw):
    p = run(args, **kw)
    if p.returncode != 0:
        sys.exit(f"bench: {what} failed ({p.returncode}): "
                 f"{p.stderr.decode(errors='replace')[-800:]}")
    return p


def first_line(args):
    try:
        p = run(args)
        return (p.stdout or p.stderr).decode(errors="replace").splitlines()[0].strip()
    except (OSError, IndexError):
        return "?"


class Bench:
    def __init__(self, a):
        self.a = a
        self.w = os.path.abspath(a.work)
        self.bin = os.path.abspath(a.bin)
        self.floor = os.path.abspath(a.floor)
        self.certs = os.path.join(self.w, "certs")
        self.root = os.path.join(self.certs, "root.pem")
        self.ports = dict(line.split() for line in open(os.path.join(self.w, "ports")))
        self.results = {"commands": {}, "rss": {}, "callgrind": {}, "growth": {}}
        self.load0 = os.getloadavg()

    def p(self, *parts):
        return os.path.join(self.w, *parts)

    def url(self, kind):
        return f"https://localhost:{self.ports[kind]}{PATH_}"

    def state_dir(self, name, fresh=True):
        d = self.p("state", name)
        if fresh:
            shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o700)
        return d

    def config(self, name, **obj):
        obj.setdefault("id", {"host": "sense.example.com"})
        path = self.p("config", name + ".json")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            json.dump(obj, f)
        return path

    def bundle(self, n):
        """The test root plus n-1 roots of the system bundle, as one PEM file."""
        path = self.p("certs", f"bundle-{n}.pem")
        if not os.path.exists(path):
            text = open(SYSTEM_BUNDLE).read()
            pems, i = [], 0
            while True:
                s = text.find("-----BEGIN CERTIFICATE-----", i)
                if s < 0:
                    break
                e = text.index("-----END CERTIFICATE-----", s) + len("-----END CERTIFICATE-----")
                pems.append(text[s:e] + "\n")
                i = e
            # Debian's bundle shrinks as CAs are retired: the missing ones are made
            # here (self-signed P-256 CAs), so the row keeps its count.
            for k in range(len(pems), n - 1):
                extra = self.p("certs", f"extra-{k}.pem")
                must(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                      "ec_paramgen_curve:P-256", "-nodes", "-keyout", "/dev/null",
                      "-subj", f"/CN=anontel bench extra root {k}", "-days", "3650",
                      "-addext", "basicConstraints=critical,CA:TRUE", "-out", extra],
                     "making an extra root")
                pems.append(open(extra).read())
            with open(path, "w") as f:
                f.write(open(self.root).read())
                f.writelines(pems[:n - 1])
        return path

    # ------------------------------------------------------------ hyperfine

    def hyperfine(self, cmds, runs, tag, warmup=3, prepare=None):
        """cmds: [(name, argv)]; returns {name: [seconds...]}."""
        out = self.p(f"hf-{tag}.json")
        args = ["hyperfine", "-N", "--style", "none", "--warmup", str(warmup),
                "--runs", str(runs), "--export-json", out]
        for name, argv in cmds:
            if prepare:
                args += ["--prepare", prepare(name)]
        for name, argv in cmds:
            args += ["--command-name", name, " ".join(argv)]
        must(args, f"hyperfine {tag}", stdout=subprocess.DEVNULL)
        got = json.load(open(out))["results"]
        res = {}
        for r in got:
            if any(c != 0 for c in r.get("exit_codes", [0])):
                sys.exit(f"bench: {r['command']} exited non-zero under hyperfine")
            res[r["command"]] = r["times"]
        return res

    def rounds(self, cmds, runs, rounds, tag, prepare=None):
        pooled = {name: [] for name, _ in cmds}
        per = max(1, -(-runs // rounds))
        for i in range(rounds):
            # Rotate the order each round, so no command always runs first or last.
            k = i % len(cmds)
            order = cmds[k:] + cmds[:k]
            for name, times in self.hyperfine(order, per, f"{tag}-{i}", prepare=prepare).items():
                pooled[name] += times
        return pooled

    # ------------------------------------------------------------ main

    def prepare_main(self):
        ec, rsa = self.url("ec"), self.url("rsa")
        self.sd_nodue = self.state_dir("nodue")
        self.cfg = {
            "show": self.config("show", endpoint=ec),
            "nodue": self.config("nodue", endpoint=ec, stateDir=self.sd_nodue),
            "nodue_bundle": self.config("nodue-bundle", endpoint=ec, stateDir=self.sd_nodue,
                                        tls={"caFile": SYSTEM_BUNDLE}),
            "ec": self.config("force-ec", endpoint=ec, stateDir=self.state_dir("force-ec"),
                              tls={"caFile": self.root}),
            "rsa": self.config("force-rsa", endpoint=rsa, stateDir=self.state_dir("force-rsa"),
                               tls={"caFile": self.root}),
            "ec150": self.config("force-ec-150", endpoint=ec,
                                 stateDir=self.state_dir("force-ec-150"),
                                 tls={"caFile": self.bundle(150)}),
        }
        # The same delivered report with the state on tmpfs: what the disk costs.
        self.shm = os.path.join("/dev/shm", f"anontel-bench-{os.getpid()}")
        shutil.rmtree(self.shm, ignore_errors=True)
        os.makedirs(self.shm, mode=0o700)
        shm = self.shm
        self.cfg["ec_tmpfs"] = self.config("force-ec-tmpfs", endpoint=ec, stateDir=shm,
                                           tls={"caFile": self.root})
        # check --report when the report is not due: the probe's GET and a look at
        # the stamps; against curl -fsS on the same URL.
        self.cfg["check"] = self.config("check-nodue", endpoint=ec, stateDir=self.sd_nodue,
                                        tls={"caFile": self.root})
        # A report that just succeeded, so the next one (interval 12h) is not due.
        prime = self.config("prime", endpoint=ec, stateDir=self.sd_nodue,
                            tls={"caFile": self.root})
        must([self.bin, "-q", "report", "--force", "-c", prime], "priming the not-due state")
        p = must([self.bin, "report", "-v", "-c", self.cfg["nodue"]], "report (not due)")
        if b"not due" not in p.stderr:
            sys.exit(f"bench: report was due: {p.stderr!r}")
        self.msg = self.p("msg.json")
        with open(self.msg, "wb") as f:
            f.write(must([self.bin, "-q", "show", "-c", self.cfg["show"]], "show").stdout[:-1])
        B, q = self.bin, "-q"
        node = shutil.which("node")
        curl = shutil.which("curl")
        self.cmds = [
            ("floor", [self.floor]),
            ("report (not due)", [B, q, "report", "-c", self.cfg["nodue"]]),
            ("report (not due, caFile = system bundle)", [B, q, "report", "-c",
                                                          self.cfg["nodue_bundle"]]),
            ("show", [B, q, "show", "-c", self.cfg["show"]]),
            ("id", [B, q, "id", "-c", self.cfg["show"]]),
            ("node facts + ID", [node, os.path.join(HERE, "node_facts.js"), "sense.example.com"]),
        ]
        for kind in ("ec", "rsa"):
            u = self.url(kind)
            self.cmds += [
                (f"report --force ({kind})", [B, q, "report", "--force", "-c", self.cfg[kind]]),
                (f"curl ({kind})", [curl, "-sS", "-o", "/dev/null", "--cacert", self.root,
                                    "-H", "Content-Type:application/json",
                                    "--data-binary", "@" + self.msg, u]),
                (f"node https ({kind})", [node, os.path.join(HERE, "node_post.js"), u, self.root,
                                          self.msg]),
            ]
        self.cmds.append(("report --force (ec, caFile = 150 roots)",
                          [B, q, "report", "--force", "-c", self.cfg["ec150"]]))
        self.cmds.append(("report --force (ec, state on tmpfs)",
                          [B, q, "report", "--force", "-c", self.cfg["ec_tmpfs"]]))
        # A container's health endpoint: plain HTTP on loopback, served by nginx.
        health = f"http://127.0.0.1:{self.ports['health']}/health"
        self.cmds += [
            ("check --report (not due)", [B, q, "check", "--report", health, "-c",
                                          self.cfg["check"]]),
            ("curl -fsS (health)", [curl, "-fsS", "-o", "/dev/null", health]),
        ]
        if self.a.compare:
            # The same anontel rows for another build, in the same hyperfine runs (so
            # under the same load), with state dirs of their own.
            C = os.path.abspath(self.a.compare)
            extra = []
            for name, argv in self.cmds:
                if argv[0] != B:
                    continue
                argv = [C] + argv[1:]
                if "--force" in argv:
                    i = argv.index("-c") + 1
                    obj = json.load(open(argv[i]))
                    obj["stateDir"] = self.state_dir("compare-" + os.path.basename(argv[i]))
                    argv[i] = self.config("compare-" + os.path.basename(argv[i])[:-5], **obj)
                extra.append(("[compare] " + name, argv))
            self.cmds += extra
        for name, argv in self.cmds:
            must(argv, name, stdout=subprocess.DEVNULL)

    def main_times(self):
        pooled = self.rounds(self.cmds, self.a.runs, self.a.rounds, "main")
        for name, times in pooled.items():
            self.results["commands"][name] = {
                "median_ms": statistics.median(times) * 1000, "runs": len(times),
                "min_ms": min(times) * 1000,
                "stdev_ms": statistics.stdev(times) * 1000 if len(times) > 1 else 0}

    def rss(self, n=5):
        """Peak RSS, median of n runs, two ways: /usr/bin/time -v (its own ~450 KiB
        count in: Linux charges the child the pages it had before execve) and
        bench/maxrss.c (a static vfork launcher, whose share is ~0)."""
        self.results["rss_launcher"] = {}
        for name, argv in self.cmds:
            for key, pre in (("rss", ["/usr/bin/time", "-v"]),
                             ("rss_launcher", [self.a.maxrss])):
                vals = []
                for _ in range(n):
                    p = must(pre + argv, f"{pre[0]} {name}", stdout=subprocess.DEVNULL)
                    err = p.stderr.decode(errors="replace").strip().splitlines()
                    if key == "rss":
                        v = [l for l in err if "Maximum resident set size" in l][-1]
                        vals.append(int(v.split(":")[1]))
                    else:
                        vals.append(int(err[-1]))
                self.results[key][name] = statistics.median(vals)

    def syscalls(self):
        """System calls and fsyncs of one run of each anontel command (strace -f -c; the
        sandbox's filter does not change what is counted). A --force report delivers, so
        its row is a delivered report's cost."""
        self.results["syscalls"] = {}
        for name, argv in self.cmds:
            if argv[0] != self.bin:
                continue
            out = self.p("strace." + name.replace(" ", "_").replace("/", "_"))
            must(["strace", "-f", "-c", "-o", out] + argv, f"strace {name}",
                 stdout=subprocess.DEVNULL)
            total = fsyncs = 0
            for line in open(out):
                f = line.split()
                if len(f) >= 5 and f[-1] in ("fsync", "fdatasync"):
                    fsyncs += int(f[3])
                if len(f) >= 4 and f[-1] == "total":
                    total = int(f[3])
            self.results["syscalls"][name] = {"total": total, "fsyncs": fsyncs}

    def callgrind(self):
        B = self.bin
        for name, argv in [("show", [B, "-q", "show", "-c", self.cfg["show"]]),
                           ("id", [B, "-q", "id", "-c", self.cfg["show"]]),
                           ("report (not due)", [B, "-q", "report", "-c", self.cfg["nodue"]]),
                           ("report --force (ec)", [B, "-q", "report", "--force", "-c",
                                                    self.cfg["ec"]]),
                           ("report --force (rsa)", [B, "-q", "report", "--force", "-c",
                                                     self.cfg["rsa"]]),
                           ("report --force (ec, caFile = 150 roots)",
                            [B, "-q", "report", "--force", "-c", self.cfg["ec150"]])]:
            out = self.p("callgrind." + name.replace(" ", "_").replace("/", "_"))
            must(VALGRIND + ["--callgrind-out-file=" + out] + argv,
                 f"callgrind {name}", stdout=subprocess.DEVNULL)
            self.results["callgrind"][name] = callgrind_total(out)

    # ------------------------------------------------------------ growth

    def growth(self):
        ec = self.url("ec")
        runs = max(10, self.a.runs // 2)
        series = {}

        # show against the number of feature flags (groups of 10 leaves).
        cmds = []
        for n in (10, 100, 1000):
            feats = {f"g{g}": {f"f{i}": (i % 2 == 0) for i in range(min(10, n - 10 * g))}
                     for g in range(-(-n // 10))}
            cfg = self.config(f"flags-{n}", endpoint=ec, enabledFeatures=feats)
            cmds.append((str(n), [self.bin, "-q", "show", "-c", cfg]))
            must(cmds[-1][1], f"show with {n} flags", stdout=subprocess.DEVNULL)
        growth_cmds = {"flags": cmds}
        series["flags"] = self.hyperfine(cmds, runs, "growth-flags")

        # The same flags in one flat object (the worst case for per-object work).
        cmds = []
        for n in (10, 100, 1000):
            cfg = self.config(f"flat-{n}", endpoint=ec,
                              enabledFeatures={f"f{i}": (i % 2 == 0) for i in range(n)})
            cmds.append((str(n), [self.bin, "-q", "show", "-c", cfg]))
            must(cmds[-1][1], f"show with {n} flat flags", stdout=subprocess.DEVNULL)
        growth_cmds["flat"] = cmds
        series["flat"] = self.hyperfine(cmds, runs, "growth-flat")

        # report --force against the number of kept messages (a template state dir
        # copied into place before every run).
        msg = open(self.msg, "rb").read()
        cmds, templates = [], {}
        for n in (0, 8, 32):
            tpl = self.state_dir(f"kept-{n}-template")
            if n:
                os.makedirs(os.path.join(tpl, "kept"), mode=0o700)
                for i in range(1, n + 1):
                    path = os.path.join(tpl, "kept", f"{i:020d}.json")
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    os.write(fd, msg)
                    os.close(fd)
            live = self.p("state", f"kept-{n}")
            templates[str(n)] = f"sh -c 'rm -rf {live} && cp -a {tpl} {live}'"
            cfg = self.config(f"kept-{n}", endpoint=ec, stateDir=live, tls={"caFile": self.root})
            cmds.append((str(n), [self.bin, "-q", "report", "--force", "-c", cfg]))
            run(["sh", "-c", templates[str(n)]])
            must(cmds[-1][1], f"report with {n} kept", stdout=subprocess.DEVNULL)
            # Kept messages are N.json; the audit log's delivered ones (N.sent) stay.
            left = [f for f in os.listdir(os.path.join(live, "kept"))
                    if f.endswith(".json")] if os.path.isdir(os.path.join(live, "kept")) else []
            if left:
                sys.exit(f"bench: {len(left)} kept messages left after report with {n} kept")
        growth_cmds["kept"] = cmds
        series["kept"] = self.hyperfine(cmds, max(10, runs // 2), "growth-kept",
                                        prepare=lambda name: templates[name])

        # report --force against the size of the caFile.
        cmds = []
        for n in (2, 50, 150):
            cfg = self.config(f"roots-{n}", endpoint=ec, stateDir=self.state_dir(f"roots-{n}"),
                              tls={"caFile": self.bundle(n)})
            cmds.append((str(n), [self.bin, "-q", "report", "--force", "-c", cfg]))
            must(cmds[-1][1], f"report with {n} roots", stdout=subprocess.DEVNULL)
        growth_cmds["roots"] = cmds
        series["roots"] = self.hyperfine(cmds, runs, "growth-roots")

        # Instructions per point (deterministic, so linearity is judged on them).
        self.growth_ir = {}
        for key, cmds_ in growth_cmds.items():
            for name, argv in cmds_:
                if key == "kept":
                    run(["sh", "-c", templates[name]])
                out = self.p(f"callgrind.growth-{key}-{name}")
                must(VALGRIND + ["--callgrind-out-file=" + out] + argv,
                     f"callgrind growth {key} {name}", stdout=subprocess.DEVNULL)
                self.growth_ir.setdefault(key, {})[name] = callgrind_total(out)

        dat = self.p("growth.dat")
        with open(dat, "w") as f:
            for key, res in series.items():
                xs, ys = [], []
                for name, times in res.items():
                    xs.append(int(name))
                    ys.append(statistics.median(times) * 1000)
                slope, icpt = fit(xs, ys)
                irs = [self.growth_ir[key][str(x)] for x in xs]
                self.results["growth"][key] = {"x": xs, "median_ms": ys, "slope_ms": slope,
                                               "intercept_ms": icpt, "ir": irs}
                f.write(f"# {key}: x median_ms fit_ms\n")
                for x, y in zip(xs, ys):
                    f.write(f"{x} {y:.4f} {icpt + slope * x:.4f}\n")
                f.write("\n\n")
        png = os.path.abspath(self.a.png)
        must(["gnuplot", "-e", f"data='{dat}'; out='{png}'", os.path.join(HERE, "plot.gp")],
             "gnuplot")


# valgrind does not model seccomp: under callgrind the binary runs with its filter off
# (ANONTEL_SANDBOX=off), which leaves out the filter's one prctl and nothing else.
VALGRIND = ["env", "ANONTEL_SANDBOX=off", "valgrind", "--tool=callgrind"]


def callgrind_total(path):
    total = None
    for line in open(path):
        if line.startswith(("summary:", "totals:")):
            total = int(line.split()[1])
    return total


def fit(xs, ys):
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    return slope, my - slope * mx


# ------------------------------------------------------------------ report

def cpu_model():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "?"


def fmt_ms(v):
    return f"{v:.2f}" if v < 100 else f"{v:.0f}"


# Where SPEC 10 is not met, and why (from profiles of this build; see the table above).
def outage_section(text):
    """The simulation's own report (bench/sim_outage.py): its table and verdict lines."""
    out = ["## A fleet through an outage (bench/sim_outage.py, bench/outage.png)", "",
           "100,000 instances of the model of the state machine (tests/model/statemodel.py, "
           "which tests/integration/test_state_model.py holds the binary to), 12 h interval, "
           "a HEALTHCHECK every 30 s, the endpoint down for 6 hours; requests per minute "
           "before, during and after. `restart`: a fleet restarted together with empty "
           "state an hour into the outage. `doubling, no jitter`: the back-off before "
           "issue 11, for comparison.", ""]
    lines = text.splitlines()
    out += [ln for ln in lines if ln.startswith("bench/sim_outage.py:")] + [""]
    out += [ln for ln in lines if ln.startswith("|")] + [""]
    out += [ln for ln in lines if ln.startswith(("phases:", "restart:"))] + [""]
    return out


GAPS = """## Where the budget is not met, and why (and what was done)

This section is written by hand into bench.py and dated: its figures are those of three runs
of 2026-12-01 from 18:00 to 18:03 UTC, load average under 1.4 (the table above is the last of
them); rewrite it when the code changes. On this machine kind an empty static exec takes
about 1 ms and a page fault about 10 us.

- **Binary size (192 KiB):** 218,960 bytes, from 223,248 at the last round (-4.3 KB), 22,352
  over. What went: `-Oz` (gcc 12) instead of `-Os` for our code and BearSSL's, 1.4 KB with
  no more instructions per report; a second pass over our own code by module (state,
  report, main, config, json, id, facts, sandbox, net, http, url, civil), 2.9 KB, same
  output bytes, error lines, checks and system calls. Where the bytes are: the roots 51 KB
  (47 KB of RSA and EC keys, which do not compress; one root is in Debian's bundle twice
  with the same DN and key, about 530 bytes), BearSSL about 40 KB, musl 12 KB, our own code
  about 113 KB, of which 13.5 KB is our X25519, P-256 and RSA. So our code would have to fit
  in about 91 KB. The pass's helpers each found 1-6% in their modules and reported that
  more needs removing checks or SPEC 11's features (the receivers' formats, `schema`, the
  audit log, `check`, proxies, the resolver) or code that is hard to read. The one large
  lever is the crypto: with BearSSL's generic i31 code for all three (X25519, P-256, RSA)
  the binary is 9.2 KB smaller and a report costs 59 M instructions instead of 6.2 M (ec;
  rsa 39.8 M), which gives up the 1/4-of-curl row; P-256 alone by i31 is -7 KB and +1 M
  instructions. armhf (BearSSL's 32-bit code throughout) is 189,340 bytes, under the budget.
- **check --report not due vs curl -fsS (1/20):** 9.7-9.8x. curl -fsS takes 17-18 ms here,
  about eighteen empty execs: a probe would have to cost less than one empty exec (0.9
  ms) to meet the ratio, which no process can. `check` keeps its sandbox (it parses what
  the network sends) and makes 31 system calls.
- **report (not due) (1.5x):** 1.35-1.48x: met, narrowly at times. Its instructions
  (64,648) and system calls (23) are those of the last round; what it pays beyond the
  floor is mostly page faults, 45 against the empty exec's 24. In four runs at 17:41-17:48
  (the same code with BearSSL still built at -Os) it was 1.41-1.47x, and 1.62x in the one
  where every command was 20-35% slower (curl 33.9 ms against 25-26).
- **report --force vs curl (1/4):** ec 5.1-6.4x, rsa 4.8-5.3x faster: met in every run.
  System calls of a delivered report: 78 with a kept random ID, the default, within the
  budget of 80; 89 with `id.host` (its Butler inputs: the route, the MAC, the DMI UUID, the
  address), which these configs set.
- **fsyncs per delivered report (2):** 0. A new message that stays kept (the endpoint
  down) is fsynced, file then `kept/`, after the attempt: 2 fsyncs on the failure path only.
- **report --force vs node https (1/20):** ec 28.5-28.7x, rsa 27.1-30.1x: met.
- **show (2x), id, RSS:** show 1.58-1.84x, id 341-411x faster than node: met; peak RSS
  256 KiB with or without a caFile.
- **Growth:** a 150-root caFile costs 16.4 M instructions (the last round's table said
  15.1 M; its binary, measured now the same way, takes 16.4 M too: the difference was in
  that run, not in the code); under 2x a report in wall time.
"""


def write_results(b, path):
    r = b.results
    c = r["commands"]
    size = os.path.getsize(b.bin)
    lines = []
    add = lines.append
    versions = {
        "anontel": first_line([b.bin, "--version"]).replace("anontel: ", ""),
        "curl": first_line(["curl", "--version"]),
        "node": first_line(["node", "--version"]),
        "systeminformation": json.load(open(os.path.join(
            HERE, "node_modules", "systeminformation", "package.json")))["version"],
        "openssl (server, via Python ssl)": first_line(
            ["python3", "-c", "import ssl; print(ssl.OPENSSL_VERSION)"]),
        "nginx (health endpoint)": first_line([os.path.join(
            os.path.dirname(HERE), "build", "bench", "nginx", "root", "usr", "sbin", "nginx"),
            "-v"]).replace("nginx version: ", ""),
        "hyperfine": first_line(["hyperfine", "--version"]),
        "valgrind": first_line(["valgrind", "--version"]),
        "kernel": platform.release(),
    }
    add("# anontel benchmark results")
    add("")
    add(f"Written by `bench/run.sh` on {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}"
        f"; CPU: {cpu_model()} ({os.cpu_count()} cores); load average at the start "
        f"{b.load0[0]:.1f}, at the end {os.getloadavg()[0]:.1f} (other work on the machine "
        "shows here: wall times and fsync latency suffer, instruction counts do not).")
    add("Versions: " + "; ".join(f"{k} {v}" for k, v in versions.items()) + ".")
    add("")
    if c:
        n = min(v["runs"] for v in c.values())
        add(f"Wall time: medians of {n}+ runs per command (hyperfine -N, 3 warm-up runs), "
            f"all commands in each of {b.a.rounds} rounds (order rotated), times pooled. "
            f"Scheduling: {'`' + b.a.sched + '` (SCHED_FIFO: other work on the machine does not preempt the measured processes or the server)' if b.a.sched != 'normal' else 'normal'}. "
            "Server: bench/server.py (Python ssl = OpenSSL) on 127.0.0.1, one thread per "
            "connection; its share of each handshake is in every client's time. "
            "Health endpoint of the check rows: Debian's nginx (one process, `return 200`). "
            "Peers get the same CA file (the 1-cert test root); no CA bundle variable set "
            "for anyone.")
        add("")
        floor = c["floor"]["median_ms"]
        add("| command | median ms | x floor | vs peer | budget (SPEC 10) | peak RSS KiB "
            "(time -v) | peak RSS KiB (maxrss) |")
        add("|---|---:|---:|---:|---|---:|---:|")

        def row(name, peer=None, budget="", check=None):
            m = c[name]["median_ms"]
            vs = ""
            ok = ""
            if peer:
                ratio = c[peer]["median_ms"] / m
                vs = f"{ratio:.1f}x faster than {peer}"
            if check is not None:
                ok = " **met**" if check else " **not met**"
            add(f"| {name} | {fmt_ms(m)} | {m / floor:.2f} | {vs} | {budget}{ok} | "
                f"{r['rss'].get(name, 0):.0f} | {r.get('rss_launcher', {}).get(name, 0):.0f} |")

        def ratio(a, bname):
            return c[bname]["median_ms"] / c[a]["median_ms"]

        row("floor")
        row("report (not due)", budget="<= 1.5x floor",
            check=c["report (not due)"]["median_ms"] <= 1.5 * floor)
        row("report (not due, caFile = system bundle)", budget="(not a budget line)")
        row("show", budget="<= 2x floor", check=c["show"]["median_ms"] <= 2 * floor)
        row("id", peer="node facts + ID", budget=">= 200x node",
            check=ratio("id", "node facts + ID") >= 200)
        row("node facts + ID")
        for kind in ("ec", "rsa"):
            f = f"report --force ({kind})"
            row(f, peer=f"curl ({kind})", budget="<= 1/4 curl",
                check=ratio(f, f"curl ({kind})") >= 4)
            add(f"| | | | {ratio(f, f'node https ({kind})'):.1f}x faster than node https "
                f"({kind}) | <= 1/20 node"
                f"{' **met**' if ratio(f, f'node https ({kind})') >= 20 else ' **not met**'} | | |")
            row(f"curl ({kind})")
            row(f"node https ({kind})")
        big = "report --force (ec, caFile = 150 roots)"
        row(big, budget="< 2x report --force (ec)",
            check=c[big]["median_ms"] < 2 * c["report --force (ec)"]["median_ms"])
        row("report --force (ec, state on tmpfs)", peer="curl (ec)",
            budget="(not a budget line: what the disk costs)")
        row("check --report (not due)", peer="curl -fsS (health)", budget="<= 1/20 curl -fsS",
            check=ratio("check --report (not due)", "curl -fsS (health)") >= 20)
        row("curl -fsS (health)")
        add("")
        cmp_rows = [k for k in c if k.startswith("[compare] ")]
        if cmp_rows:
            add(f"Compared build (`{b.a.compare}`, {os.path.getsize(b.a.compare):,} bytes), "
                "measured in the same runs:")
            add("")
            add("| command | this build ms | compared build ms | change | compared x floor |")
            add("|---|---:|---:|---:|---:|")
            for k in cmp_rows:
                base = k[len("[compare] "):]
                m0, m1 = c[base]["median_ms"], c[k]["median_ms"]
                add(f"| {base} | {fmt_ms(m0)} | {fmt_ms(m1)} | {100 * (m1 - m0) / m0:+.0f}% | "
                    f"{m1 / floor:.2f} |")
            add("")
        rl = r.get("rss_launcher", {})
        plain = max(rl.get(k, 0) for k in c if k.startswith("report") and "caFile" not in k)
        worst = max(rl.get(k, 0) for k in c if k.startswith("report"))
        add(f"Peak RSS of report (maxrss column; the time -v column carries /usr/bin/time's own "
            f"~450 KiB, see the floor row): {plain:.0f} KiB without a CA file, {worst:.0f} KiB "
            f"at most with one (budget 512 KiB: {'met' if plain <= 512 else 'not met'} "
            f"without, {'met' if worst <= 512 else 'not met'} with a 150-root caFile). "
            f"Stripped binary: {size:,} bytes = "
            f"{size / 1024:.1f} KiB (budget 192 KiB = 196,608 bytes: "
            f"{'met' if size <= 196608 else f'not met, {size - 196608:,} bytes over'}).")
        add("")
    if r["callgrind"]:
        add("Instructions (valgrind --tool=callgrind, total Ir; repeatable to <0.1% "
            "on a noisy machine):")
        add("")
        add("| command | instructions |")
        add("|---|---:|")
        for name, ir in r["callgrind"].items():
            add(f"| {name} | {ir:,} |")
        add("")
    if r.get("syscalls"):
        add("## System calls per run (strace -f -c)")
        add("")
        add("One run each; budget (SPEC 11): <= 80 system calls and <= 2 fsyncs per delivered "
            "report (the `report --force` rows deliver). These configs set `id.host`, so `auto` "
            "chooses Butler's ID and a report reads its inputs (the route, the MAC, the DMI UUID, "
            "the IPv4 address: about 10 calls); with a kept random ID, the default in a "
            "container, a delivered report makes 78 (tests/integration/test_syscall_budget.py).")
        add("")
        add("| command | system calls | fsync + fdatasync |")
        add("|---|---:|---:|")
        for name, v in r["syscalls"].items():
            add(f"| {name} | {v['total']} | {v['fsyncs']} |")
        add("")
    if getattr(b, "outage", None):
        lines.extend(outage_section(b.outage))
    if r["growth"]:
        g = r["growth"]
        add("## How cost grows (bench/growth.png)")
        add("")
        add("Slope: least-squares fit of the wall-time medians. Verdict from instruction "
            "counts (callgrind, deterministic): linear or better when the instructions per "
            "added item between the last two points are at most those between the first two "
            "(+10%).")
        add("")
        add("| series | points (x: median ms) | fitted slope | instructions (x: Ir) | verdict |")
        add("|---|---|---|---|---|")
        labels = {"flags": ("show vs feature flags (objects of 10)", "per flag"),
                  "flat": ("show vs feature flags (one flat object)", "per flag"),
                  "kept": ("report --force vs kept messages", "per kept message"),
                  "roots": ("report --force vs caFile roots", "per root")}
        for key, s in g.items():
            pts = ", ".join(f"{x}: {y:.2f}" for x, y in zip(s["x"], s["median_ms"]))
            x, ir = s["x"], s["ir"]
            d1 = (ir[1] - ir[0]) / (x[1] - x[0])
            d2 = (ir[2] - ir[1]) / (x[2] - x[1])
            verdict = "linear or better" if d2 <= d1 * 1.10 else "worse than linear"
            slope = s["slope_ms"]
            shown = f"{slope * 1000:.1f} us" if abs(slope) < 1 else f"{slope:.2f} ms"
            irs = ", ".join(f"{a}: {b / 1e6:.2f}M" for a, b in zip(x, ir))
            add(f"| {labels[key][0]} | {pts} | {shown} {labels[key][1]} | {irs} | {verdict} "
                f"({d1:,.0f} then {d2:,.0f} Ir per item) |")
        add("")
    add(GAPS)
    with open(path, "w") as f:
        f.write("\n".join(lines))
    with open(b.p("results.json"), "w") as f:
        json.dump(r, f, indent=1)


def wait_quiet(limit, secs):
    """Waits up to secs for the 1-minute load average to fall under limit: wall times
    taken while other work runs (builds, test suites) are not worth keeping."""
    import time
    end = time.monotonic() + secs
    said = False
    while os.getloadavg()[0] >= limit and time.monotonic() < end:
        if not said:
            print(f"bench: load average {os.getloadavg()[0]:.1f} >= {limit}: waiting up to "
                  f"{secs:.0f} s for a quieter machine", file=sys.stderr)
            said = True
        time.sleep(5)
    if os.getloadavg()[0] >= limit:
        print(f"bench: warning: measuring at load average {os.getloadavg()[0]:.1f}",
              file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--floor", required=True)
    ap.add_argument("--maxrss", required=True)
    ap.add_argument("--runs", type=int, default=45)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", choices=("main", "growth", "all"), default="all")
    ap.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"))
    ap.add_argument("--png", default=os.path.join(HERE, "growth.png"))
    ap.add_argument("--quiet-load", type=float, default=1.0,
                    help="wait for the 1-minute load average to fall below this")
    ap.add_argument("--quiet-wait", type=float, default=600, help="seconds to wait at most")
    ap.add_argument("--sched", default="normal", help="how the measured processes were run")
    ap.add_argument("--compare", help="another anontel build, measured in the same runs")
    a = ap.parse_args()
    if a.sched == "normal":
        wait_quiet(a.quiet_load, a.quiet_wait)
    b = Bench(a)
    b.prepare_main()
    if a.only in ("main", "all"):
        b.main_times()
        b.rss()
        b.syscalls()
        b.callgrind()
    if a.only in ("growth", "all"):
        b.growth()
    if a.only == "all":
        # Exits 1 while the 2x target is missed: recorded, not fatal.
        b.outage = subprocess.run([sys.executable, os.path.join(HERE, "sim_outage.py")],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True).stdout
    shutil.rmtree(b.shm, ignore_errors=True)
    write_results(b, a.out)
    print(open(a.out).read())


if __name__ == "__main__":
    main()
