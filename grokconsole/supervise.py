"""Where ``-m grokconsole.supervise`` in a queued job's command line still finds the supervisor.

The supervisor lives in :mod:`grokconsole.launch.supervise`; SLURM jobs submitted before it moved
name this module in their argv, so it stays as a thin entry point.
"""
from __future__ import annotations

if __name__ == "__main__":
    from grokconsole.launch.supervise import main

    raise SystemExit(main())
