{{/*
The chart's Secrets: their names, values generated once and kept (lookup), and the checksums
that roll a pod when a secret it reads changes.
*/}}

{{- define "airflow.fernetKeySecretName" -}}
{{- .Values.fernetKeySecretName | default (include "airflow.name" (list . "fernet-key")) -}}
{{- end -}}

{{- define "airflow.jwtSecretName" -}}
{{- .Values.jwtSecretName | default (include "airflow.name" (list . "jwt-secret")) -}}
{{- end -}}

{{- define "airflow.apiSecretKeySecretName" -}}
{{- .Values.apiSecretKeySecretName | default (include "airflow.name" (list . "api-secret-key")) -}}
{{- end -}}

{{- define "airflow.metadataSecretName" -}}
{{- .Values.data.metadataSecretName | default (include "airflow.name" (list . "metadata")) -}}
{{- end -}}

{{- define "airflow.postgresqlPasswordSecretName" -}}
{{- .Values.postgresql.passwordSecretName | default (include "airflow.name" (list . "postgresql")) -}}
{{- end -}}

{{- define "airflow.simpleAuthSecretName" -}}
{{- .Values.auth.simple.passwordsSecretName | default (include "airflow.name" (list . "simple-auth-passwords")) -}}
{{- end -}}

{{/*
The value of a chart-managed secret: kept from the live Secret on upgrade (lookup), generated on
first install. Memoised on the root context so the Secret and every checksum annotation in the
same render see one value (each `include` would otherwise draw a new random string).
Takes `list $ "<secret name>" "<key>" "<fernet|token>"`; returns the plain (not base64) value.
*/}}
{{- define "airflow.secretValue" -}}
{{- $root := index . 0 -}}
{{- $secretName := index . 1 -}}
{{- $key := index . 2 -}}
{{- $kind := index . 3 -}}
{{- if not (hasKey $root "airflowSecretValues") -}}
{{- $_ := set $root "airflowSecretValues" dict -}}
{{- end -}}
{{- $cache := get $root "airflowSecretValues" -}}
{{- $cacheKey := printf "%s/%s" $secretName $key -}}
{{- if not (hasKey $cache $cacheKey) -}}
{{- $value := "" -}}
{{- $live := lookup "v1" "Secret" $root.Release.Namespace $secretName -}}
{{- if and $live $live.data (hasKey $live.data $key) -}}
{{- $value = index $live.data $key | b64dec -}}
{{- else if eq $kind "fernet" -}}
{{- /* A fernet key is 32 bytes, url-safe base64 encoded. */ -}}
{{- $value = randAlphaNum 32 | b64enc | replace "+" "-" | replace "/" "_" -}}
{{- else -}}
{{- $value = randAlphaNum 48 -}}
{{- end -}}
{{- $_ := set $cache $cacheKey $value -}}
{{- end -}}
{{- get $cache $cacheKey -}}
{{- end -}}

{{/* SimpleAuthManager passwords file: live passwords kept, one generated per new user. Memoised like secretValue. */}}
{{- define "airflow.simpleAuthPasswords" -}}
{{- $root := . -}}
{{- if not (hasKey $root "airflowSecretValues") -}}
{{- $_ := set $root "airflowSecretValues" dict -}}
{{- end -}}
{{- $cache := get $root "airflowSecretValues" -}}
{{- $secretName := include "airflow.simpleAuthSecretName" $root -}}
{{- $cacheKey := printf "%s/passwords.json" $secretName -}}
{{- if not (hasKey $cache $cacheKey) -}}
{{- $livePasswords := dict -}}
{{- $live := lookup "v1" "Secret" $root.Release.Namespace $secretName -}}
{{- if and $live $live.data (hasKey $live.data "passwords.json") -}}
{{- $livePasswords = index $live.data "passwords.json" | b64dec | fromJson -}}
{{- end -}}
{{- $passwords := dict -}}
{{- range $root.Values.auth.simple.users -}}
{{- $user := first (splitList ":" .) -}}
{{- $_ := set $passwords $user (get $livePasswords $user | default (randAlphaNum 20)) -}}
{{- end -}}
{{- $_ := set $cache $cacheKey (toJson $passwords) -}}
{{- end -}}
{{- get $cache $cacheKey -}}
{{- end -}}

{{/* Metadata database URL of the embedded PostgreSQL. */}}
{{- define "airflow.embeddedDatabaseUrl" -}}
{{- $password := include "airflow.secretValue" (list . (include "airflow.name" (list . "postgresql")) "password" "token") -}}
{{- printf "postgresql://%s:%s@%s.%s:5432/%s" .Values.postgresql.username $password (include "airflow.name" (list . "postgresql")) .Release.Namespace .Values.postgresql.database -}}
{{- end -}}

{{/*
Checksum of one Secret's content: the chart-managed value, or for a Secret the user names, its
live data (empty during `helm template`), so rotating it and upgrading rolls the pods.
Takes `list $ "<secret name>" "<key>" "<fernet|token>" <chart-managed bool>`.
*/}}
{{- define "airflow.secretChecksum" -}}
{{- $root := index . 0 -}}
{{- $name := index . 1 -}}
{{- if index . 4 -}}
{{- include "airflow.secretValue" (list $root $name (index . 2) (index . 3)) | sha256sum -}}
{{- else -}}
{{- $live := lookup "v1" "Secret" $root.Release.Namespace $name -}}
{{- printf "%s:%s" $name (toJson ($live.data | default dict)) | sha256sum -}}
{{- end -}}
{{- end -}}

{{- define "airflow.metadataChecksum" -}}
{{- if .Values.data.metadataSecretName -}}
{{- include "airflow.secretChecksum" (list . .Values.data.metadataSecretName "connection" "token" false) -}}
{{- else -}}
{{- include "airflow.embeddedDatabaseUrl" . | sha256sum -}}
{{- end -}}
{{- end -}}

{{/*
Pod annotations that roll a server component when what it reads changes: airflow.cfg (and
airflowLocalSettings / apiServer.apiServerConfig, as checksum/airflow-hooks), every
secret it gets as env, and the chart's scripts its containers run (_scripts.tpl). The api-server
and the scheduler both carry the JWT checksum, so a new JWT secret restarts the token issuer and
the token checker together. With jwt.keys no component reads a JWT secret: the api-server and
scheduler carry checksum/jwt-keys instead (_jwt.tpl).
*/}}
{{- define "airflow.checksumAnnotations" -}}
checksum/config: {{ include "airflow.config" . | trim | sha256sum }}
{{- if or .Values.airflowLocalSettings .Values.apiServer.apiServerConfig }}
checksum/airflow-hooks: {{ list (tpl .Values.airflowLocalSettings .) (tpl .Values.apiServer.apiServerConfig .) | toJson | sha256sum }}
{{- end }}
checksum/fernet-key: {{ include "airflow.secretChecksum" (list . (include "airflow.fernetKeySecretName" .) "fernet-key" "fernet" (not .Values.fernetKeySecretName)) }}
{{- if not (include "airflow.jwtKeysEnabled" .) }}
checksum/jwt-secret: {{ include "airflow.secretChecksum" (list . (include "airflow.jwtSecretName" .) "jwt-secret" "token" (not .Values.jwtSecretName)) }}
{{- end }}
checksum/api-secret-key: {{ include "airflow.secretChecksum" (list . (include "airflow.apiSecretKeySecretName" .) "api-secret-key" "token" (not .Values.apiSecretKeySecretName)) }}
checksum/metadata: {{ include "airflow.metadataChecksum" . }}
{{ include "airflow.scriptsChecksum" . }}
{{- end -}}
