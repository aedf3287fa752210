{{/*
Remote task logs (logs.remote): every task's and trigger's log written to S3 or an S3-compatible
store when it ends, and read from there by the api-server, so a finished task's log outlives every
pod. Who touches the store: worker pods write (their supervisor uploads after the task; it fetches
the connection through the execution API, so worker pods carry no credentials), the triggerer
writes each trigger's part, the api-server reads (and serves the connection to workers). Only those
two get the connection, built here as the env var Airflow reads connections from.
*/}}

{{/* The connection id, as Airflow's env var name spells it: AIRFLOW_CONN_<ID upper-cased>. */}}
{{- define "airflow.remoteLogsConnEnvName" -}}
{{- printf "AIRFLOW_CONN_%s" (upper .Values.logs.remote.connectionId) -}}
{{- end -}}

{{/* `[logging]` options the chart sets when remote logging is on; the user's `config` still wins. */}}
{{- define "airflow.remoteLogsConfig" -}}
{{- $root := index . 0 -}}
{{- $chart := index . 1 -}}
{{- with $root.Values.logs.remote }}
{{- if .enabled }}
{{- $_ := set $chart "logging" (dict
  "remote_logging" "True"
  "remote_base_log_folder" (trimSuffix "/" .baseLogFolder)
  "remote_log_conn_id" .connectionId
  "delete_local_logs" "True") }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
The connection's extra: where the store is and how to address it. No secret in it: the keys, when
a Secret holds them, are spliced in by Kubernetes from env vars defined just before ($(VAR)).
*/}}
{{- define "airflow.remoteLogsConnection" -}}
{{- $s3 := .Values.logs.remote.s3 -}}
{{- $extra := dict -}}
{{- with $s3.region }}{{ $_ := set $extra "region_name" . }}{{ end -}}
{{- with $s3.endpointUrl }}{{ $_ := set $extra "endpoint_url" . }}{{ end -}}
{{- /* A store that does not answer costs a log read or an upload seconds, not botocore's minutes
(60 s connect timeout, up to 5 attempts). */ -}}
{{- $botocore := dict "connect_timeout" 5 "retries" (dict "mode" "standard" "max_attempts" 3) -}}
{{- with $s3.addressingStyle }}{{ $_ := set $botocore "s3" (dict "addressing_style" .) }}{{ end -}}
{{- $_ := set $extra "config_kwargs" $botocore -}}
{{- $conn := dict "conn_type" "aws" "extra" $extra -}}
{{- if $s3.credentialsSecret -}}
{{- $_ := set $conn "login" "$(AIRFLOW_REMOTE_LOGS_ACCESS_KEY_ID)" -}}
{{- $_ := set $conn "password" "$(AIRFLOW_REMOTE_LOGS_SECRET_ACCESS_KEY)" -}}
{{- end -}}
{{- toJson $conn -}}
{{- end -}}

{{/* Env of the api-server and the triggerer: the store's connection (nothing when remote logging is off). */}}
{{- define "airflow.remoteLogsEnv" -}}
{{- with .Values.logs.remote }}
{{- if .enabled }}
{{- with .s3.credentialsSecret }}
- name: AIRFLOW_REMOTE_LOGS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: aws-access-key-id
- name: AIRFLOW_REMOTE_LOGS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: aws-secret-access-key
{{- end }}
- name: {{ include "airflow.remoteLogsConnEnvName" $ }}
  value: {{ include "airflow.remoteLogsConnection" $ | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
The api-server reads with files/remote_log_reader.py (the provider's reader, except that a store it
cannot reach is said in the log instead of failing the request), mounted from the config ConfigMap
into $AIRFLOW_HOME/config, which Airflow puts on sys.path (docs/decisions/0009-remote-log-reader-wrapper.md).
*/}}
{{- define "airflow.remoteLogReaderKey" -}}remote_log_reader.py{{- end -}}
{{- define "airflow.remoteLogReaderModule" -}}airflow_on_k8s_remote_log_reader{{- end -}}

{{- define "airflow.remoteLogReaderEnv" -}}
{{- if .Values.logs.remote.enabled }}
- name: AIRFLOW__LOGGING__LOGGING_CONFIG_CLASS
  value: {{ include "airflow.remoteLogReaderModule" . }}.LOGGING_CONFIG
{{- end }}
{{- end -}}

{{- define "airflow.remoteLogReaderMount" -}}
{{- if .Values.logs.remote.enabled }}
- name: config
  mountPath: /opt/airflow/config/{{ include "airflow.remoteLogReaderModule" . }}.py
  subPath: {{ include "airflow.remoteLogReaderKey" . }}
  readOnly: true
{{- end }}
{{- end -}}

{{/* Pod annotation rolling the api-server and the triggerer, which read the store's keys, when they change. */}}
{{- define "airflow.remoteLogsChecksum" -}}
{{- with .Values.logs.remote }}
{{- if and .enabled .s3.credentialsSecret }}
checksum/remote-logs: {{ include "airflow.secretChecksum" (list $ .s3.credentialsSecret "" "" false) }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Wrong logs.remote values: one line saying what is wrong and how to fix it. */}}
{{- define "airflow.checkRemoteLogs" -}}
{{- with .Values.logs.remote }}
{{- if .enabled }}
{{- if not (regexMatch "^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$" (.baseLogFolder | default "")) }}
{{- fail (printf "logs.remote.baseLogFolder must be s3://BUCKET or s3://BUCKET/PREFIX (a valid bucket name), not %q" (.baseLogFolder | default "")) }}
{{- end }}
{{- if not (regexMatch "^[A-Za-z0-9_]+$" (.connectionId | default "")) }}
{{- fail (printf "logs.remote.connectionId must be letters, digits and underscores (it becomes the env var AIRFLOW_CONN_<ID>), not %q" (.connectionId | default "")) }}
{{- end }}
{{- if and .s3.endpointUrl (not (regexMatch "^https?://[^/]+" .s3.endpointUrl)) }}
{{- fail (printf "logs.remote.s3.endpointUrl must be an http:// or https:// URL of the S3 API (empty for AWS S3), not %q" .s3.endpointUrl) }}
{{- end }}
{{- if not (has (.s3.addressingStyle | default "") (list "" "path" "virtual" "auto")) }}
{{- fail (printf "logs.remote.s3.addressingStyle must be path, virtual, auto or empty (botocore's default), not %q" .s3.addressingStyle) }}
{{- end }}
{{- $logging := get ($.Values.config | default dict) "logging" | default dict }}
{{- range $key := list "remote_logging" "remote_base_log_folder" "remote_log_conn_id" "logging_config_class" }}
{{- if hasKey $logging $key }}
{{- fail (printf "config.logging.%s is set by logs.remote; remove it from config (or turn logs.remote.enabled off and configure remote logging yourself)" $key) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}
