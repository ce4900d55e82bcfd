"""The click group, the ``--config`` option and the error edge shared by all commands."""

from __future__ import annotations

import functools
import logging
import os
import sys
from pathlib import Path
from typing import Any, Callable, TypeVar

import click

from monitor import __version__

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_CONFIG = "config.toml"


class Context:
    """What the group passes to every command: where the config is, loaded on demand."""

    def __init__(self, config_path: Path, explicit: bool, verbose: int):
        self.config_path = config_path
        self.explicit = explicit
        self.verbose = verbose
        self._config: Any = None

    @property
    def config(self) -> Any:
        """The validated :class:`monitor.config.Config`; exits 2 on any config problem."""
        if self._config is None:
            from monitor.config import load_config

            self._config = load_config(self.config_path)
        return self._config


pass_context = click.make_pass_decorator(Context)


def configure_logging(verbose: int) -> None:
    """Plain one-line logs on stderr, readable in a terminal and in journald.

    prawcore logs request data at DEBUG, so third-party loggers never go below INFO.
    """
    level = logging.DEBUG if verbose >= 2 else logging.INFO if verbose == 1 else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("monitor").setLevel(level)
    for noisy in ("prawcore", "praw", "aiohttp", "urllib3", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(level, logging.INFO) if noisy == "apscheduler" else logging.WARNING)


def handle_errors(func: F) -> F:
    """Turn library errors into one-line messages and the documented exit statuses.

    Configuration problems exit with status 2 (one line per problem), every other
    :class:`MonitorError` with status 1.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from monitor.errors import ConfigError, MonitorError

        try:
            return func(*args, **kwargs)
        except ConfigError as error:
            for line in error.problems:
                click.echo(f"error: {line}", err=True)
            sys.exit(2)
        except MonitorError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Configuration file. Default: $MONITOR_CONFIG, else ./config.toml.",
)
@click.option("-v", "--verbose", count=True, help="Log progress (-v) or debug detail (-vv) to stderr.")
@click.version_option(__version__, prog_name="monitor")
@click.pass_context
def main(ctx: click.Context, config_path: Path | None, verbose: int) -> None:
    """Monitor news, Reddit and other public sources for online child grooming,
    the platforms it happens on, and the law that regulates them.

    Collected items are tagged, stored in one SQLite file (db/monitor.db by
    default) and summarised in a daily digest. Start with `monitor demo` to
    see the whole pipeline offline, or `monitor collect` to poll the sources
    in config.toml.
    """
    explicit = config_path is not None or "MONITOR_CONFIG" in os.environ
    if config_path is None:
        config_path = Path(os.environ.get("MONITOR_CONFIG") or DEFAULT_CONFIG)
    configure_logging(verbose)
    ctx.obj = Context(config_path, explicit, verbose)
