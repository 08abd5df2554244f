"""Sweep files (TOML): a name, a task, a grid over run options or config keys, fixed settings.

::

    name = "causalgrok"        # runs are named <timestamp>-<name>-<axis>=<value>-...
    task = "shortcut"
    preset = ""                # optional; so are condition, n_train, seed, epochs, device, data_dir
    [grid]                     # cartesian product, in the order written
    condition = ["grokking", "standard"]
    n_train = [500, 1000, 2000]
    seed = [0, 1, 2]
    [set]                      # fixed config keys for every run
    epochs = 1500
    [slurm]                    # resources for --executor slurm
    time_min = 120
    [eval]                     # grok eval on each run once it finishes (grokconsole.launch.sweepeval)
    suites = ["env_acc"]
    checkpoints = "last"

Expanding creates nothing: every point becomes a ``LaunchRequest`` and is prepared (resolved and
validated) before any run starts, so a bad value anywhere fails with one line naming the point.
"""
from __future__ import annotations

import hashlib
import itertools
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grokconsole.runs.errors import GrokError
from grokconsole.runs.folder import check_name
from grokconsole.runs.sweeps import POINT_KEY, SWEEP_KEY, point_key
from grokconsole.launch.request import LaunchRequest, PreparedRun, prepare
from grokconsole.launch.slurm_params import SlurmParams
from grokconsole.launch.sweepeval import EvalStage, parse_eval

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# Options of `grok run` that a sweep may fix at the top level or vary in [grid].
RUN_OPTIONS = ("task", "condition", "n_train", "seed", "epochs", "preset", "device", "data_dir")
TOP_LEVEL = ("name", *RUN_OPTIONS, "grid", "set", "slurm", "eval")
_UNSAFE = re.compile(r"[^A-Za-z0-9._+=-]")
MAX_TAIL = 100


@dataclass
class SweepSpec:
    """A parsed sweep file."""

    name: str
    fixed: dict[str, Any]            # run options fixed for every point
    grid: dict[str, list[Any]]       # axis → values, in file order
    sets: dict[str, Any]             # config keys fixed for every point
    slurm: SlurmParams = field(default_factory=SlurmParams)
    path: Path | None = None
    eval: EvalStage | None = None    # [eval]: what grok eval does to each run that finishes

    @property
    def where(self) -> str:
        """How errors name the file."""
        return str(self.path) if self.path else "sweep"


@dataclass
class SweepPoint:
    """One combination of grid values and the run it asks for."""

    index: int
    values: dict[str, Any]
    request: LaunchRequest

    @property
    def key(self) -> str:
        return point_key(self.values)

    @property
    def label(self) -> str:
        return " ".join(f"{k}={v}" for k, v in self.values.items()) or "(the only point)"


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool))


