"""Which runs are seeds of one experiment: grouping by every setting that differs.

Runs are averaged together only when they agree on every setting but the seed. The settings
of a run are its config keys, with the task, condition and n_train as the readers know them
(a legacy run without a config still has a condition and a size from its folder name), less
the bookkeeping keys that say where, when or how a run was made rather than what it trains
(ids, times, command lines, commits, devices, folders, checkpoint frequency, sweep
bookkeeping). The keys that differ between the selected runs are the grouping key; the task
is always part of it, so runs of two tasks never share a group. ``--group-by KEY,...`` names
the keys instead (the task is added). Shared by ``grok export-figures`` and ``grok watch``.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Callable, Generic, Iterable, Mapping, TypeVar

from grokconsole.runs.errors import GrokError

T = TypeVar("T")

SEED_KEY = "seed"
IDENTITY_KEYS = ("task", "condition", "n_train")
BARE_KEYS = ("task", "condition")  # labels show these by value alone
# Keys that never make two runs different experiments.
BOOKKEEPING_KEYS = frozenset({
    "run_id", "name", "created", "command_line", "git_commit", "python", "grokconsole_version", "host",
    "hostname", "pid", "device", "device_resolved", "threads", "data_dir", "runs_dir", "run_dir",
    "output_dir", "save_dir", "log_dir", "checkpoint_every", "keep_checkpoints", "resume", "backend",
    "job_id", "executor",
    "detect_target_metric",  # what the detector watches: how a run is read, not what it trains
})
# Key prefixes of the same kind: a sweep's name, point index and options say where a run came from.
BOOKKEEPING_PREFIXES = ("sweep",)
MISSING = None  # a key a run lacks counts as this value (so a ``None`` default and an absent key agree)


def is_bookkeeping(key: str) -> bool:
    """True for keys that say how a run was made, not what it trains (and for the seed)."""
    root = key.split(".", 1)[0]
    return (root == SEED_KEY or root in BOOKKEEPING_KEYS
            or any(root.startswith(p) for p in BOOKKEEPING_PREFIXES))


def _hashable(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, sort_keys=True, default=str)
    try:
        hash(value)
    except TypeError:
        return str(value)
    return value


# Keys every task's config once held with this value, before each moved to the tasks that read
# it: an older run of another task carries the value without reading it.
FORMER_COMMON = {"model": "mlp"}


def _unread(key: str, value: Any, task: Any) -> bool:
    """True for a former common key with its old value in a run of a task that does not read it."""
    if key not in FORMER_COMMON or value != FORMER_COMMON[key] or not isinstance(task, str):
        return False
    from grokconsole.tasks.config import allowed_keys, task_spec

    try:
        return key not in allowed_keys(task_spec(task))
    except GrokError:  # a task this installation does not know: keep every key
        return False


def settings_of(config: Mapping[str, Any], *, task: Any, condition: Any, n_train: Any) -> dict[str, Any]:
    """The settings of a run: config keys (nested objects as ``a.b``) less bookkeeping and seed,
    with ``task``, ``condition`` and ``n_train`` as given."""
    out: dict[str, Any] = {}

    def walk(prefix: str, obj: Mapping[str, Any]) -> None:
        for key, value in obj.items():
            name = f"{prefix}{key}"
            if isinstance(value, Mapping) and value:
                walk(name + ".", value)
            elif not is_bookkeeping(name) and not _unread(name, value, task):
                out[name] = _hashable(value)

    walk("", config)
    # A run that does not name its task (a legacy folder) has task None, shown as "—".
    out.update(task=_hashable(task) if task else None, condition=_hashable(condition), n_train=_hashable(n_train))
    return out


def _order(keys: Iterable[str]) -> list[str]:
    """Task, condition, n_train first (in that order), then the rest by name."""
    keys = set(keys)
    return [k for k in IDENTITY_KEYS if k in keys] + sorted(keys - set(IDENTITY_KEYS))


def differing_keys(settings: list[Mapping[str, Any]]) -> list[str]:
    """The keys whose value is not the same in every run (a missing key counts as ``None``)."""
    keys = set().union(*settings) if settings else set()
    return _order(k for k in keys if len({s.get(k, MISSING) for s in settings}) > 1)


def parse_group_by(text: str | None) -> tuple[str, ...] | None:
    """``--group-by KEY,...`` → the keys (None when not given); a bad list is a GrokError."""
    if text is None:
        return None
    keys = tuple(dict.fromkeys(k.strip() for k in text.split(",") if k.strip()))
    if not keys:
        raise GrokError(f"bad --group-by {text!r}: give config keys separated by commas, e.g. condition,n_train,lr")
    bad = [k for k in keys if k == SEED_KEY]
    if bad:
        raise GrokError("--group-by seed: runs are grouped to average over seeds; group by other keys")
    return keys


def check_group_by(keys: tuple[str, ...], settings: list[Mapping[str, Any]]) -> None:
    """GrokError naming a ``--group-by`` key that none of the runs has (a typo groups nothing)."""
    known = set().union(*settings) if settings else set()
    unknown = [k for k in keys if k not in known]
    if unknown:
        shown = ", ".join(_order(known)[:12]) + (" …" if len(known) > 12 else "")
        raise GrokError(f"--group-by {unknown[0]}: no selected run has this setting (settings: {shown})")


@dataclass(frozen=True)
class GroupKey:
    """The values one group shares on the grouping keys, in the grouping's key order."""

    items: tuple[tuple[str, Any], ...]

    def get(self, key: str, default: Any = None) -> Any:
        return dict(self.items).get(key, default)

    def label(self, keys: Iterable[str], *, sep: str = ", ") -> str:
        """The values of ``keys`` (those of the grouping only), e.g. ``modarith, lr=0.003``: the task
        and the condition by their value alone (their names say what they are), the rest as
        ``key=value``."""
        wanted = set(keys)
        return sep.join(format_value(v) if k in BARE_KEYS else f"{k}={format_value(v)}"
                        for k, v in self.items if k in wanted)

    def slug(self) -> str:
        """A short text id: the values joined by ``_`` (``n`` before n_train), for notes and file names."""
        parts = [f"n{format_value(v)}" if k == "n_train" else format_value(v) for k, v in self.items]
        return "_".join(parts) or "all"


