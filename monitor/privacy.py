"""The key behind author pseudonyms: where it comes from, and how it is kept.

Posts can contain disclosures by or about children, so usernames are never stored;
:func:`monitor.sources.normalise.author_hash` turns them into keyed hashes. The key
is the secret ``MONITOR_HASH_KEY`` (a systemd credential or environment variable,
read with :func:`monitor.config.read_secret`). Without it, a random key is generated
once and kept in a file next to the database (``<db>.hash-key``, mode 0600): not
inside the database, so a copy of the database handed to someone does not carry the
key that would let them test guesses of usernames against the hashes.

Keep the key stable: hashes made under a different key do not match, so one author's
posts before and after a key change look like two authors.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Callable

from monitor.config import read_secret
from monitor.errors import MonitorError

log = logging.getLogger(__name__)

HASH_KEY_NAME = "MONITOR_HASH_KEY"
MIN_KEY_LENGTH = 16


def key_file(db_path: str | Path) -> Path:
    """Where the generated key lives for the database at ``db_path``."""
    return Path(f"{db_path}.hash-key")


def load_hash_key(db_path: str | Path, *, secret: Callable[[str], str | None] = read_secret) -> bytes:
    """The author-hash key: ``MONITOR_HASH_KEY`` if set, else the key file next to the
    database, created with a random key on first use."""
    configured = secret(HASH_KEY_NAME)
    if configured is not None:
        if len(configured) < MIN_KEY_LENGTH:
            raise MonitorError(f"{HASH_KEY_NAME} is too short: use at least {MIN_KEY_LENGTH} random characters"
                               " (e.g. the output of `openssl rand -hex 32`)")
        return configured.encode("utf-8")
    path = key_file(db_path)
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        text = _create(path)
    except (OSError, UnicodeDecodeError) as error:
        raise MonitorError(f"cannot read the author-hash key {path}: {error}") from None
    if len(text) < MIN_KEY_LENGTH:
        raise MonitorError(f"the author-hash key file {path} is damaged (too short); restore it from a backup,"
                           f" or delete it to start new hashes that will not match the old ones")
    return text.encode("ascii")


def _create(path: Path) -> str:
    key = secrets.token_hex(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_text(encoding="ascii").strip()
    except OSError as error:
        raise MonitorError(f"cannot create the author-hash key {path}: {error}") from None
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    from monitor.store.db import match_owner

    match_owner(path, path.parent)  # made by root next to the service's database: the service's own
    log.info("generated a new author-hash key in %s; keep it with the database (or set %s) so that"
                " author hashes stay comparable", path, HASH_KEY_NAME)
    return key
