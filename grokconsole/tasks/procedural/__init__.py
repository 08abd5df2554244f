"""Task ``procedural``: expert iteration vs supervised fine-tuning of a causal LM on generated,
exactly verifiable problems (spec in ``spec.py``, problems in ``generators.py``, ground truth in
``solvers.py``, verification in ``verify.py``, run data in ``data.py``, torch code in ``task.py``
and ``expert.py``)."""
