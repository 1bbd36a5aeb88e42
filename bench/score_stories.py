"""Score story grouping on ../shared/corpus/stories, per subset and leave one subset out.

Runs ``../shared/tools/score_stories.py`` with ``digest stories`` (the command the
scorer measures, start-up included), then, in-process, sweeps the two settings
(threshold, window) and reports leave-one-subset-out figures: for each subset, the
settings that score best on the other three, scored on it. A hidden split decides,
so settings must carry over to data they were not chosen on.

    .venv/bin/python bench/score_stories.py            # scorer run + leave-one-subset-out
    .venv/bin/python bench/score_stories.py --no-sweep # the scorer run only
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import subprocess
import sys
from pathlib import Path
from typing import Any

from digest.config import Stories
from digest.stories import State, read_jsonl

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SCORER = SHARED / "tools" / "score_stories.py"
THRESHOLDS = (0.08, 0.10, 0.12, 0.14, 0.16, 0.18)
WINDOWS = (1, 2, 3, 5)


def _scorer() -> Any:
    spec = importlib.util.spec_from_file_location("score_stories", SCORER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["score_stories"] = module
    spec.loader.exec_module(module)
    return module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-sweep", action="store_true", help="only the scorer's run")
    args = parser.parse_args()
    if not SCORER.is_file():
        sys.exit(f"{SCORER} is absent (../shared is not next to this checkout)")
    command = f'{ROOT / ".venv/bin/digest"} stories "$STORIES_INPUT"'
    subprocess.run([sys.executable, str(SCORER), "--cmd", command], check=True, cwd=ROOT)
    if args.no_sweep:
        return 0
    scorer = _scorer()
    articles, gold = scorer.load_split("visible")
    subsets = scorer.by_subset(articles)
    inputs = {}
    for name, rows in subsets.items():
        path = Path(f"/tmp/stories-{name}.jsonl")  # noqa: S108 (removed below)
        path.write_text("".join(scorer.json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        inputs[name] = read_jsonl(path)
        path.unlink()
    scores: dict[tuple[float, int], dict[str, float]] = {}
    for threshold, window in itertools.product(THRESHOLDS, WINDOWS):
        predicted: dict[str, str] = {}
        for reports in inputs.values():
            state = State(Stories(True, window, threshold))
            state.add(reports)
            predicted.update(state.assignment())
        report = scorer.evaluate(predicted, gold, articles)
        scores[threshold, window] = {s: v["b3_f1"] for s, v in report["subsets"].items()}
    print("\nleave one subset out: settings chosen on the other three, scored on the one")
    held = {}
    for name in subsets:
        others = [s for s in subsets if s != name]
        best = max(scores, key=lambda k: (sum(scores[k][s] for s in others), -k[0], k[1]))
        held[name] = scores[best][name]
        print(f"  {name:10s} threshold {best[0]:.2f} window {best[1]}: B3-F1 {held[name]:.3f}")
    print(f"  mean of held-out subsets: {sum(held.values()) / len(held):.3f}")
    default = (Stories().threshold, Stories().window)
    row = scores[default]
    figures = " ".join(f"{s} {v:.3f}" for s, v in row.items())
    print(f"defaults {default}: {figures} mean {sum(row.values()) / len(row):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
