"""SLURM resources of a run or a sweep: the ``[slurm]`` table of a sweep file, ``grok run --slurm``."""
from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any

from grokconsole.runs.errors import GrokError


@dataclass
class SlurmParams:
    """What a SLURM job asks for. Unset fields leave the cluster's defaults."""

    partition: str | None = None
    time_min: int = 60
    cpus_per_task: int | None = None
    gpus_per_node: int | None = None
    mem_gb: float | None = None
    array_parallelism: int = 256
    additional: dict[str, Any] = field(default_factory=dict)  # any other sbatch option

    @classmethod
    def from_mapping(cls, data: dict[str, Any], where: str = "[slurm]") -> "SlurmParams":
        """Build from a TOML table or parsed ``key=value`` pairs; GrokError names the bad key."""
        known = {f.name: f for f in fields(cls)}
        out = cls()
        for key, value in data.items():
            if key not in known:
                raise GrokError(f"{where}: unknown key {key!r}; known: {', '.join(known)}")
            if key == "additional":
                if not isinstance(value, dict):
                    raise GrokError(f"{where}: additional must be a table of sbatch options, got {value!r}")
                out.additional = {str(k): v for k, v in value.items()}
                continue
            if key == "partition":
                if not isinstance(value, str) or not value:
                    raise GrokError(f"{where}: partition must be a name, got {value!r}")
                out.partition = value
                continue
            number = value
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise GrokError(f"{where}: {key} must be a positive number, got {value!r}")
            if key != "mem_gb":
                if float(number) != int(number):
                    raise GrokError(f"{where}: {key} must be a whole number, got {value!r}")
                number = int(number)
            setattr(out, key, number)
        return out

    @classmethod
    def from_options(cls, items: list[str]) -> "SlurmParams":
        """From ``--slurm key=value`` options (values parsed as JSON when they parse)."""
        data: dict[str, Any] = {}
        additional: dict[str, Any] = {}
        for item in items:
            key, sep, text = item.partition("=")
            key = key.strip()
            if not sep or not key:
                raise GrokError(f"--slurm {item!r}: expected key=value")
            try:
                value: Any = json.loads(text)
            except ValueError:
                value = text
            if key in {f.name for f in fields(cls)}:
                data[key] = value
            else:
                additional[key] = value  # any other sbatch option, e.g. --slurm qos=high
        if additional:
            data["additional"] = {**data.get("additional", {}), **additional}
        return cls.from_mapping(data, "--slurm")

    def executor_parameters(self) -> dict[str, Any]:
        """Keyword arguments for ``submitit.SlurmExecutor.update_parameters``."""
        params: dict[str, Any] = {"time": self.time_min, "array_parallelism": self.array_parallelism}
        if self.partition:
            params["partition"] = self.partition
        if self.cpus_per_task:
            params["cpus_per_task"] = self.cpus_per_task
        if self.gpus_per_node:
            params["gpus_per_node"] = self.gpus_per_node
        if self.mem_gb:
            params["mem"] = f"{int(self.mem_gb)}GB" if float(self.mem_gb).is_integer() else f"{int(self.mem_gb * 1024)}MB"
        return params
