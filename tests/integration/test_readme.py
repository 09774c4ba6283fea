"""README.md's examples are what the commands they show print (issue 15).

Every fenced block whose first line starts with "$ " is a transcript: each "$ " line is a
command, the lines up to the next one are what it prints (stdout, then stderr). The test
runs each command here, in a directory holding the README's own configuration example as
config.json (its ```json block) and build/anontel, with the tests' clean environment and a
fresh state dir, and compares the output line for line. Only instance IDs (64 hex digits),
timestamps and dates are masked: the message's ID is a hash of this machine's identity, and
the README was produced on the project's own machines (Debian 12, x86_64, a VM), whose facts
it shows. Commands must start with build/anontel: nothing else is run.
"""
import os
import re
import shlex

import lib

README = os.path.join(lib.TOP, "README.md")
MASKS = [(re.compile(r"\b[0-9a-f]{64}\b"), "<id>"),
         (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z"), "<timestamp>"),
         (re.compile(r"\b\d{4}-\d\d-\d\d\b"), "<date>")]


def mask(text):
    for pattern, repl in MASKS:
        text = pattern.sub(repl, text)
    return text


def readme():
    with open(README) as f:
        return f.read()


def transcripts(text):
    """[(command, expected output)] from every ``` block that starts with "$ "."""
    out = []
    for body in re.findall(r"^```[a-z]*\n(.*?)^```", text, re.M | re.S):
        if not body.startswith("$ "):
            continue
        for part in re.split(r"^\$ ", body, flags=re.M)[1:]:
            command, _, expected = part.partition("\n")
            out.append((command, expected))
    return out


def config_example(text):
    blocks = re.findall(r"^```json\n(.*?)^```", text, re.M | re.S)
    lib.check(blocks, "the README has a ```json configuration example")
    lib.strict_json(blocks[0])
    return blocks[0]


def test_readme_has_transcripts_of_show_and_version(tmp):
    commands = [c for c, _ in transcripts(readme())]
    lib.check(any(c.startswith("build/anontel show") and "-c config.json" in c
                  for c in commands), f"a show example with the README's config: {commands}")
    lib.check("build/anontel --version" in commands, f"a --version example: {commands}")


def test_readme_examples_are_what_the_commands_print(tmp):
    text = readme()
    os.makedirs(os.path.join(tmp, "build"))
    os.symlink(lib.BIN, os.path.join(tmp, "build", "anontel"))
    with open(os.path.join(tmp, "config.json"), "w") as f:
        f.write(config_example(text))
    env = lib.base_env(ANONTEL_STATE_DIR=os.path.join(tmp, "state"))
    for command, expected in transcripts(text):
        argv = shlex.split(command)
        lib.eq(argv[0], "build/anontel", f"README command {command!r}")
        p = lib.run(argv[1:], env=env, cwd=tmp, binary=os.path.join(tmp, argv[0]))
        lib.eq(p.returncode, 0, f"{command}: exit status ({p.stderr!r})")
        got = (p.stdout + p.stderr).decode()
        want_lines, got_lines = mask(expected).splitlines(), mask(got).splitlines()
        for i, (w, g) in enumerate(zip(want_lines, got_lines)):
            lib.eq(g, w, f"{command}: line {i + 1} of its output")
        lib.eq(len(got_lines), len(want_lines), f"{command}: lines of output")
