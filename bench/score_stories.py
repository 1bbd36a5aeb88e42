"""Score story grouping on ../shared/corpus/stories: per subset, and held out two ways.

Runs ``../shared/tools/score_stories.py`` with ``digest stories`` (the command the
scorer measures, start-up included), then, in-process, sweeps the two settings
(threshold, window) and reports two held-out estimates, since a hidden split with
other stories of the same four subsets is scored with the defaults:

- leave one subset out: for each subset, the settings that score best on the
  other three, scored on it (do the settings carry over to another kind of data?);
- split half: within each subset, the stories whose id hashes even are one half,
  the rest the other; the settings that score best on one half (all four subsets),
  scored on the other, both ways (do they carry over to other stories of the same
  kinds, as the hidden split's are?). Each half is clustered as a stream of its own.

    .venv/bin/python bench/score_stories.py            # scorer run + both estimates
    .venv/bin/python bench/score_stories.py --no-sweep # the scorer run only
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path
from typing import Any

from digest.config import Stories
from digest.stories import Report, State, read_jsonl

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SCORER = SHARED / "tools" / "score_stories.py"
THRESHOLDS = (0.08, 0.10, 0.12, 0.14, 0.16, 0.18)
WINDOWS = (1, 2, 3, 5)

Setting = tuple[float, int]
Scores = dict[Setting, dict[str, dict[str, float]]]
"""Per setting, per subset: the scorer's figures (``b3_p``, ``b3_r``, ``b3_f1``, …)."""


def _scorer() -> Any:
    spec = importlib.util.spec_from_file_location("score_stories", SCORER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["score_stories"] = module
    spec.loader.exec_module(module)
    return module


def _half(story: str) -> int:
    """A story's half: a fixed hash of its gold id, the same on every run and machine."""
    return zlib.crc32(story.encode()) & 1


def _sweep(scorer: Any, streams: dict[str, list[dict[str, Any]]], gold: dict[str, str]) -> Scores:
    """Every setting of the grid on every stream (each a subset, or half of one)."""
    reports: dict[str, list[Report]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, rows in streams.items():  # read as `digest stories` reads them
            path = Path(folder, name + ".jsonl")
            path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
            reports[name] = read_jsonl(path)
    articles = [row for rows in streams.values() for row in rows]
    scores: Scores = {}
    for threshold, window in itertools.product(THRESHOLDS, WINDOWS):
        predicted: dict[str, str] = {}
        for given in reports.values():
            state = State(Stories(True, window, threshold))
            state.add(given)
            predicted.update(state.assignment())
        scores[threshold, window] = scorer.evaluate(predicted, gold, articles)["subsets"]
    return scores


def _best(scores: Scores, subsets: list[str]) -> Setting:
    """The setting with the best mean F1 over ``subsets`` (ties: the lower threshold,
    then the wider window)."""
    return max(scores, key=lambda k: (sum(scores[k][s]["b3_f1"] for s in subsets), -k[0], k[1]))


def _row(figures: dict[str, tuple[float, float]]) -> str:
    """Each subset's F1/precision (issue 17 bounds ECB+'s precision too), then the mean F1."""
    mean = sum(f1 for f1, _ in figures.values()) / len(figures)
    each = " ".join(f"{s} {f1:.3f}/{p:.3f}" for s, (f1, p) in figures.items())
    return f"{each}  mean {mean:.3f}"


def _figures(scores: dict[str, dict[str, float]]) -> dict[str, tuple[float, float]]:
    return {name: (x["b3_f1"], x["b3_p"]) for name, x in scores.items()}


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
    names = list(subsets)

    whole = _sweep(scorer, subsets, gold)
    print("\nleave one subset out: settings chosen on the other three, scored on the one")
    held = {}
    for name in names:
        best = _best(whole, [s for s in names if s != name])
        held[name] = f1, precision = _figures(whole[best])[name]
        setting = f"threshold {best[0]:.2f} window {best[1]}"
        print(f"  {name:10s} {setting}: B3-F1 {f1:.3f} (P {precision:.3f})")
    print(f"  F1/P: {_row(held)}")

    print("\nsplit half: settings chosen on one half of each subset's stories, scored on the other")
    halves = [
        {name: [r for r in rows if _half(gold[r["id"]]) == side] for name, rows in subsets.items()}
        for side in (0, 1)
    ]
    swept = [_sweep(scorer, half, gold) for half in halves]
    both: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    for chosen, scored in ((0, 1), (1, 0)):
        best = _best(swept[chosen], names)
        figures = _figures(swept[scored][best])
        for name, value in figures.items():
            both[name].append(value)
        print(f"  chosen on half {chosen}: threshold {best[0]:.2f} window {best[1]}")
        print(f"    scored on half {scored}, F1/P: {_row(figures)}")
    mean = {n: (sum(f for f, _ in v) / 2, sum(p for _, p in v) / 2) for n, v in both.items()}
    print(f"  both ways, mean F1/P: {_row(mean)}")
    worst = {n: (min(f for f, _ in v), min(p for _, p in v)) for n, v in both.items()}
    print(f"  both ways, worst F1/P: {_row(worst)}")

    default = (Stories().threshold, Stories().window)
    row = whole[default]
    print(f"\ndefaults {default}, visible:")
    for name in names:
        x = row[name]
        print(f"  {name:10s} P {x['b3_p']:.3f} R {x['b3_r']:.3f} F1 {x['b3_f1']:.3f}")
    print(f"  F1/P: {_row(_figures(row))}")
    for side, half_scores in enumerate(swept):
        print(f"defaults on half {side}, F1/P: {_row(_figures(half_scores[default]))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
