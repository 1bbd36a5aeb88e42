"""The long fuzz run: every property of tests/properties.py on N generated inputs each.

    .venv/bin/python bench/fuzz.py 100000            # every target
    .venv/bin/python bench/fuzz.py 2000 "feed mapping"

Prints, per target, the inputs tried, the crashes (a failing input, shrunk by Hypothesis,
is printed in full) and the time. Record the figures in docs/security.md.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import properties


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("examples", type=int, help="generated inputs per target")
    parser.add_argument("targets", nargs="*", help=f"default: all of {list(properties.TARGETS)}")
    args = parser.parse_args()
    names = args.targets or list(properties.TARGETS)
    crashes = 0
    print("| target | inputs tried | crashes | time |\n| --- | ---: | ---: | ---: |")
    for name in names:
        if name == "feed mapping" and not properties.corpus_feeds():
            print(f"| {name} | skipped: no ../shared/corpus/feeds | | |")
            continue
        tried = 0

        def count() -> None:
            nonlocal tried
            tried += 1

        start = time.perf_counter()
        failed = 0
        try:
            properties.run(name, args.examples, on_example=count)
        except Exception:
            failed = 1
            traceback.print_exc(file=sys.stderr)
        seconds = time.perf_counter() - start
        crashes += failed
        print(f"| {name} | {tried:,} | {failed} | {seconds:,.0f} s |", flush=True)
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
