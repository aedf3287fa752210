{{/*
The metadata database as every Airflow server container reaches it: the URL from its Secret and TLS
from data.tls. The checks that run before Airflow does (waiting for the database, refusing a URL
Airflow cannot use, saying in one line why a connection is refused) are the chart's scripts
(files/scripts/metadata_database.py, _scripts.tpl).
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

{{/* Volumes of a server pod (`list $ "<component>"`): the base ones, the chart's scripts, and the database's CA, when one is named. */}}
{{- define "airflow.serverVolumes" -}}
{{- $root := index . 0 -}}
{{ include "airflow.baseVolumes" . }}
{{ include "airflow.scriptsVolume" $root }}
{{- with ($root.Values.data.tls | default dict).caCertConfigMap }}
- name: database-ca
  configMap:
    name: {{ . }}
    items:
      - {key: ca.crt, path: ca.crt}
{{- end }}
{{- end -}}
