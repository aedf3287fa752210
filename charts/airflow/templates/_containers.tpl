{{/*
What the Airflow server containers share: their env (every secret as a secretKeyRef), volumes
and mounts, and the init container that waits for the migrations.
*/}}

{{/*
Env of the server components: every secret as a secretKeyRef, never a literal. The image's
entrypoint would first run `airflow db check` (a whole Airflow CLI start, repeated while the database
is down) before each command: the migration Job and the `wait-for-migrations` init containers wait for
the database with the chart's scripts instead (plain Python, no Airflow import: _scripts.tpl), so that
check is off (docs/decisions/0005-migrations-post-hook-components-wait.md).
*/}}
{{/*
The user name Airflow asks for (getpass reads $USER before the passwd file). A uid the platform
assigns (OpenShift) has no passwd entry, and with a read-only root filesystem the image's entrypoint
cannot add one: without this the Airflow CLI stops with "The user that Airflow is running as has no
username". Every container that runs Airflow gets it.
*/}}
{{- define "airflow.userEnv" -}}
- name: USER
  value: airflow
{{- end -}}

{{- define "airflow.serverEnv" -}}
- name: CONNECTION_CHECK_MAX_COUNT
  value: "0"
{{ include "airflow.userEnv" . }}
- name: AIRFLOW__CORE__FERNET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "airflow.fernetKeySecretName" . }}
      key: fernet-key
{{ include "airflow.databaseEnv" . }}
{{- if not (include "airflow.jwtKeysEnabled" .) }}
- name: AIRFLOW__API_AUTH__JWT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "airflow.jwtSecretName" . }}
      key: jwt-secret
{{- end }}
- name: AIRFLOW__API__SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "airflow.apiSecretKeySecretName" . }}
      key: api-secret-key
{{- include "airflow.gitBundleConnectionEnv" . }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* `envFrom:` of a container from a list of sources (`extraEnvFrom`, `workers.extraEnvFrom`); empty when none. */}}
{{- define "airflow.envFrom" -}}
{{- with . }}
envFrom:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Volume mounts shared by every Airflow container: the config file (and airflowLocalSettings) and a writable logs dir. */}}
{{- define "airflow.baseVolumeMounts" -}}
- name: config
  mountPath: /opt/airflow/airflow.cfg
  subPath: airflow.cfg
  readOnly: true
{{- if .Values.airflowLocalSettings }}
- name: config
  mountPath: /opt/airflow/config/airflow_local_settings.py
  subPath: airflow_local_settings.py
  readOnly: true
{{- end }}
- name: logs
  mountPath: /opt/airflow/logs
- name: tmp
  mountPath: /tmp
{{- end -}}

{{/* The base volumes of an Airflow pod: `list $ "<component>"`, whose emptyDirSizeLimits size logs and tmp (_storage.tpl). */}}
{{- define "airflow.baseVolumes" -}}
{{- $root := index . 0 -}}
- name: config
  configMap:
    name: {{ include "airflow.name" (list $root "config") }}
- name: logs
  {{- if $root.Values.logs.persistence.enabled }}
  persistentVolumeClaim:
    claimName: {{ $root.Values.logs.persistence.existingClaim | default (include "airflow.name" (list $root "logs")) }}
  {{- else }}
  {{- include "airflow.emptyDir" (list $root (index . 1) "logs") | nindent 2 }}
  {{- end }}
- name: tmp
  {{- include "airflow.emptyDir" (list $root (index . 1) "tmp") | nindent 2 }}
{{- end -}}

{{/* Where DAG files come from, for components that parse or run them: `list $ "<component>"`. Empty when baked into the image. */}}
{{- define "airflow.dagsVolume" -}}
{{- $root := index . 0 -}}
{{- if $root.Values.dags.gitSync.enabled }}
- name: dags
  {{- include "airflow.emptyDir" (list $root (index . 1) "dags") | nindent 2 }}
{{- include "airflow.gitVolumes" $root }}
{{- else if $root.Values.dags.persistence.enabled }}
- name: dags
  persistentVolumeClaim:
    claimName: {{ $root.Values.dags.persistence.existingClaim | default (include "airflow.name" (list $root "dags")) }}
{{- end }}
{{- end -}}

