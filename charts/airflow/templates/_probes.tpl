{{/*
Liveness of the triggerer and the dag-processor: `list <job type> <section> <threshold key>`.

What `airflow jobs check --job-type <type> --local` answers, without starting the Airflow CLI (2.8
CPU-seconds per probe, measured in the triggerer; the whole of a 2-core node's tenth for the two,
forever): the one job of that type running on this pod's host has heartbeaten within
`[<section>] <threshold key>` (Airflow's 30 s unless set), read from the job table with psycopg2
alone for PostgreSQL (SQLAlchemy, five times the import cost, for other databases). Anything out of
the ordinary (a custom hostname_callable, what plain_url_misses() finds: _database.tpl) hands over
to `airflow jobs check` itself. Exit 0 alive, 1 not, with one line why.
*/}}
{{- define "airflow.jobAliveScript" -}}
{{- $jobType := index . 0 -}}
{{- $section := index . 1 -}}
{{- $key := index . 2 -}}
import socket, sys
from datetime import datetime, timezone

{{ include "airflow.settingsScript" . }}


def ask_airflow(why):
    print(f"{why}: asking `airflow jobs check`", flush=True)
    os.execvp("airflow", ["airflow", "jobs", "check", "--job-type", {{ $jobType | quote }}, "--local"])


def fqdn():
    """As Airflow's default hostname_callable names this host: the resolver's canonical name for it."""
    name = socket.gethostname()
    try:
        found = socket.getaddrinfo(name, None, 0, socket.SOCK_DGRAM, 0, socket.AI_CANONNAME)
    except OSError:
        return name
    return next((info[3] for info in found if info[3]), name)


# The two hostname_callables this knows (the chart sets the second for the triggerer); any other
# names hosts in a way only Airflow can reproduce.
namers = {"airflow.utils.net.getfqdn": fqdn, "airflow.utils.net.get_host_ip_address": lambda: socket.gethostbyname(fqdn())}
hostname = namers.get(setting("core", "hostname_callable", "airflow.utils.net.getfqdn"))
if hostname is None:
    ask_airflow("[core] hostname_callable is set")
missed = plain_url_misses()
if missed:
    ask_airflow(missed)
threshold = float(setting({{ $section | quote }}, {{ $key | quote }}, "30"))
url = os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
job = {"job_type": {{ $jobType | quote }}, "hostname": hostname()}
sql = "SELECT latest_heartbeat FROM job WHERE state = 'running' AND job_type = %(job_type)s AND hostname = %(hostname)s"
beats = None
scheme, _, rest = url.partition("://")
if scheme in ("postgresql", "postgresql+psycopg2", "postgresql+psycopg"):
    # libpq reads these drivers' SQLAlchemy URLs as its own URIs (TLS from PGSSLMODE/PGSSLROOTCERT as
    # for Airflow): psycopg2 alone imports in a tenth of SQLAlchemy's time, most of the probe's cost.
    import psycopg2

    try:
        connection = psycopg2.connect(f"postgresql://{rest}", connect_timeout=10)
    except psycopg2.ProgrammingError:  # a URL parameter libpq does not know: SQLAlchemy's reading below
        connection = None
    if connection is not None:
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, job)
                beats = [row[0] for row in cursor.fetchall()]
        finally:
            connection.close()
if beats is None:
    import sqlalchemy

    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    query = sqlalchemy.text(sql.replace("%(job_type)s", ":job_type").replace("%(hostname)s", ":hostname"))
    query = query.columns(latest_heartbeat=sqlalchemy.DateTime(timezone=True))
    with engine.connect() as connection:
        beats = list(connection.scalars(query, job))
now = datetime.now(timezone.utc)
ages = sorted((now - (b if b.tzinfo else b.replace(tzinfo=timezone.utc))).total_seconds() for b in beats if b)
alive = [age for age in ages if age < threshold]
if len(alive) == 1:
    print(f"{{ $jobType }} alive: last heartbeat {alive[0]:.0f} s ago")
    sys.exit(0)
if alive:
    sys.exit(f"{len(alive)} running {{ $jobType }}s on {hostname()} heartbeat within {threshold:.0f} s: expected one")
last = f"last heartbeat {ages[0]:.0f} s ago" if ages else "none running"
sys.exit(f"no {{ $jobType }} on {hostname()} heartbeat within {threshold:.0f} s ({last})")
{{- end -}}
