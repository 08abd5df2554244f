"""Choosing a backend by name (``--executor``): the one module that knows every backend."""
from __future__ import annotations

from grokconsole.runs.errors import GrokError
from grokconsole.launch.backend import EXECUTORS, Backend
from grokconsole.launch.local import LocalBackend


def get_backend(name: str) -> Backend:
    """The backend called ``name`` (``local`` or ``slurm``); GrokError for anything else."""
    if name == "local":
        return LocalBackend()
    if name == "slurm":
        from grokconsole.launch.slurm import SlurmBackend

        return SlurmBackend()
    raise GrokError(f"unknown executor {name!r}; choose one of: {', '.join(EXECUTORS)}")


def make_backend(executor: str, slurm_options: list[str]) -> Backend:
    """The backend for ``--executor`` with its ``--slurm key=value`` options (checked before anything starts)."""
    if executor != "slurm":
        if slurm_options:
            raise GrokError("--slurm options need --executor slurm")
        return get_backend(executor)
    from grokconsole.launch.slurm import SlurmBackend
    from grokconsole.launch.slurm_params import SlurmParams

    backend = SlurmBackend(SlurmParams.from_options(slurm_options))
    backend.check_available()
    return backend
