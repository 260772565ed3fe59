"""`eahub board backup`: a consistent copy of the board database. It never holds keys (they live in the
separate keys database), so erasing a subject's key makes their data in every earlier backup unreadable.

SQLite: `VACUUM INTO` a new file. PostgreSQL: use `pg_dump` on EAHUB_BOARD_DATABASE_URL (the keys database
is a different URL, EAHUB_BOARD_KEYS_DATABASE_URL: do not dump it into the same archive)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from eahub.core.database import is_postgres


class BackupNotSupported(RuntimeError):
    pass


def backup(engine: Engine, out: Path) -> Path:
    if is_postgres(engine):
        raise BackupNotSupported("the board database is PostgreSQL: back it up with pg_dump "
                                 "(pg_dump --format=custom --file FILE \"$EAHUB_BOARD_DATABASE_URL\")")
    if out.exists():
        raise FileExistsError(f"{out} exists already")
    out.parent.mkdir(parents=True, exist_ok=True)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM INTO ?", (str(out),))
    return out
