"""Liveness of the triggerer and the dag-processor: their pods' liveness probe.

What `airflow jobs check --job-type <type> --local` answers, without starting the Airflow CLI,
which costs seconds of CPU per probe, forever, in every such pod: the one job of that type running
on this pod's host has heartbeaten within `[<section>] <threshold key>` (Airflow's 30 s unless set),
read from the job table with psycopg2 alone for PostgreSQL (SQLAlchemy, much slower to import, for
other databases). Anything out of the ordinary (a custom hostname_callable, what plain_url_misses()
finds) hands over to `airflow jobs check` itself. Exit 0 alive, 1 not, with one line why.
"""

from __future__ import annotations

import os
import socket
import sys
from datetime import datetime, timezone

from plain_settings import DATABASE_URL_ENV, plain_url_misses, setting

HEARTBEATS = "SELECT latest_heartbeat FROM job WHERE state = 'running' AND job_type = %(job_type)s AND hostname = %(hostname)s"
# SQLAlchemy URL schemes that libpq reads as its own URIs once the scheme is `postgresql`.
LIBPQ_SCHEMES = ("postgresql", "postgresql+psycopg2", "postgresql+psycopg")


def ask_airflow(why: str, job_type: str) -> None:
    """Hand over to `airflow jobs check`; never returns."""
    print(f"{why}: asking `airflow jobs check`", flush=True)
    os.execvp("airflow", ["airflow", "jobs", "check", "--job-type", job_type, "--local"])


def fqdn() -> str:
    """As Airflow's default hostname_callable names this host: the resolver's canonical name for it."""
    name = socket.gethostname()
    try:
        found = socket.getaddrinfo(name, None, 0, socket.SOCK_DGRAM, 0, socket.AI_CANONNAME)
    except OSError:
        return name
    return next((info[3] for info in found if info[3]), name)


# The two hostname_callables this knows (the chart sets the second for the triggerer); any other
# names hosts in a way only Airflow can reproduce.
HOSTNAME_CALLABLES = {"airflow.utils.net.getfqdn": fqdn,
                      "airflow.utils.net.get_host_ip_address": lambda: socket.gethostbyname(fqdn())}


def heartbeats(url: str, job: dict[str, str]) -> list[datetime | None]:
    """latest_heartbeat of each running job of `job`'s type and hostname."""
    scheme, _, rest = url.partition("://")
    if scheme in LIBPQ_SCHEMES:
        # TLS from PGSSLMODE/PGSSLROOTCERT as for Airflow; psycopg2 alone imports in a fraction of
        # SQLAlchemy's time, most of the probe's cost.
        import psycopg2

        try:
            connection = psycopg2.connect(f"postgresql://{rest}", connect_timeout=10)
        except psycopg2.ProgrammingError:  # a URL parameter libpq does not know: SQLAlchemy's reading below
            connection = None
        if connection is not None:
            try:
                with connection.cursor() as cursor:
                    cursor.execute(HEARTBEATS, job)
                    return [row[0] for row in cursor.fetchall()]
            finally:
                connection.close()
    import sqlalchemy

    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    query = sqlalchemy.text(HEARTBEATS.replace("%(job_type)s", ":job_type").replace("%(hostname)s", ":hostname"))
    query = query.columns(latest_heartbeat=sqlalchemy.DateTime(timezone=True))
    with engine.connect() as connection:
        return list(connection.scalars(query, job))


def job_alive(job_type: str, section: str, threshold_key: str) -> None:
    """Return (exit 0) when exactly one `job_type` job on this host heartbeat within the threshold,
    saying how long ago; else exit 1 with one line why."""
    hostname = HOSTNAME_CALLABLES.get(setting("core", "hostname_callable", "airflow.utils.net.getfqdn"))
    if hostname is None:
        ask_airflow("[core] hostname_callable is set", job_type)
    missed = plain_url_misses()
    if missed:
        ask_airflow(missed, job_type)
    threshold = float(setting(section, threshold_key, "30"))
    beats = heartbeats(os.environ[DATABASE_URL_ENV], {"job_type": job_type, "hostname": hostname()})
    now = datetime.now(timezone.utc)
    ages = sorted((now - (b if b.tzinfo else b.replace(tzinfo=timezone.utc))).total_seconds() for b in beats if b)
    alive = [age for age in ages if age < threshold]
    if len(alive) == 1:
        print(f"{job_type} alive: last heartbeat {alive[0]:.0f} s ago")
        return
    if alive:
        sys.exit(f"{len(alive)} running {job_type}s on {hostname()} heartbeat within {threshold:.0f} s: expected one")
    last = f"last heartbeat {ages[0]:.0f} s ago" if ages else "none running"
    sys.exit(f"no {job_type} on {hostname()} heartbeat within {threshold:.0f} s ({last})")
