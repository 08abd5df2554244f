"""The grokking detector on synthetic curves: no false positives, right epochs."""
from __future__ import annotations

import math
import random

import pytest

from grokconsole.runs.detection import DetectionConfig, GrokDetector, analyze, fit_transition, logistic


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


# --- the relative rule: delayed generalization that tops out below the absolute threshold ---

def ood_rows(ood, n: int = 300, every: int = 5, mem: int = 100, sigma: float = 0.02, seed: int = 0) -> list[dict]:
    """Train memorizes by epoch ``mem``; ``ood(e)`` plus Gaussian noise is the target."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        e = i * every
        value = min(1.0, max(0.0, ood(e) + rng.gauss(0, sigma)))
        rows.append({"epoch": e, "train_acc": min(1.0, 0.3 + 0.7 * e / mem), "val_acc": min(1.0, e / mem),
                     "ood_acc": value})
    return rows


def test_ood_plateau_then_sharp_rise_below_threshold_is_grokking() -> None:
    # OOD sits at ~0.3 for hundreds of epochs after memorization, then jumps to ~0.87 and stays.
    rows = ood_rows(lambda e: 0.3 + 0.57 * sigmoid(e, 900, 8))
    assert not analyze(rows, DetectionConfig(relative=False)).grokked  # today's absolute rule misses it
    det = analyze(rows)
    assert det.grokked and det.rule == "relative" and det.target_metric == "ood_acc"
    assert det.memorization_epoch == 100
    assert 880 <= det.grokking_epoch <= 960
    assert det.delay == det.grokking_epoch - 100


def test_camelyon_like_modest_ceiling_is_grokking() -> None:
    rows = ood_rows(lambda e: 0.42 + 0.3 * sigmoid(e, 1000, 10), n=400, sigma=0.01, seed=3)
    det = analyze(rows)
    assert det.grokked and det.rule == "relative" and 980 <= det.grokking_epoch <= 1060


def test_relative_rule_reports_events_online_once() -> None:
    rows = ood_rows(lambda e: 0.3 + 0.55 * sigmoid(e, 900, 8), seed=1)
    det = GrokDetector()
    events = [ev for row in rows for ev in det.update(row)]
    assert [ev["event"] for ev in events] == ["memorization", "generalization", "grokking"]
    grok = events[-1]
    assert grok["rule"] == "relative" and grok["confirmed_epoch"] >= grok["epoch"]
    assert 0.2 <= grok["rise_from"] <= 0.35 and 0.75 <= grok["rise_to"] <= 0.9


def test_relative_rule_can_be_switched_off_by_config() -> None:
    rows = ood_rows(lambda e: 0.3 + 0.57 * sigmoid(e, 900, 8))
    cfg = DetectionConfig.from_config({"detect_relative": False})
    assert not analyze(rows, cfg).grokked
    assert not analyze(rows, DetectionConfig(min_rise=0.7)).grokked  # asks for more than the 0.57 rise


@pytest.mark.parametrize("name, ood", [
    ("slow drift from memorization", lambda e: 0.3 + 0.6 * min(1.0, max(0.0, (e - 120) / 1300))),
    ("plateau then a rise three times as long", lambda e: 0.3 + 0.55 * min(1.0, max(0.0, (e - 400) / 900))),
    ("never rises", lambda e: 0.35 + 0.04 * math.sin(e / 40)),
    ("brief spikes", lambda e: 0.9 if e in (500, 505, 900, 1200, 1205) else 0.3),
    ("falls after memorization", lambda e: 0.8 - 0.5 * sigmoid(e, 700, 20)),
    ("ordinary learning to a low ceiling", lambda e: 0.7 * min(1.0, e / 110)),
    ("sharp rise before memorization", lambda e: 0.1 + 0.7 * sigmoid(e, 60, 3)),
])
def test_no_flag_for_curves_that_are_not_grokking(name: str, ood) -> None:
    for seed in range(3):
        det = analyze(ood_rows(ood, seed=seed, sigma=0.03))
        assert not det.grokked, (name, seed, det.grokking_epoch)


def test_noise_cannot_fake_a_rise() -> None:
    # A plateau at 0.4 with σ 0.08 noise: its excursions exceed min_rise, but not 8 σ.
    rows = ood_rows(lambda e: 0.4, n=1000, every=1, sigma=0.08, seed=5)
    assert not analyze(rows).grokked


def test_a_missing_value_breaks_the_hold() -> None:
    # After the jump every third evaluation is missing: never w values in a row, never a held rise.
    rows = ood_rows(lambda e: 0.3 + 0.55 * sigmoid(e, 900, 8))
    for row in rows:
        if row["epoch"] > 850 and row["epoch"] % 15 == 0:
            row["ood_acc"] = None
    assert not analyze(rows).grokked


def test_rise_tracker_memory_does_not_grow_with_the_run() -> None:
    det = GrokDetector()
    for row in ood_rows(lambda e: 0.3 + 0.4 * e / 50_000, n=10_000, every=5, sigma=0.02):
        det.update(row)
    sizes = {len(v) for v in vars(det._rise).values() if isinstance(v, list)}
    assert sizes == {101}


def test_fit_transition_refuses_curves_that_do_not_rise() -> None:
    xs = list(range(0, 2000, 10))
    falling = [float(logistic(x, 0.9, 0.1, 900, 25)) for x in xs]
    assert fit_transition(xs, falling) is None
    rng = random.Random(0)
    noisy_flat = [0.4 + rng.gauss(0, 0.03) for _ in xs]
    assert fit_transition(xs, noisy_flat) is None
    rising = [float(logistic(x, 0.3, 0.85, 900, 25)) for x in xs]
    assert fit_transition(xs, rising) is not None


def test_window_jump_rule_fires_once_where_the_means_differ() -> None:
    """detect_method=window: mean of the last w evaluations beats the w before by > threshold."""
    from grokconsole.runs.jump import WindowJump

    vals = [0.1] * 12 + [0.5] * 10
    rule = WindowJump(window=4, threshold=0.2)
    fired = [e for e, v in enumerate(vals) if rule.update(e, v)]
    first = next(e for e in range(8, len(vals)) if sum(vals[e - 3:e + 1]) / 4 - sum(vals[e - 7:e - 3]) / 4 > 0.2)
    assert fired == [first] and rule.fired_epoch == first
    flat = WindowJump(window=3, threshold=0.2)
    assert not any(flat.update(e, 0.2 + 0.01 * (e % 2)) for e in range(50))
    short = WindowJump(window=10, threshold=0.2)  # needs 2·window evaluations
    assert not any(short.update(e, v) for e, v in enumerate([0.0] * 10 + [1.0] * 9))


def test_window_method_is_reported_beside_the_default_detector() -> None:
    from grokconsole.runs.summary import SummaryBuilder

    rows = curve(40, train=lambda e: 1.0, val=lambda e: 0.1 if e < 200 else 0.6)
    cfg = DetectionConfig(method="window", jump_window=5, jump_threshold=0.2)
    det = GrokDetector(cfg)
    events = [ev for row in rows for ev in det.update(row)]
    jumps = [ev for ev in events if ev["event"] == "val_jump"]
    assert len(jumps) == 1 and det.result.jump_epoch == jumps[0]["epoch"] == 220
    summary = SummaryBuilder().build({"detect_method": "window"}, det.result, status="finished", wall_time=1.0)
    assert summary["detectors"] == {"default": det.result.grokking_epoch, "window": 220}
    assert "detectors" not in SummaryBuilder().build({}, det.result, status="finished", wall_time=1.0)
    plain = GrokDetector(DetectionConfig.from_config({"detect_method": "default"}))
    assert not any(ev["event"] == "val_jump" for row in rows for ev in plain.update(row))
    assert DetectionConfig.from_config({"detect_method": "window", "detect_jump_window": 7}).jump_window == 7


def test_the_target_is_a_parameter_the_config_can_override() -> None:
    assert DetectionConfig.from_config({}).target_metric is None  # the default rule
    assert DetectionConfig.from_config({}, target="val_acc").target_metric == "val_acc"
    told = DetectionConfig.from_config({"detect_target_metric": "ood_acc"}, target="val_acc")
    assert told.target_metric == "ood_acc"
    rows = [{"epoch": e, "train_acc": 1.0, "val_acc": 0.1, "ood_acc": 0.1} for e in range(0, 50, 10)]
    assert analyze(rows, DetectionConfig(target_metric="val_acc")).target_metric == "val_acc"
    assert analyze(rows).target_metric == "ood_acc"