{{- define "airflow.dagsVolumeMount" -}}
{{- if or .Values.dags.gitSync.enabled .Values.dags.persistence.enabled }}
- name: dags
  mountPath: /opt/airflow/dags
  readOnly: true
{{- end }}
{{- end -}}

{{/*
Init container that holds a component until `airflow db migrate` has run: `list $ <values>`. It
waits for the database, then reads the schema version and goes on at exactly the head revision of
this image's Airflow, within migrations.waitTimeoutSeconds, without importing Airflow; with a custom
auth manager, or anything out of the ordinary, it hands over to `airflow db check-migrations`
(files/scripts/schema_migrations.py).
*/}}
{{- define "airflow.waitForMigrations" -}}
{{- $root := index . 0 -}}
{{- $values := include "airflow.componentValues" . | fromJson -}}
- name: wait-for-migrations
  image: {{ include "airflow.image" $root.Values.images.airflow }}
  imagePullPolicy: {{ $root.Values.images.airflow.pullPolicy }}
  args:
    {{- include "airflow.scriptCommand" $root | nindent 4 }}
    - wait-for-migrations
    - --timeout
    - {{ int $root.Values.migrations.waitTimeoutSeconds | quote }}
    - --metadata-secret
    - {{ include "airflow.metadataSecretName" $root | quote }}
    - --auth-manager
    - {{ $root.Values.auth.manager | quote }}
  env:
    {{- include "airflow.serverEnv" $root | nindent 4 }}
  {{- with include "airflow.envFrom" $root.Values.extraEnvFrom | trim }}{{ nindent 2 . }}{{- end }}
  volumeMounts:
    {{- include "airflow.serverVolumeMounts" $root | nindent 4 }}
    {{- include "airflow.scriptsVolumeMounts" $root | nindent 4 }}
  securityContext:
    {{- include "airflow.containerSecurityContext" . | nindent 4 }}
  resources:
    {{- toYaml $values.resources | nindent 4 }}
{{- end -}}


{{/* Where the scheduler finds the worker pod template ([kubernetes_executor] pod_template_file's folder). */}}
{{- define "airflow.podTemplateFolder" -}}/opt/airflow/pod_templates{{- end -}}

{{/*
Init container of the scheduler that makes the release own its worker pods (workers.deleteWithRelease):
it reads the pod-template ConfigMap's uid and writes the template the KubernetesExecutor reads with an
ownerReference to it, so `helm uninstall` leaves no worker pod behind (files/scripts/worker_owner.py).
`list $ "scheduler"`.
*/}}
{{- define "airflow.workerOwnerInitContainer" -}}
{{- $root := index . 0 -}}
{{- if $root.Values.workers.deleteWithRelease -}}
{{- $values := include "airflow.componentValues" . | fromJson -}}
- name: own-worker-pods
  image: {{ include "airflow.image" $root.Values.images.airflow }}
  imagePullPolicy: {{ $root.Values.images.airflow.pullPolicy }}
  args:
    {{- include "airflow.scriptCommand" $root | nindent 4 }}
    - own-worker-pods
    - --configmap
    - {{ include "airflow.name" (list $root "pod-template") }}
    - /opt/airflow/pod-template-source/pod_template_file.yaml
    - {{ include "airflow.podTemplateFolder" $root }}/pod_template_file.yaml
  env:
    # The image's entrypoint would first wait for a database this container does not use.
    - name: CONNECTION_CHECK_MAX_COUNT
      value: "0"
    {{- include "airflow.userEnv" $root | nindent 4 }}
  volumeMounts:
    {{- include "airflow.scriptsVolumeMounts" $root | nindent 4 }}
    - name: pod-template-source
      mountPath: /opt/airflow/pod-template-source
      readOnly: true
    - name: pod-template
      mountPath: {{ include "airflow.podTemplateFolder" $root }}
  securityContext:
    {{- include "airflow.containerSecurityContext" . | nindent 4 }}
  resources:
    {{- toYaml $values.resources | nindent 4 }}
{{- end -}}
{{- end -}}
