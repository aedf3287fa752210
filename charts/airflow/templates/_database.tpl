{{/*
The metadata database as every Airflow server container reaches it: the URL from its Secret, TLS
from data.tls, and the plain-Python checks that run before Airflow does (waiting for the database,
refusing a URL Airflow cannot use, saying in one line why a connection is refused).
*/}}

{{/*
The URL and TLS env. TLS goes through libpq's own variables, which psycopg (Airflow's sync engine)
and asyncpg (its async engine, whose URL Airflow derives from this one) both read: no driver
spelling in the URL, one setting for both.
*/}}
{{- define "airflow.databaseEnv" -}}
{{- $tls := .Values.data.tls | default dict -}}
- name: AIRFLOW__DATABASE__SQL_ALCHEMY_CONN
  valueFrom:
    secretKeyRef:
      name: {{ include "airflow.metadataSecretName" . }}
      key: connection
{{- with $tls.mode }}
- name: PGSSLMODE
  value: {{ . | quote }}
{{- if hasPrefix "verify-" . }}
- name: PGSSLROOTCERT
  value: {{ if $tls.caCertConfigMap }}/opt/airflow/database-ca/ca.crt{{ else }}/etc/ssl/certs/ca-certificates.crt{{ end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Mounts of a server container: the base ones and the database's CA, when one is named. */}}
{{- define "airflow.serverVolumeMounts" -}}
{{ include "airflow.baseVolumeMounts" . }}
{{- with (.Values.data.tls | default dict).caCertConfigMap }}
- name: database-ca
  mountPath: /opt/airflow/database-ca
  readOnly: true
{{- end }}
{{- end -}}

{{- define "airflow.serverVolumes" -}}
{{ include "airflow.baseVolumes" . }}
{{- with (.Values.data.tls | default dict).caCertConfigMap }}
- name: database-ca
  configMap:
    name: {{ . }}
    items:
      - {key: ca.crt, path: ca.crt}
{{- end }}
{{- end -}}

{{/*
Python defining `setting(section, key)`, a setting as Airflow reads it (its env variable, its _CMD
or _SECRET variant, else airflow.cfg), and `plain_url_misses()`: why a connection made from the
plain URL may not be the one Airflow makes (engine or connect args, a local settings module that
may replace the engine), or None. The scripts below and the probes hand over to Airflow itself then.
*/}}
{{- define "airflow.settingsScript" -}}
import configparser, os
home = os.environ.get("AIRFLOW_HOME", "/opt/airflow")
cfg = configparser.ConfigParser(interpolation=None)
cfg.read(os.path.join(home, "airflow.cfg"))


def setting(section, key, default=None):
    name = f"AIRFLOW__{section.upper()}__{key.upper()}"
    for variant in ("_CMD", "_SECRET"):
        if name + variant in os.environ or cfg.has_option(section, key + variant.lower()):
            return f"(from {variant[1:].lower()})"
    return os.environ.get(name, cfg.get(section, key, fallback=default))


def plain_url_misses():
    for key in ("sql_alchemy_connect_args", "sql_alchemy_engine_args"):
        if setting("database", key):
            return f"[database] {key} is set"
    if os.path.exists(os.path.join(home, "config", "airflow_local_settings.py")):
        return "airflow_local_settings.py may change how Airflow connects"
    return None
{{- end -}}

{{/*
Python that waits until the metadata database accepts connections, for at most `seconds`: a TCP
connect to the host and port of the URL every second. Plain Python, no Airflow nor SQLAlchemy
(each costs seconds of CPU to import): cheap enough to poll often, so a pod goes on within a
second of the database being up. The URL is read as SQLAlchemy reads it
(scheme://[user[:password]@]host[:port]/...); one without a TCP host (a Unix socket) is not
waited for. First it refuses, in one line, a PostgreSQL URL carrying TLS parameters (sslmode...):
Airflow derives its async URL from it and asyncpg rejects them, so the install would look healthy
and fail later, in the REST API. Defines `deadline`, `url`, `host` and `port` for what follows.
Takes `list $ seconds`. Exit code 3: a configuration error that no retry fixes.
*/}}
{{- define "airflow.waitForDatabaseScript" -}}
{{- $root := index . 0 -}}
{{- $seconds := int (index . 1) -}}
import os, re, socket, sys, time
deadline = time.monotonic() + {{ $seconds }}
url = os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
tcp = re.match(r"([\w+]+)://(?:[^:/]*(?::[^@]*)?@)?(?:\[([^/?]+)\]|([^/:?]+))?(?::(\d+))?", url)
scheme = tcp and tcp[1].split("+")[0]
host = tcp and (tcp[2] or tcp[3])
port = tcp and int(tcp[4] or {"postgresql": 5432, "mysql": 3306}.get(scheme, 0))
query = url[tcp.end():].partition("?")[2] if scheme == "postgresql" else ""
in_url = sorted(set(re.findall(r"(?:^|&)(ssl\w*)=", query)))
if in_url and not any(name.startswith("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC") for name in os.environ):
    print(f"the database URL in Secret {{ include "airflow.metadataSecretName" $root }} (key connection) sets {', '.join(in_url)}, "
          "which Airflow's async driver (asyncpg) refuses: remove it from the URL and set data.tls.mode "
          "(and data.tls.caCertConfigMap) instead; the chart gives TLS to both drivers", file=sys.stderr, flush=True)
    sys.exit(3)
while host and port:
    try:
        socket.create_connection((host, port), timeout=5).close()
        break
    except OSError as error:
        if time.monotonic() > deadline:
            sys.exit(f"the metadata database at {host}:{port} did not answer in {{ $seconds }} s: {error}")
        print(f"waiting for the metadata database at {host}:{port}: {error}", flush=True)
        time.sleep(1)
{{- end -}}

{{/*
Python for the migration Job, after the wait above, with an external database: one connection
from the URL, as Airflow's sync driver makes it (TLS included), so that a refusal no retry can fix
(certificate, TLS, pg_hba, password, unknown database) ends the Job at once with one line saying
why, instead of `airflow db migrate`'s stack trace and six retries. A refusal that may pass (the
server starting, a timeout) is retried each second until the deadline. Skipped, and left to
Airflow, when plain_url_misses(). Exit code 3 is the Job's podFailurePolicy's "fail now".
*/}}
{{- define "airflow.databaseConnectScript" -}}
{{- $root := . -}}
{{ include "airflow.settingsScript" $root }}


missed = plain_url_misses()
if missed:
    print(f"{missed}: leaving the connection to Airflow", flush=True)
else:
    import sqlalchemy
    permanent = re.compile(r"certificate|SSL error|TLS|support SSL|pg_hba|no encryption|authentication failed|no password|does not exist", re.I)
    hung_up = re.compile(r"unexpected eof|EOF detected|closed the connection", re.I)  # a server going away: may pass
    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool, connect_args={"connect_timeout": 10} if host else {})
    shown = None
    while True:
        try:
            engine.connect().close()
            break
        except sqlalchemy.exc.DBAPIError as error:
            reason = " ".join(str(error.orig or error).split())
        except Exception as error:
            reason = " ".join(f"{error.__class__.__name__}: {error}".split())
        where = f"{host}:{port}" if host else "the metadata database"
        if permanent.search(reason) and not hung_up.search(reason):
            print(f"cannot connect to the metadata database at {where}: {reason} "
                  "(check the URL in Secret {{ include "airflow.metadataSecretName" $root }}, data.tls.mode and data.tls.caCertConfigMap)",
                  file=sys.stderr, flush=True)
            sys.exit(3)
        if time.monotonic() > deadline:
            sys.exit(f"cannot connect to the metadata database at {where}: {reason}")
        if reason != shown:
            print(f"waiting for the metadata database at {where}: {reason}", flush=True)
            shown = reason
        time.sleep(1)
{{- end -}}