@dataclass
class Grouping(Generic[T]):
    """Items split into groups by ``keys``; ``named`` are the keys that tell the groups apart."""

    keys: tuple[str, ...]
    named: tuple[str, ...]
    explicit: bool
    groups: list[tuple[GroupKey, list[T]]]

    def describe(self) -> str:
        how = "--group-by" if self.explicit else "every setting that differs"
        return f"by {', '.join(self.keys) or 'nothing'} ({how}); mean ± sample std (ddof=1) over seeds"


def format_value(value: Any) -> str:
    """A value as a label shows it: floats short (``0.001``, ``1e-05``), None as ``—``."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def sort_value(value: Any) -> tuple[int, Any]:
    """Sort key of a setting's value: numbers numerically, then text, ``None`` last."""
    if value is None:
        return (2, "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, value)
    return (1, str(value))


def group_items(items: list[T], settings: Callable[[T], Mapping[str, Any]],
                group_by: tuple[str, ...] | None = None, *,
                order: Callable[[T], Any] | None = None, strict: bool = True) -> Grouping[T]:
    """Group ``items`` by the keys that differ between them (or by ``group_by`` plus the task).

    Groups are sorted by their values (numbers numerically, ``None`` last); items inside by
    ``order`` (e.g. seed then id) when given, else as they came. ``strict``: a ``group_by`` key
    that no item has is a GrokError (a live view passes False: runs may still appear).
    """
    all_settings = [settings(item) for item in items]
    if group_by is not None:
        if strict:
            check_group_by(group_by, all_settings)
        keys = tuple(_order(set(group_by) | {"task"}))
    else:
        keys = tuple(_order({"task", *differing_keys(all_settings)}))
    buckets: dict[tuple[tuple[str, Any], ...], list[T]] = {}
    for item, s in zip(items, all_settings):
        buckets.setdefault(tuple((k, s.get(k, MISSING)) for k in keys), []).append(item)
    ordered = sorted(buckets, key=lambda items_: [sort_value(v) for _k, v in items_])
    groups = [(GroupKey(k), sorted(buckets[k], key=order) if order else buckets[k]) for k in ordered]
    named = tuple(k for i, k in enumerate(keys) if len({g[0].items[i][1] for g in groups}) > 1)
    return Grouping(keys, named, group_by is not None, groups)
