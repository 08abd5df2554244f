"""Task ``baseadd``: fine-tune a causal LM on x + y in base N, with or without a carry trace
(spec in ``spec.py``, problems and formats in ``problems.py``, torch code in ``task.py``)."""
