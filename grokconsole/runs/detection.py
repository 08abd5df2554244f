"""Grokking detection: one definition, used online by trainers and offline by readers.

Definitions (thresholds configurable in :class:`DetectionConfig`, config keys ``detect_*``):

* **target metric** — the history column the detector watches: ``DetectionConfig.target_metric``.
  A run's task spec names it (``TaskSpec.target``); a run records it in its config as
  ``detect_target_metric`` at launch, and readers that know the task pass the spec's
  (:func:`grokconsole.tasks.registry.detection_config`; this module imports no task). A run
  without a spec (an unknown task, a ``-- COMMAND`` run, a Tracker in a user's script) keeps the
  default rule: ``ood_acc`` where the run logs it, else ``val_acc``.
* **values** — a target or train value that is missing, not finite or beyond ±1e15
  (:func:`grokconsole.runs.history.measured`) counts as missing: it breaks a streak and enters
  no level. ``Detection.skipped`` counts the targets left out for being non-finite or huge, so a
  reader can say so.
* **memorization epoch M** — the first evaluation with ``train_acc >= train_threshold``.
* **generalization epoch G**, two rules; the first to hold decides:

  - *absolute*: the first evaluation that starts a run of ``window`` consecutive evaluations
    with the target ``>= target_threshold`` (NaN or a missing value breaks the run). Requiring
    a run means a single spike or an oscillation is not taken for generalization; it also
    means the online detector confirms G ``window - 1`` evaluations after G.
  - *relative* (``relative=True``): a sharp, held rise of the target after memorization by
    at least ``min_rise`` and by at least ``rise_fraction`` of the target's own range, levelled
    off (:mod:`grokconsole.runs.rise` has the exact terms). It catches delayed generalization
    that tops out below the absolute threshold, as out-of-distribution accuracy does on real
    distribution shift; slow drifts, brief spikes and curves that never rise fail it.

* **grokking** — M and G exist and the model had memorized without generalizing: for the
  absolute rule the target at M is at most ``target_threshold - min_gap``; for the relative
  rule the rise itself is the gap. Both need the delay ``D = G - M`` to be at least
  ``max(min_delay, min_delay_ratio * M)``. Ordinary learning (train and target rise together)
  fails the gap; a plateau that never generalizes has no G.
* **window jump** (``detect_method=window``, an addition, not a replacement) — the mean of the
  target over the last ``jump_window`` evaluations exceeds that of the window before by more than
  ``jump_threshold`` (:mod:`grokconsole.runs.jump`); recorded as ``jump_epoch`` and a ``val_jump``
  event, without changing the grokking verdict above.
* **transition** — a logistic fit of the target over epochs (midpoint and width), when
  scipy is available, the fit converges and the fitted curve rises.

The online :class:`GrokDetector` and the offline :func:`analyze` share this code: the
offline function simply replays rows through a detector.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Sequence

from grokconsole.runs.history import HUGE, as_float, measured
from grokconsole.runs.jump import WindowJump
from grokconsole.runs.rise import RiseTracker


# The default rule for a run without a task spec: the first of these the run logs.
DEFAULT_TARGETS = ("ood_acc", "val_acc")


@dataclass(frozen=True)
class DetectionConfig:
    """Thresholds of the grokking definition."""

    train_threshold: float = 0.99
    target_threshold: float = 0.95
    window: int = 3
    min_gap: float = 0.2
    min_delay: float = 0.0
    min_delay_ratio: float = 1.0
    target_metric: str | None = None  # the task spec's target; None: DEFAULT_TARGETS, the first logged
    relative: bool = True  # also count a sharp, held rise that stays below target_threshold
    min_rise: float = 0.25
    rise_fraction: float = 0.5
    rise_time_ratio: float = 0.25
    method: str = "default"  # default | window (the window jump rule as well)
    jump_window: int = 10
    jump_threshold: float = 0.2

    @classmethod
    def from_config(cls, config: dict[str, Any], *, target: str | None = None) -> "DetectionConfig":
        """Read ``detect_*`` keys of a run config (``detect_window=5`` sets ``window``).

        ``target`` is the run's task spec's target metric, for a config that does not record
        ``detect_target_metric`` (one written by hand or by a script); the config's own key
        wins, and without either the default rule applies.
        """
        kwargs: dict[str, Any] = {"target_metric": target} if target else {}
        for name in cls.__dataclass_fields__:
            key = f"detect_{name}"
            if key in config and config[key] is not None:
                kwargs[name] = config[key]
        return cls(**kwargs)


@dataclass
class Detection:
    """What the detector concluded about one run."""

    target_metric: str | None = None
    memorization_epoch: float | None = None
    generalization_epoch: float | None = None
    grokking_epoch: float | None = None
    delay: float | None = None
    grokked: bool = False
    confirmed_epoch: float | None = None  # the evaluation at which grokking was confirmed
    transition_midpoint: float | None = None
    transition_width: float | None = None
    rule: str | None = None  # which rule found G: "absolute" | "relative"
    jump_epoch: float | None = None  # where the window jump rule fired (detect_method=window)
    skipped: int = 0  # target values left out for being non-finite or huge (see measured)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class GrokDetector:
    """Online detector: feed rows in order with :meth:`update`, get events back."""

    config: DetectionConfig = field(default_factory=DetectionConfig)
    result: Detection = field(default_factory=Detection)
    _streak_start: float | None = None
    _streak_len: int = 0
    _target_at_mem: float = math.nan
    _rise: RiseTracker | None = None
    _jump: WindowJump | None = None

    def __post_init__(self) -> None:
        cfg = self.config
        if cfg.method == "window":
            self._jump = WindowJump(window=int(cfg.jump_window), threshold=float(cfg.jump_threshold))
        self._rise = RiseTracker(window=int(cfg.window), min_rise=float(cfg.min_rise),
                                 rise_fraction=float(cfg.rise_fraction),
                                 rise_time_ratio=float(cfg.rise_time_ratio)) if cfg.relative else None

    @property
    def grokking_detected(self) -> bool:
        return self.result.grokked

    def _target_name(self, row: dict[str, Any]) -> str | None:
        if self.result.target_metric is None:
            if self.config.target_metric:
                self.result.target_metric = self.config.target_metric
            else:
                self.result.target_metric = next((k for k in DEFAULT_TARGETS if k in row), None)
        return self.result.target_metric

    def update(self, row: dict[str, Any]) -> list[dict[str, Any]]:
        """Take one history row; return the events it triggers (memorization, generalization, grokking)."""
        cfg = self.config
        res = self.result
        events: list[dict[str, Any]] = []
        epoch = as_float(row.get("epoch"))
        if math.isnan(epoch):
            return events
        name = self._target_name(row)
        raw = row.get(name) if name else None
        target = measured(raw)
        if math.isnan(target) and not math.isnan(as_float(raw)):
            res.skipped += 1
        train = measured(row.get("train_acc"))

        if res.memorization_epoch is None and train >= cfg.train_threshold:
            res.memorization_epoch = epoch
            self._target_at_mem = target
            events.append({"event": "memorization", "epoch": epoch, "train_acc": train, name or "target": target})

        if self._rise is not None and res.generalization_epoch is None:
            self._rise.update(epoch, target, res.memorization_epoch is not None)

        if res.generalization_epoch is None:
            if target >= cfg.target_threshold:
                if self._streak_len == 0:
                    self._streak_start = epoch
                self._streak_len += 1
                if self._streak_len >= cfg.window:
                    res.generalization_epoch = self._streak_start
                    res.rule = "absolute"
                    events.append({"event": "generalization", "epoch": self._streak_start,
                                   "confirmed_epoch": epoch, name or "target": target})
                    events.extend(self._judge(epoch, target))
            else:
                self._streak_len = 0
                self._streak_start = None
        if self._rise is not None and res.generalization_epoch is None:
            events.extend(self._judge_rise(epoch, target, name))
        if self._jump is not None and self._jump.update(epoch, target):
            res.jump_epoch = epoch
            events.append({"event": "val_jump", "epoch": epoch, "rule": "window", name or "target": target,
                           "window": self._jump.window, "threshold": self._jump.threshold})
        return events

    def _judge_rise(self, epoch: float, target: float, name: str | None) -> list[dict[str, Any]]:
        """The relative rule: a rise that counts and came late enough is generalization and grokking."""
        cfg, res = self.config, self.result
        rise = self._rise.verdict() if self._rise is not None else None
        mem = res.memorization_epoch
        if rise is None or mem is None:
            return []
        delay = rise.epoch - mem
        if delay <= 0 or delay < max(cfg.min_delay, cfg.min_delay_ratio * mem):
            return []
        res.generalization_epoch = rise.epoch
        res.rule = "relative"
        res.delay = delay
        res.grokked = True
        res.grokking_epoch = rise.epoch
        res.confirmed_epoch = epoch
        return [{"event": "generalization", "epoch": rise.epoch, "confirmed_epoch": epoch,
                 name or "target": target, "rule": "relative"},
                {"event": "grokking", "epoch": rise.epoch, "confirmed_epoch": epoch,
                 "memorization_epoch": mem, "delay": delay, "target_metric": res.target_metric,
                 "target": target, "target_at_memorization": self._target_at_mem, "rule": "relative",
                 "rise_from": rise.base, "rise_to": rise.level}]

    def _judge(self, epoch: float, target: float) -> list[dict[str, Any]]:
        cfg, res = self.config, self.result
        mem, gen = res.memorization_epoch, res.generalization_epoch
        if mem is None or gen is None or gen <= mem:
            return []
        delay = gen - mem
        res.delay = delay
        had_gap = not math.isnan(self._target_at_mem) and \
            self._target_at_mem <= cfg.target_threshold - cfg.min_gap
        if not had_gap or delay < max(cfg.min_delay, cfg.min_delay_ratio * mem):
            return []
        res.grokked = True
        res.grokking_epoch = gen
        res.confirmed_epoch = epoch
        return [{"event": "grokking", "epoch": gen, "confirmed_epoch": epoch,
                 "memorization_epoch": mem, "delay": delay,
                 "target_metric": res.target_metric, "target": target,
                 "target_at_memorization": self._target_at_mem, "rule": "absolute"}]


def logistic(x: Any, lo: float, hi: float, mid: float, width: float) -> Any:
    """lo + (hi - lo) / (1 + exp(-(x - mid) / width))."""
    import numpy as np

    z = np.clip(-(np.asarray(x, dtype=float) - mid) / width, -60.0, 60.0)
    return lo + (hi - lo) / (1.0 + np.exp(z))


def fit_transition(epochs: Sequence[float], values: Sequence[float]) -> tuple[float, float, float, float] | None:
    """Fit a logistic to ``values`` over ``epochs``: (lo, hi, midpoint, width), or None.

    Points whose epoch is not finite or whose value is not finite or beyond ±HUGE are left out.

    None when the data are too short or flat, the fit fails, or the fitted curve does not rise
    (by at least half the data's range, with its midpoint inside the data).
    """
    try:
        import numpy as np
        from scipy.optimize import curve_fit
    except ImportError:  # pragma: no cover - scipy is a dependency
        return None
    x = np.asarray(epochs, dtype=float)
    y = np.asarray(values, dtype=float)
    ok = np.isfinite(x) & (np.abs(y) < HUGE)  # NaN fails the comparison too
    x, y = x[ok], y[ok]
    if len(x) < 5 or np.ptp(y) < 0.05 or np.ptp(x) <= 0:
        return None
    lo0, hi0 = float(np.min(y)), float(np.max(y))
    half = lo0 + 0.5 * (hi0 - lo0)
    mid0 = float(x[np.argmax(y >= half)])
    span = float(np.ptp(x))
    try:
        params, _ = curve_fit(
            logistic, x, y, p0=[lo0, hi0, mid0, span / 20],
            bounds=([-0.5, -0.5, float(x.min()) - span, span * 1e-5], [1.5, 1.5, float(x.max()) + span, span * 10]),
            maxfev=5000,
        )
    except (RuntimeError, ValueError):
        return None
    lo, hi, mid, width = (float(p) for p in params)
    # Only a rise is a transition: a falling or flat curve also "fits" (hi < lo, or a step of
    # nothing), and a midpoint outside the data is an extrapolation, not something that happened.
    if hi - lo < max(0.05, 0.5 * float(np.ptp(y))) or not float(x.min()) <= mid <= float(x.max()):
        return None
    return lo, hi, mid, width


def analyze(rows: Iterable[dict[str, Any]], config: DetectionConfig | None = None,
            *, fit: bool = True) -> Detection:
    """Run the online detector over ``rows`` and, optionally, fit the transition.

    ``config.target_metric`` is the metric watched (the run's task spec's target); without a
    config, or with ``target_metric=None``, the default rule picks it.
    """
    det = GrokDetector(config or DetectionConfig())
    epochs: list[float] = []
    targets: list[float] = []
    for row in rows:
        det.update(row)
        name = det.result.target_metric
        if fit and name:
            epochs.append(as_float(row.get("epoch")))
            targets.append(as_float(row.get(name)))
    result = det.result
    if fit and epochs:
        fitted = fit_transition(epochs, targets)
        if fitted is not None:
            _, _, mid, width = fitted
            result.transition_midpoint = mid
            result.transition_width = width
    return result
