"""Waiting for `airflow db migrate`: what the `wait-for-migrations` init container of the scheduler,
api-server, dag-processor and triggerer runs, after the database wait (metadata_database.py).

It reads the schema version (alembic_version) once a second with SQLAlchemy alone and goes on when
it is the head of the migration scripts this image's Airflow ships, the revision `airflow db
check-migrations` compares with. That command would import all of Airflow, seconds of CPU in each of
four pods while the migration Job needs the CPU. With the FAB auth manager it also waits for FAB's
own tables (alembic_version_fab, at the head of the FAB provider's scripts), which `airflow db
migrate` migrates with Airflow's. Anything out of the ordinary (engine settings the plain URL would
miss, a revision these scripts do not know, a failed read) hands over to `airflow db
check-migrations` itself, as does a custom auth manager, which may keep tables of its own that only
Airflow's check knows. It goes on only at exactly the image's head revisions, so it never lets a
wrong schema through.
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


# Where migration scripts are, under the `airflow` package's folder(s), and the table their revision
# is kept in. Only the top-level package is looked up: finding `airflow.providers.fab` would import
# `airflow` (its parent), which initialises Airflow's settings, seconds of CPU.
AIRFLOW_SCHEMA = ("migrations/versions", "alembic_version")
FAB_SCHEMA = ("providers/fab/migrations/versions", "alembic_version_fab")


def migration_revisions(folder_path: str = AIRFLOW_SCHEMA[0]) -> tuple[set[str], set[str]]:
    """(every revision, the heads) of the migration scripts in `folder_path` of the installed
    Airflow (its own, or the FAB provider's), read as text: finding the folder imports no Airflow."""
    revisions, parents = set(), set()
    for location in importlib.util.find_spec("airflow").submodule_search_locations:
        folder = os.path.join(location, folder_path)
        for name in os.listdir(folder) if os.path.isdir(folder) else ():
            if not name.endswith(".py"):
                continue
            with open(os.path.join(folder, name)) as script:
                text = script.read()
            revisions.update(re.findall(r"^revision(?:\s*:.*?)?\s*=\s*[\"'](\w+)", text, re.M))
            for down in re.findall(r"^down_revision(?:\s*:.*?)?\s*=\s*(.*)$", text, re.M):
                parents.update(re.findall(r"[\"'](\w+)[\"']", down))
    return revisions, revisions - parents


def wait_for_migrations(database: DatabaseUrl, deadline: Deadline, auth_manager: str = "simple") -> None:
    """Return once the database is at the head revision of this Airflow (and of the FAB provider
    with auth_manager "fab"); exit 1 when `deadline` passes first. Says the state once per change,
    not every second."""
    if auth_manager not in ("simple", "fab"):
        ask_airflow("a custom auth manager may keep tables of its own", deadline)
    missed = plain_url_misses()
    if missed:
        ask_airflow(missed, deadline)
    schemas = [AIRFLOW_SCHEMA] + ([FAB_SCHEMA] if auth_manager == "fab" else [])
    wanted = {}  # version table -> (every revision, the heads)
    for folder, table in schemas:
        revisions, heads = migration_revisions(folder)
        if len(heads) != 1:
            ask_airflow(f"the migration scripts in {folder} have {len(heads)} heads", deadline)
        wanted[table] = (revisions, heads)
    import sqlalchemy

    engine = sqlalchemy.create_engine(database.url, poolclass=sqlalchemy.pool.NullPool)
    shown = None
    while True:
        try:
            with engine.connect() as connection:  # one connection a round, for every table
                inspector = sqlalchemy.inspect(connection)
                found = {table: set(connection.scalars(sqlalchemy.text(f"SELECT version_num FROM {table}")))  # noqa: S608 - a constant
                         if inspector.has_table(table) else set() for table in wanted}  # fmt: skip
        except Exception as error:
            ask_airflow(f"reading the schema version failed ({error.__class__.__name__})", deadline)
        states = []
        for table, (revisions, heads) in wanted.items():
            if not found[table] <= revisions:
                ask_airflow(f"{table} is at {', '.join(found[table])}, a revision these migration scripts do not know", deadline)
            if found[table] != heads:
                states.append(f"{table} is at {', '.join(found[table]) or 'no revision'}, this image needs {', '.join(heads)}")
        if not states:
            return
        state = "; ".join(states)
        if deadline.passed():
            sys.exit(f"the migrations did not finish in {deadline.seconds} s: {state}")
        if state != shown:
            print(f"waiting for the migrations: {state}", flush=True)
            shown = state
        time.sleep(1)
