"""monitor: collects news, Reddit and other public sources on online child grooming,
the platforms and the law; tags them; stores them in SQLite; and sends a daily digest.

The package stays quiet (no logging configuration) and imports heavy libraries lazily,
so ``monitor --help`` is instant. The public entry points are :mod:`monitor.app`
(``open_monitor``) and the data types in :mod:`monitor.types`.
"""

__version__ = "0.1.0"
