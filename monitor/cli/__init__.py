"""The ``monitor`` command: a thin click layer over the library.

Each command module registers itself on :data:`main`; none of them imports a heavy
library (spaCy, praw, matplotlib) at import time, so ``monitor --help`` stays instant.
Library errors (:class:`monitor.errors.MonitorError`) become one-line messages here.
"""

from monitor.cli._base import main

# Command modules register their commands on ``main`` when imported.
from monitor.cli import collect as _collect  # noqa: E402,F401
from monitor.cli import demo as _demo  # noqa: E402,F401
from monitor.cli import digest as _digest  # noqa: E402,F401
from monitor.cli import tagging as _tagging  # noqa: E402,F401
from monitor.cli import reddit as _reddit  # noqa: E402,F401
from monitor.cli import alerts as _alerts  # noqa: E402,F401
from monitor.cli import service as _service  # noqa: E402,F401
from monitor.cli import search as _search  # noqa: E402,F401

__all__ = ["main"]
