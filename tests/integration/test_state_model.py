"""The state machine of `report` (SPEC §7 and §11, anontel issue 11) against its model:
tests/model/driver.py runs the real binary through random steps (runs, some --force,
some SIGKILLed; server answers 2xx, 4xx, 5xx, 429 + Retry-After, silence, resets;
clock jumps of minutes to years; interval changes; stray entries in kept/; stamps
numbers beyond their maximum; drains) and compares every step with
tests/model/statemodel.py. The long version is `./build.sh soak`.

Each run draws fresh seeds and prints them; a failure names its seed and step count:
    ANONTEL_MODEL_SEED=S ANONTEL_MODEL_STEPS=N python3 tests/model/driver.py -v
replays it. With those variables set this test replays that one seed."""
import os
import random
import sys
import time

import lib

sys.path.insert(0, os.path.join(lib.TOP, "tests", "model"))
import driver  # noqa: E402

SEEDS = 4
STEPS = 520            # per seed; with the final drains, > 2,000 steps in all


def test_binary_follows_the_model(tmp):
    if "ANONTEL_MODEL_SEED" in os.environ:
        seeds = [int(os.environ["ANONTEL_MODEL_SEED"])]
        steps = int(os.environ.get("ANONTEL_MODEL_STEPS", STEPS))
    else:
        first = random.SystemRandom().randrange(1 << 32)
        seeds, steps = [first + i for i in range(SEEDS)], STEPS
    print(f"# state model: seeds {seeds}, {steps} steps each", flush=True)
    started = time.monotonic()
    totals, failures = driver.run_seeds(seeds, steps, out=lambda t: print("# " + t, flush=True))
    secs = time.monotonic() - started
    print(f"# {totals.get('steps', 0)} steps in {secs:.1f} s: "
          + ", ".join(f"{k} {v}" for k, v in totals.items()), flush=True)
    lib.check(not failures, " || ".join(failures) + f" || replay: ANONTEL_MODEL_SEED=<seed> "
              f"ANONTEL_MODEL_STEPS={steps} python3 tests/model/driver.py -v")
    if len(seeds) == SEEDS:
        lib.check(totals["steps"] >= 2000, f"at least 2,000 steps ran ({totals['steps']})")
        # The steps must have reached what they are there for.
        for k in ("delivered", "rejected", "dropped", "killed", "clock_clamps", "timeouts",
                  "strays", "pokes", "drains"):
            lib.check(totals[k] > 0, f"the random steps reached {k} at least once: {totals}")
