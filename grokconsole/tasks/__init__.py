"""Tasks: the seam between a task and the rest (spec, config, api) and the task plug-ins.

``registry`` finds the task packages (each subfolder not starting with ``_``); ``spec`` is the
torch-free :class:`~grokconsole.tasks.spec.TaskSpec`; ``config`` resolves a run's config from
defaults, conditions and presets; ``api`` is the torch :class:`~grokconsole.tasks.api.Task` a
task implements, with ``splits`` and ``suites`` for evaluation. ``_shift`` holds what the
distribution-shift tasks share. Importing this package imports nothing else.
"""
