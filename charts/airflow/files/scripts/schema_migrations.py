"""Waiting for `airflow db migrate`: what the `wait-for-migrations` init container of the scheduler,
api-server, dag-processor and triggerer runs, after the database wait (metadata_database.py).

It reads the schema version (alembic_version) once a second with SQLAlchemy alone and goes on when
it is the head of the migration scripts this image's Airflow ships, the revision `airflow db
check-migrations` compares with. That command would import all of Airflow, seconds of CPU in each of
four pods while the migration Job needs the CPU. Anything out of the ordinary (engine settings the
plain URL would miss, a revision these scripts do not know, a failed read) hands over to `airflow db
check-migrations` itself, as does a custom auth manager, which may keep tables of its own (FAB's)
that only Airflow's check waits for. It goes on only at exactly the image's head revision, so it
never lets a wrong schema through.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import time

from metadata_database import DatabaseUrl, Deadline
from plain_settings import plain_url_misses


def ask_airflow(why: str, deadline: Deadline) -> None:
    """Hand over to `airflow db check-migrations`, with what is left of the wait; never returns."""
    print(f"{why}: asking `airflow db check-migrations`", flush=True)
    left = max(1, round(deadline.left()))
    os.execvp("airflow", ["airflow", "db", "check-migrations", "--migration-wait-timeout", str(left)])


def migration_revisions() -> tuple[set[str], set[str]]:
    """(every revision, the heads) of the migration scripts of the installed Airflow, read as text
    from the package's folder: finding it imports no Airflow."""
    revisions, parents = set(), set()
    for package in importlib.util.find_spec("airflow").submodule_search_locations:
        folder = os.path.join(package, "migrations", "versions")
        for name in os.listdir(folder) if os.path.isdir(folder) else ():
            if not name.endswith(".py"):
                continue
            with open(os.path.join(folder, name)) as script:
                text = script.read()
            revisions.update(re.findall(r"^revision(?:\s*:.*?)?\s*=\s*[\"'](\w+)", text, re.M))
            for down in re.findall(r"^down_revision(?:\s*:.*?)?\s*=\s*(.*)$", text, re.M):
                parents.update(re.findall(r"[\"'](\w+)[\"']", down))
    return revisions, revisions - parents


def wait_for_migrations(database: DatabaseUrl, deadline: Deadline, custom_auth_manager: bool) -> None:
    """Return once the database is at this Airflow's head revision; exit 1 when `deadline` passes
    first. Says the state once per change, not every second."""
    if custom_auth_manager:
        ask_airflow("a custom auth manager may keep tables of its own", deadline)
    missed = plain_url_misses()
    if missed:
        ask_airflow(missed, deadline)
    revisions, heads = migration_revisions()
    if len(heads) != 1:
        ask_airflow(f"the migration scripts have {len(heads)} heads", deadline)
    import sqlalchemy

    engine = sqlalchemy.create_engine(database.url, poolclass=sqlalchemy.pool.NullPool)
    shown = None
    while True:
        try:
            with engine.connect() as connection:
                found = set()
                if sqlalchemy.inspect(connection).has_table("alembic_version"):
                    found = set(connection.scalars(sqlalchemy.text("SELECT version_num FROM alembic_version")))
        except Exception as error:
            ask_airflow(f"reading the schema version failed ({error.__class__.__name__})", deadline)
        if found == heads:
            return
        if not found <= revisions:
            ask_airflow(f"the database is at {', '.join(found)}, a revision these migration scripts do not know", deadline)
        state = f"the database is at {', '.join(found) or 'no revision'}, this Airflow needs {', '.join(heads)}"
        if deadline.passed():
            sys.exit(f"the migrations did not finish in {deadline.seconds} s: {state}")
        if state != shown:
            print(f"waiting for the migrations: {state}", flush=True)
            shown = state
        time.sleep(1)
