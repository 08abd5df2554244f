"""Task ``modarith``: a∘b mod p, the classic grokking task (spec in ``spec.py``, torch code in ``task.py``)."""
