"""The CI-sized crash soak of OCR-to-SQL (bench/crash_soak.py runs 200 trials): 20 batches
killed with SIGKILL at seeded random moments and at named points (before and after a
checkpoint write, inside the document insert), then resumed. Every invariant holds after
every trial."""

from __future__ import annotations

from collections import Counter

from bench.crash_soak import soak


def test_twenty_killed_and_resumed_batches_keep_every_invariant() -> None:
    results = soak(trials=20, seed=2026)
    kinds = Counter(r["kill"].split(":")[0] for r in results)
    assert kinds == {"moment": 15, "before_checkpoint": 2, "after_checkpoint": 2,
                     "inside_insert": 1}
    assert all(r["killed"] for r in results), [r["kill"] for r in results if not r["killed"]]
    broken = {r["kill"]: r["broken"] for r in results if r["broken"]}
    assert broken == {}
