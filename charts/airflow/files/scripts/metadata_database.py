"""The metadata database as the chart's pods reach it before Airflow does: a wait until it accepts
connections, and, for the migration Job, one connection that says in one line why it is refused.

The wait is plain Python, no Airflow nor SQLAlchemy (each costs seconds of CPU to import): cheap
enough to poll every second, so a pod goes on within a second of the database being up. Only the
connection check imports SQLAlchemy, when it runs.
"""

from __future__ import annotations

import os
import re
import socket
import sys
import time

from plain_settings import DATABASE_URL_ENV, plain_url_misses

# A configuration error that no retry fixes: the migration Job's podFailurePolicy fails the Job on it
# at once, instead of six retries.
CONFIGURATION_ERROR = 3
DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306}
# scheme://[user[:password]@]host[:port]/..., as SQLAlchemy reads a URL; the host may be [IPv6].
TCP_URL = re.compile(r"([\w+]+)://(?:[^:/]*(?::[^@]*)?@)?(?:\[([^/?]+)\]|([^/:?]+))?(?::(\d+))?")
# Refusals of the connection check that no retry fixes: the certificate, TLS, pg_hba, the password,
# an unknown database...
PERMANENT = re.compile(r"certificate|SSL error|TLS|support SSL|pg_hba|no encryption|authentication failed|no password|does not exist", re.I)
# ...unless the server hung up, which a restarting server does: that may pass.
HUNG_UP = re.compile(r"unexpected eof|EOF detected|closed the connection", re.I)


class Deadline:
    """The end of a command's wait, `seconds` after it started; every wait of the command shares it."""

    def __init__(self, seconds: int) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def passed(self) -> bool:
        return time.monotonic() > self.at

    def left(self) -> float:
        return self.at - time.monotonic()


class DatabaseUrl:
    """The metadata database's URL (from AIRFLOW__DATABASE__SQL_ALCHEMY_CONN), read as SQLAlchemy
    reads it. `host` is None for a URL without a TCP host (a Unix socket, SQLite): nothing to wait
    for. `tls_parameters`: the ssl* query parameters of a PostgreSQL URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        tcp = TCP_URL.match(url)
        self.scheme = tcp and tcp[1].split("+")[0]
        self.host = tcp and (tcp[2] or tcp[3])
        self.port = tcp and int(tcp[4] or DEFAULT_PORTS.get(self.scheme, 0))
        query = url[tcp.end():].partition("?")[2] if self.scheme == "postgresql" else ""
        self.tls_parameters = sorted(set(re.findall(r"(?:^|&)(ssl\w*)=", query)))

    @classmethod
    def from_environ(cls) -> DatabaseUrl:
        return cls(os.environ[DATABASE_URL_ENV])

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}" if self.host else "the metadata database"


def refuse_tls_parameters(database: DatabaseUrl, url_secret_name: str) -> None:
    """Exit 3 with one line when the URL carries TLS parameters (sslmode...): Airflow derives its
    async URL from it and asyncpg rejects them, so the install would look healthy and fail later, in
    the REST API. Left alone when the async URL is given separately."""
    if database.tls_parameters and not any(name.startswith(f"{DATABASE_URL_ENV}_ASYNC") for name in os.environ):
        print(f"the database URL in Secret {url_secret_name} (key connection) sets {', '.join(database.tls_parameters)}, "
              "which Airflow's async driver (asyncpg) refuses: remove it from the URL and set data.tls.mode "
              "(and data.tls.caCertConfigMap) instead; the chart gives TLS to both drivers", file=sys.stderr, flush=True)
        sys.exit(CONFIGURATION_ERROR)


def wait_for_database(deadline: Deadline, url_secret_name: str) -> DatabaseUrl:
    """Refuse a URL with TLS parameters, then wait until the database's host and port accept a TCP
    connection, trying every second until `deadline` (then exit 1). Says each try in one line, never
    the password. Returns the URL for what follows."""
    database = DatabaseUrl.from_environ()
    refuse_tls_parameters(database, url_secret_name)
    while database.host and database.port:
        try:
            socket.create_connection((database.host, database.port), timeout=5).close()
            break
        except OSError as error:
            if deadline.passed():
                sys.exit(f"the metadata database at {database.where} did not answer in {deadline.seconds} s: {error}")
            print(f"waiting for the metadata database at {database.where}: {error}", flush=True)
            time.sleep(1)
    return database


def check_connection(database: DatabaseUrl, deadline: Deadline, url_secret_name: str) -> None:
    """One connection from the URL, as Airflow's sync driver makes it (TLS included), so that a
    refusal no retry can fix (certificate, TLS, pg_hba, password, unknown database) ends the
    migration Job at once with exit 3 and one line saying why, instead of `airflow db migrate`'s
    stack trace and six retries. A refusal that may pass (the server starting, a timeout) is retried
    each second until `deadline` (then exit 1), said once per new reason. Skipped, and left to
    Airflow, when plain_url_misses()."""
    missed = plain_url_misses()
    if missed:
        print(f"{missed}: leaving the connection to Airflow", flush=True)
        return
    import sqlalchemy

    engine = sqlalchemy.create_engine(database.url, poolclass=sqlalchemy.pool.NullPool,
                                      connect_args={"connect_timeout": 10} if database.host else {})
    shown = None
    while True:
        try:
            engine.connect().close()
            return
        except sqlalchemy.exc.DBAPIError as error:
            reason = " ".join(str(error.orig or error).split())
        except Exception as error:
            reason = " ".join(f"{error.__class__.__name__}: {error}".split())
        if PERMANENT.search(reason) and not HUNG_UP.search(reason):
            print(f"cannot connect to the metadata database at {database.where}: {reason} "
                  f"(check the URL in Secret {url_secret_name}, data.tls.mode and data.tls.caCertConfigMap)",
                  file=sys.stderr, flush=True)
            sys.exit(CONFIGURATION_ERROR)
        if deadline.passed():
            sys.exit(f"cannot connect to the metadata database at {database.where}: {reason}")
        if reason != shown:
            print(f"waiting for the metadata database at {database.where}: {reason}", flush=True)
            shown = reason
        time.sleep(1)
