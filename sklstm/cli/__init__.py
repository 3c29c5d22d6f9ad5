"""The ``sklstm`` command: ``forecast``, ``classify`` and ``demo``.

A client of the library like any other: it imports ``sklstm``, and nothing in
``sklstm`` imports it. ``main`` parses the command line (``main.py``); each job
reads its CSV (``tables.py``), runs on the estimators (``forecast_job.py`` with
``forecasting.py``'s plans and cross-validation, ``classify_job.py``), may tune
(``trials.py``) and writes its files and figures (``output.py``).
"""

from .main import main

__all__ = ["main"]
