"""The grokking detector on synthetic curves: no false positives, right epochs."""
from __future__ import annotations

import math
import random

import pytest

from grokconsole.core.detection import DetectionConfig, GrokDetector, analyze, fit_transition, logistic


def curve(n: int, train, val, every: int = 10, ood=None) -> list[dict]:
    rows = []
    for i in range(n):
        e = i * every
        row = {"epoch": e, "train_acc": train(e), "val_acc": val(e)}
        if ood is not None:
            row["ood_acc"] = ood(e)
        rows.append(row)
    return rows


def sigmoid(x: float, mid: float, width: float) -> float:
    return 1.0 / (1.0 + math.exp(-(x - mid) / width))


def test_clean_grokking() -> None:
    rows = curve(200, train=lambda e: min(1.0, e / 100), val=lambda e: 0.05 + 0.95 * sigmoid(e, 1200, 30))
    det = analyze(rows)
    assert det.memorization_epoch == 100
    assert det.grokked
    assert 1100 <= det.grokking_epoch <= 1300
    assert det.delay == det.grokking_epoch - 100
    assert det.transition_midpoint == pytest.approx(1200, abs=40)
    assert det.transition_width is not None and det.transition_width < 100


def test_noisy_grokking() -> None:
    rng = random.Random(0)
    rows = curve(300, train=lambda e: min(1.0, 0.2 + e / 150) - rng.random() * 0.005,
                 val=lambda e: min(1.0, max(0.0, 0.1 + 0.9 * sigmoid(e, 1500, 40) + rng.gauss(0, 0.02))))
    det = analyze(rows)
    assert det.grokked
    assert 1400 <= det.grokking_epoch <= 1700


def test_gradual_learning_is_not_grokking() -> None:
    rows = curve(100, train=lambda e: min(1.0, e / 300), val=lambda e: min(0.97, e / 320))
    det = analyze(rows)
    assert det.generalization_epoch is not None
    assert not det.grokked
    assert det.grokking_epoch is None


def test_plateau_never_generalizes() -> None:
    rows = curve(200, train=lambda e: min(1.0, e / 100), val=lambda e: 0.3 + 0.05 * math.sin(e / 50))
    det = analyze(rows)
    assert det.memorization_epoch == 100
    assert det.generalization_epoch is None and not det.grokked


def test_oscillation_is_not_generalization() -> None:
    rows = curve(200, train=lambda e: 1.0 if e >= 50 else 0.5, val=lambda e: 0.97 if (e // 10) % 2 else 0.4)
    det = analyze(rows)
    assert det.generalization_epoch is None and not det.grokked


def test_single_spike_is_not_generalization() -> None:
    rows = curve(100, train=lambda e: 1.0, val=lambda e: 0.99 if e == 500 else 0.2)
    assert not analyze(rows).grokked


def test_nan_and_missing_points_never_count() -> None:
    rows = curve(100, train=lambda e: min(1.0, e / 50), val=lambda e: float("nan") if e > 300 else 0.1)
    rows += [{"epoch": 1000 + i, "train_acc": 1.0} for i in range(10)]  # target missing
    rows += [{"epoch": None, "val_acc": 1.0}, {"train_acc": 1.0}]  # no epoch at all
    det = analyze(rows)
    assert det.generalization_epoch is None and not det.grokked


def test_nan_breaks_a_streak() -> None:
    vals = [0.1] * 20 + [0.99, 0.99, float("nan"), 0.99, 0.99, 0.99]
    rows = [{"epoch": i * 10, "train_acc": 1.0, "val_acc": v} for i, v in enumerate(vals)]
    det = analyze(rows, fit=False)
    assert det.generalization_epoch == 230


def test_ood_is_the_target_when_present() -> None:
    rows = curve(200, train=lambda e: min(1.0, e / 100), val=lambda e: min(1.0, e / 100),
                 ood=lambda e: 0.1 + 0.9 * sigmoid(e, 1000, 20))
    det = analyze(rows)
    assert det.target_metric == "ood_acc"
    assert det.grokked and 900 <= det.grokking_epoch <= 1100


def test_online_detector_flags_once_and_reports_events() -> None:
    rows = curve(200, train=lambda e: min(1.0, e / 100), val=lambda e: 0.05 + 0.95 * sigmoid(e, 1200, 30))
    det = GrokDetector()
    names = []
    flagged_at = None
    for row in rows:
        for ev in det.update(row):
            names.append(ev["event"])
        if det.grokking_detected and flagged_at is None:
            flagged_at = row["epoch"]
    assert names == ["memorization", "generalization", "grokking"]
    # confirmation needs `window` points at or above threshold
    assert flagged_at == det.result.grokking_epoch + 10 * (DetectionConfig().window - 1)


def test_thresholds_are_configurable() -> None:
    rows = curve(200, train=lambda e: min(0.95, e / 100), val=lambda e: 0.05 + 0.85 * sigmoid(e, 1200, 30))
    assert not analyze(rows).grokked
    cfg = DetectionConfig.from_config({"detect_train_threshold": 0.9, "detect_target_threshold": 0.85})
    assert cfg.train_threshold == 0.9
    assert analyze(rows, cfg).grokked


def test_fit_transition_recovers_parameters() -> None:
    xs = list(range(0, 2000, 10))
    ys = [float(logistic(x, 0.1, 0.98, 900, 25)) for x in xs]
    lo, hi, mid, width = fit_transition(xs, ys)
    assert mid == pytest.approx(900, abs=5)
    assert width == pytest.approx(25, rel=0.2)


def test_fit_transition_gives_up_on_flat_or_short_data() -> None:
    assert fit_transition([1, 2, 3], [0.1, 0.2, 0.3]) is None
    assert fit_transition(list(range(50)), [0.5] * 50) is None
