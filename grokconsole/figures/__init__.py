"""Publication figures and tables from run folders (``grok export-figures``).

Modules: ``style`` (one look for every figure), ``data`` (columnar loading of runs),
``groups`` (mean ± std over the seeds of each group of runs that differ only in the seed), one
module per figure family,
``tables``, and ``export`` (the figure registry, the manifest). matplotlib is imported only
inside the functions that draw, so importing this package stays cheap.
"""
from __future__ import annotations