def load_sweep(path: Path) -> SweepSpec:
    """Parse and check the file's shape; GrokError with one line on anything wrong."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GrokError(f"no sweep file {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GrokError(f"cannot read sweep file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise GrokError(f"{path}: not valid TOML: {exc}") from None
    return parse_sweep(data, path)


def parse_sweep(data: dict[str, Any], path: Path | None = None) -> SweepSpec:
    where = str(path) if path else "sweep"
    unknown = [k for k in data if k not in TOP_LEVEL]
    if unknown:
        raise GrokError(f"{where}: unknown key {unknown[0]!r} at the top level; known: {', '.join(TOP_LEVEL)} "
                        "(config keys go in [set] or [grid])")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise GrokError(f"{where}: name = \"...\" is required (it names the sweep's runs)")
    try:
        check_name(name)
    except GrokError as exc:
        raise GrokError(f"{where}: sweep {exc}") from None
    fixed = {k: data[k] for k in RUN_OPTIONS if k in data and data[k] not in ("", None)}
    for key, value in fixed.items():
        if not _scalar(value):
            raise GrokError(f"{where}: {key} must be a single value, got {value!r}")
    grid = data.get("grid", {})
    if not isinstance(grid, dict):
        raise GrokError(f"{where}: [grid] must be a table of key = [values]")
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise GrokError(f"{where}: [grid] {key} must be a non-empty list, got {values!r}")
        bad = [v for v in values if not _scalar(v)]
        if bad:
            raise GrokError(f"{where}: [grid] {key} holds {bad[0]!r}; values must be strings, numbers or booleans")
        if len({repr(v) for v in values}) != len(values):
            raise GrokError(f"{where}: [grid] {key} lists a value twice")
        if key in fixed:
            raise GrokError(f"{where}: {key} is both fixed at the top level and a [grid] axis")
    sets = data.get("set", {})
    if not isinstance(sets, dict):
        raise GrokError(f"{where}: [set] must be a table of key = value")
    for key, value in sets.items():
        if not _scalar(value):
            raise GrokError(f"{where}: [set] {key} must be a single value, got {value!r}")
        if key in grid:
            raise GrokError(f"{where}: {key} is both in [set] and a [grid] axis")
    slurm = data.get("slurm", {})
    if not isinstance(slurm, dict):
        raise GrokError(f"{where}: [slurm] must be a table")
    return SweepSpec(name, fixed, {k: list(v) for k, v in grid.items()}, dict(sets),
                     SlurmParams.from_mapping(slurm, f"{where}: [slurm]"), path, parse_eval(data.get("eval"), where))


def _set_text(key: str, value: Any) -> str:
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    if not text or any(c.isspace() for c in text):
        raise GrokError(f"{key}={text!r}: values with spaces cannot be set")
    return f"{key}={text}"


def run_tail(name: str, values: dict[str, Any]) -> str:
    """The run name after the timestamp: deterministic from the sweep name and the point."""
    parts = [name] + [_UNSAFE.sub("_", f"{k}={v}") for k, v in values.items()]
    tail = "-".join(parts)
    if len(tail) > MAX_TAIL:
        digest = hashlib.sha1(point_key(values).encode()).hexdigest()[:10]
        tail = f"{name[:MAX_TAIL - 12]}-p{digest}"
    return tail


def expand(spec: SweepSpec, runs_dir: Path, *, argv: list[str] | None = None) -> list[SweepPoint]:
    """Every point of the grid (cartesian product, first axis slowest) as a launch request."""
    axes = list(spec.grid)
    points = []
    for index, combo in enumerate(itertools.product(*(spec.grid[a] for a in axes))):
        values = dict(zip(axes, combo))
        options = {**spec.fixed, **{k: v for k, v in values.items() if k in RUN_OPTIONS}}
        config_keys = {**spec.sets, **{k: v for k, v in values.items() if k not in RUN_OPTIONS}}
        try:
            sets = [_set_text(k, v) for k, v in config_keys.items()]
            req = LaunchRequest(
                runs_dir, task=_opt_str(options, "task"), condition=_opt_str(options, "condition"),
                n_train=_opt_int(options, "n_train"), seed=_opt_int(options, "seed") or 0,
                epochs=_opt_int(options, "epochs"), sets=sets, preset=_opt_str(options, "preset"),
                device=_opt_str(options, "device"),
                data_dir=Path(str(options["data_dir"])) if options.get("data_dir") else None,
                name=run_tail(spec.name, values), extra={SWEEP_KEY: spec.name, POINT_KEY: values}, argv=argv)
        except GrokError as exc:
            raise GrokError(f"point {index} ({' '.join(f'{k}={v}' for k, v in values.items())}): {exc}") from None
        points.append(SweepPoint(index, values, req))
    return points


def _opt_int(options: dict[str, Any], key: str) -> int | None:
    value = options.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise GrokError(f"{key} must be an integer, got {value!r}")
    return value


def _opt_str(options: dict[str, Any], key: str) -> str | None:
    value = options.get(key)
    return None if value in (None, "") else str(value)


def prepare_points(points: list[SweepPoint]) -> list[PreparedRun]:
    """Resolve and validate every point; the first bad one fails with a line naming it."""
    out = []
    for point in points:
        try:
            out.append(prepare(point.request))
        except GrokError as exc:
            raise GrokError(f"point {point.index} ({point.label}): {exc}") from None
    return out
