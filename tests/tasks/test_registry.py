"""The task registry: every package under grokconsole/tasks is a task, and a new one is one folder."""
from __future__ import annotations

import ast
import re
import sys
from pathlib import Path
from typing import Iterator

import pytest

import grokconsole
from grokconsole.tasks import registry as tasks
from grokconsole.runs.errors import GrokError
from grokconsole.tasks.config import preset_task, resolve_config
from grokconsole.tasks.spec import MetricSpec, PanelSpec, TaskSpec
from tests.tasks.plugin import write_task

PACKAGE = Path(grokconsole.__file__).parent
BUILT_IN = ("modarith", "shortcut", "camelyon17")


def test_registry_finds_every_task_package_and_checks_its_spec() -> None:
    folders = sorted(p.name for p in (PACKAGE / "tasks").iterdir()
                     if p.is_dir() and (p / "__init__.py").exists() and not p.name.startswith("_"))
    specs = tasks.all_specs()
    assert sorted(specs) == folders and set(BUILT_IN) <= set(specs)
    for name, spec in specs.items():
        assert spec.name == name and spec.package == f"grokconsole.tasks.{name}"
        assert spec.role_key("train") and spec.role_key("val"), name
        assert spec.target in {m.key for m in spec.metrics}, name
        panels = {p.name for p in spec.panels}
        assert all(m.panel in panels for m in spec.metrics if m.panel)
        if spec.unit == "steps":  # a step-counted task's defaults make its runs count in steps
            assert spec.defaults.get("max_steps", 0) > 0 or spec.defaults.get("eval_every_steps", 0) > 0, name
    assert tasks.default_task() in specs
    with pytest.raises(GrokError, match="unknown task 'nope'; known tasks: .*modarith"):
        tasks.task_spec("nope")
    assert tasks.find_spec("nope") is None and tasks.find_spec(None) is None


def test_spec_rejects_inconsistent_declarations() -> None:
    with pytest.raises(ValueError, match="direction"):
        MetricSpec("x", "x", direction="up")
    with pytest.raises(ValueError, match="not declared"):
        TaskSpec("t", "t", {}, metrics=(MetricSpec("x", "x", panel="nowhere"),))
    with pytest.raises(ValueError, match="capabilities"):
        TaskSpec("t", "t", {}, capabilities=frozenset({"fly"}))
    with pytest.raises(ValueError, match="unit"):
        TaskSpec("t", "t", {}, unit="hours")
    assert TaskSpec("t", "t", {}, panels=(PanelSpec("a", "A"),)).panel_metrics("a") == ()


def test_importing_the_registry_and_reading_specs_imports_no_torch() -> None:
    import subprocess

    code = ("import sys; from grokconsole.tasks import registry as tasks; tasks.all_specs(); "
            "from grokconsole.tasks.config import resolve_config; resolve_config('modarith', 'grokking'); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def _task_names_outside(names: tuple[str, ...]) -> list[str]:
    """Places outside grokconsole/tasks/<name>/ that name a task: a string equal to its name, or an
    import of its package."""
    hits = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "tasks" and len(rel.parts) > 2:
            continue  # inside a task's own package
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names:
                hits.append(f"{rel}:{node.lineno}: {node.value!r}")
            elif isinstance(node, ast.ImportFrom) and node.module and re.search(
                    r"\.tasks\.(" + "|".join(names) + r")\b", node.module):
                hits.append(f"{rel}:{node.lineno}: from {node.module}")
    return hits


def test_nothing_outside_a_task_package_names_a_task() -> None:
    hits = _task_names_outside(tuple(tasks.all_specs()))
    assert not hits, ("these modules name a task outside its package; read what they need from the "
                      "specs instead (grokconsole.tasks.all_specs(), a spec's capabilities/metrics):\n"
                      + "\n".join(hits))


def test_the_check_would_catch_a_task_name() -> None:
    hits = _task_names_outside(("default",))  # a string that does occur as a literal in the package
    assert hits and all(":" in h for h in hits)


@pytest.fixture
def plugin(tmp_path: Path) -> Iterator[str]:
    """A task package ``parity_demo`` in a temporary folder, added to the registry's search path."""
    name = "parity_demo"
    root = tmp_path / "plugins"
    write_task(root, name)
    import grokconsole.tasks as package

    package.__path__.append(str(root))
    tasks.refresh()
    try:
        yield name
    finally:
        package.__path__.remove(str(root))
        tasks.refresh()
        from grokconsole.tasks.suites import SUITES

        SUITES.pop(name, None)
        for mod in [m for m in sys.modules if m.startswith(f"grokconsole.tasks.{name}")]:
            del sys.modules[mod]


def test_a_task_is_one_folder_found_resolved_and_listed(plugin: str) -> None:
    from grokconsole.evals.request import resolve_suites

    spec = tasks.task_spec(plugin)
    assert spec.metric("margin").panel == "extra"
    cfg = resolve_config(plugin, "standard", sets=["bits=5"])
    assert (cfg["task"], cfg["epochs"], cfg["bits"], cfg["weight_decay"]) == (plugin, 2, 5, 0.01)
    with pytest.raises(GrokError, match="at most 15"):
        resolve_config(plugin, "grokking", sets=["n_train=16"])
    with pytest.raises(GrokError, match="not one of"):
        resolve_config(plugin, "grokking", sets=["model=mlp"])
    assert preset_task(f"{plugin}_fast") == plugin
    assert resolve_config(plugin, "grokking", preset=f"{plugin}_fast")["lr"] == 0.5
    assert resolve_suites(plugin, None) == ("split_acc",)


def test_a_plugin_task_trains_keeps_artifacts_and_is_evaluated(plugin: str, tmp_path: Path) -> None:
    from grokconsole.runs.history import read_jsonl
    from grokconsole.evals.runner import EvalRequest, evaluate_run
    from grokconsole.launch.process import new_run_folder
    from grokconsole.train.loop import train

    cfg = resolve_config(plugin, "grokking", explicit={"device": "cpu"},
                         sets=["checkpoint_every=2", "keep_checkpoints=1"])
    paths = new_run_folder(cfg, tmp_path / "runs", "p", None)
    assert train(paths.root) == 0
    rows = read_jsonl(paths.root / "results" / "history.jsonl").rows
    assert [r["epoch"] for r in rows] == [0, 1, 2, 3, 4] and "margin" in rows[-1]
    ckpts = paths.checkpoints
    # Only the kept checkpoint's artifact folder survives pruning.
    assert sorted(p.name for p in ckpts.iterdir() if p.is_dir()) == ["step_4"]
    assert (ckpts / "step_4" / "weights.txt").read_text().strip()
    req = EvalRequest.from_argv(["--checkpoints", "all", "--suite", "split_acc", "--device", "cpu"])
    assert evaluate_run(paths.root, req, log=lambda *_: None) == "finished"
    from grokconsole.runs.jsonio import read_json

    result = read_json(paths.root / "eval" / "by_checkpoint" / "step_4" / "split_acc.json")
    assert result["metric"] == "accuracy" and set(result["results"]) == {"train", "val"}
