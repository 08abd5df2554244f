"""What the distribution-shift tasks (hospitals as environments, an OOD split) share, torch-free.

Their common keys (ERM or IRM), the metrics they log (IRM penalty, shortcut reliance) with
their panels, and the config checks both run before anything is written. A module, not a
package: the registry only treats packages as tasks.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from grokconsole.runs.errors import GrokError
from grokconsole.tasks.spec import (ACCURACY_PANEL, IRM_PANEL, MECHANISM_METRICS, MECHANISMS_PANEL, RELIANCE_PANEL,
                                       MetricSpec, SuiteSpec, accuracy_metrics)

SHIFT_DEFAULTS: dict[str, Any] = {
    "objective": "erm", "irm_lambda": 100.0, "irm_anneal_steps": 100,
    "weights_path": None,  # a torchvision ResNet-18 state dict to start from (model=resnet18)
}
SHIFT_CHOICES: dict[str, tuple[str, ...]] = {"objective": ("erm", "irm")}

SHIFT_PANELS = (ACCURACY_PANEL, IRM_PANEL, MECHANISMS_PANEL, RELIANCE_PANEL)
SHIFT_METRICS = accuracy_metrics(ood=True) + (
    MetricSpec("ood_loss", "OOD loss", "OOD loss", direction="lower", role="loss"),
    MetricSpec("irm_mean", "IRM penalty", "IRM", "irm", direction="lower", color="orange"),
) + MECHANISM_METRICS + (
    MetricSpec("center_conf", "Centre (anatomy) confidence", "centre", "reliance", color="green"),
    MetricSpec("border_conf", "Border (artifact) confidence", "border", "reliance", direction="lower", color="red"),
    MetricSpec("shortcut_ratio", "Shortcut ratio (border/centre)", "ratio", "reliance", direction="lower",
               color="orange", right=True),
)
SHIFT_SUITES = (
    SuiteSpec("env_acc", "accuracy", "higher", "accuracy per split × environment"),
    SuiteSpec("env_conf", "confidence", "higher", "mean max-softmax confidence per split × environment"),
)
# What the two tasks' specs say alike: their metrics, panels, suites, the features they offer for
# interventions, and OOD accuracy as the generalization target.
SHIFT_SPEC_FIELDS: dict[str, Any] = {
    "metrics": SHIFT_METRICS, "panels": SHIFT_PANELS, "suites": SHIFT_SUITES,
    "capabilities": frozenset({"features"}), "target": "ood_acc", "ood": "ood_acc",
}


def parse_probs(key: str, text: Any) -> list[float]:
    """A comma-separated list of probabilities, e.g. ``0.95,0.85``."""
    try:
        probs = [float(p) for p in str(text).split(",") if p.strip()]
    except ValueError:
        probs = []
    if not probs or any(not 0.0 <= p <= 1.0 for p in probs):
        raise GrokError(f"{key}={text!r}: expected comma-separated probabilities in [0, 1], e.g. 0.95,0.85")
    return probs


def positive(cfg: dict[str, Any], *keys: str) -> None:
    for key in keys:
        if int(cfg[key]) <= 0:
            raise GrokError(f"{key} must be positive, got {cfg[key]}")


# Upper bounds of the sizes the shift tasks generate or build: images a side, examples per split
# (each held in memory as a tensor), and layer widths.
MAX_IMAGE_SIZE = 512
MAX_EXAMPLES = 1_000_000
MAX_WIDTH = 16_384


def at_most(cfg: dict[str, Any], limit: int, what: str, *keys: str) -> None:
    """Each of ``keys`` is at most ``limit`` (GrokError naming the limit and what it bounds)."""
    for key in keys:
        if int(cfg[key]) > limit:
            raise GrokError(f"{key} must be at most {limit} {what}, got {cfg[key]}")


def check_irm(cfg: dict[str, Any]) -> None:
    if float(cfg["irm_lambda"]) < 0:
        raise GrokError(f"irm_lambda must be ≥ 0, got {cfg['irm_lambda']}")
    if int(cfg["irm_anneal_steps"]) < 0:
        raise GrokError(f"irm_anneal_steps must be ≥ 0, got {cfg['irm_anneal_steps']}")


def check_weights(cfg: dict[str, Any]) -> None:
    if cfg.get("weights_path") and not Path(str(cfg["weights_path"])).is_file():
        raise GrokError(f"weights file not found: {cfg['weights_path']}")
