{{/*
Named helpers shared by every template. Most take `list $ "<component>"` so they can reach the
root context and know which component they describe.
*/}}

{{/* Object name of a component: <release>-<component>, cut to the 63 characters names allow. */}}
{{- define "airflow.name" -}}
{{- $root := index . 0 -}}
{{- printf "%s-%s" $root.Release.Name (index . 1) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Name of an RBAC object the chart puts in a pod launch namespace. Launch namespaces are shared:
`team-a/airflow` and `team-b/airflow` may both launch into `development`, so the name carries the
release namespace too, and uninstalling one release never removes the other's grants.
Not truncated to 63: Role and RoleBinding names may be up to 253 characters.
*/}}
{{- define "airflow.launchRbacName" -}}
{{- $root := index . 0 -}}
{{- printf "%s-%s-%s" $root.Release.Name $root.Release.Namespace (index . 1) -}}
{{- end -}}

{{- define "airflow.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels that select a component's pods; never change them after a release, selectors are immutable. */}}
{{- define "airflow.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: airflow
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "airflow.labels" -}}
{{- $root := index . 0 -}}
{{ include "airflow.selectorLabels" . }}
app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
app.kubernetes.io/part-of: airflow
helm.sh/chart: {{ include "airflow.chart" $root }}
{{- with $root.Values.labels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "airflow.image" -}}
{{- printf "%s:%s" .repository .tag -}}
{{- end -}}

{{/* The serviceAccounts.<key> values of a component: `list $ "<component>"`. */}}
{{- define "airflow.serviceAccountValues" -}}
{{- $keys := dict "scheduler" "scheduler" "api-server" "apiServer" "dag-processor" "dagProcessor" "triggerer" "triggerer"
  "worker" "workers" "run-migrations" "migrations" "postgresql" "postgresql" "cleanup" "cleanup" -}}
{{- toJson (get (index . 0).Values.serviceAccounts (get $keys (index . 1)) | default dict) -}}
{{- end -}}

{{/* ServiceAccount name of a component: serviceAccounts.<key>.name, else <release>-<component>. */}}
{{- define "airflow.serviceAccountName" -}}
{{- (include "airflow.serviceAccountValues" . | fromJson).name | default (include "airflow.name" .) -}}
{{- end -}}

{{/* Namespaces whose pods the workers may manage (KubernetesPodOperator). */}}
{{- define "airflow.podLaunchNamespaces" -}}
{{- $root := . -}}
{{- $namespaces := .Values.rbac.podLaunchNamespaces | default (list .Release.Namespace) -}}
{{- toJson (uniq $namespaces) -}}
{{- end -}}

{{/* ---------------------------------------------------------------- Secrets */}}

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

{{/* ---------------------------------------------------------------- airflow.cfg */}}

{{/* DAGs folder inside the containers: git-sync publishes the repo under a `repo` link. */}}
{{- define "airflow.dagsFolder" -}}
{{- if .Values.dags.gitSync.enabled -}}
{{- $path := list "/opt/airflow/dags/repo" -}}
{{- with trimAll "/" .Values.dags.gitSync.subPath }}{{ $path = append $path . }}{{ end -}}
{{- join "/" $path -}}
{{- else -}}
/opt/airflow/dags
{{- end -}}
{{- end -}}

{{- define "airflow.executionApiServerUrl" -}}
{{- printf "http://%s.%s:%v/execution/" (include "airflow.name" (list . "api-server")) .Release.Namespace .Values.apiServer.service.port -}}
{{- end -}}

{{/*
The settings the chart derives, overlaid by the user's `config`, rendered as an ini file. A value
holding a Helm template (one that starts with `.`, `$`, `include` or `tpl`, e.g. the release name) is
rendered with tpl; Airflow's own Jinja templates (`ti.dag_id` in log_filename_template) are left as
they are, for Airflow.
*/}}
{{- define "airflow.config" -}}
{{- $chart := dict
  "core" (dict
    "executor" "KubernetesExecutor"
    "execution_api_server_url" (include "airflow.executionApiServerUrl" .)
    "dags_folder" (include "airflow.dagsFolder" .))
  "kubernetes_executor" (dict
    "namespace" .Release.Namespace
    "pod_template_file" "/opt/airflow/pod_templates/pod_template_file.yaml")
  "scheduler" (dict "enable_health_check" "True")
-}}
{{- with .Values.apiServer.ingress }}
{{- if and .enabled .host }}
{{- /* Links the UI builds must use the name users reach it by. */ -}}
{{- $_ := set $chart "api" (dict "base_url" (printf "%s://%s" (ternary "https" "http" (not (empty .tlsSecretName))) .host)) }}
{{- end }}
{{- end -}}
{{- if .Values.dags.gitBundle.enabled -}}
{{- $_ := set $chart "dag_processor" (dict "dag_bundle_config_list" (include "airflow.gitBundleConfigList" .)) -}}
{{- end -}}
{{- if eq .Values.auth.manager "simple" -}}
{{- $_ := set $chart.core "auth_manager" "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager" -}}
{{- $_ := set $chart.core "simple_auth_manager_users" (join "," .Values.auth.simple.users) -}}
{{- /* The Secret is mounted read-only; an init container copies it here, where Airflow can lock it. */ -}}
{{- $_ := set $chart.core "simple_auth_manager_passwords_file" "/opt/airflow/simple-auth/passwords.json" -}}
{{- end -}}
{{- include "airflow.remoteLogsConfig" (list . $chart) -}}
{{- include "airflow.metricsConfig" (list . $chart) -}}
{{- $merged := mergeOverwrite $chart (deepCopy .Values.config) -}}
{{- range $section := keys $merged | sortAlpha }}
[{{ $section }}]
{{- $options := get $merged $section }}
{{- range $key := keys $options | sortAlpha }}
{{- $value := toString (get $options $key) }}
{{- if regexMatch `\{\{-?\s*(\.|\$|include |tpl )` $value }}{{ $value = tpl $value $ }}{{ end }}
{{ $key }} = {{ $value }}
{{- end }}
{{ end -}}
{{- end -}}

{{/* ---------------------------------------------------------------- Containers */}}

{{/*
Env of the server components: every secret as a secretKeyRef, never a literal. The image's
entrypoint would first run `airflow db check` (a whole Airflow CLI start, repeated while the database
is down) before each command: the migration Job and the `wait-for-migrations` init containers wait for
the database with the chart's scripts instead (plain Python, no Airflow import: _scripts.tpl), so that
check is off (docs/decisions/0005-migrations-post-hook-components-wait.md).
*/}}
{{- define "airflow.serverEnv" -}}
- name: CONNECTION_CHECK_MAX_COUNT
  value: "0"
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

{{/* ---------------------------------------------------------------- git-sync */}}

{{- define "airflow.gitSyncIsSsh" -}}
{{- if .Values.dags.gitSync.sshKeySecret }}true{{ end -}}
{{- end -}}

{{/* The git source in use, as JSON: dags.gitSync or dags.gitBundle, whichever is enabled ({} for neither). */}}
{{- define "airflow.gitValues" -}}
{{- if .Values.dags.gitSync.enabled -}}
{{- toJson .Values.dags.gitSync -}}
{{- else if .Values.dags.gitBundle.enabled -}}
{{- toJson .Values.dags.gitBundle -}}
{{- else -}}
{}
{{- end -}}
{{- end -}}

{{/* Volumes holding the git source's key, known_hosts, CA and (for the bundle) https credentials. */}}
{{- define "airflow.gitVolumes" -}}
{{- $git := include "airflow.gitValues" . | fromJson -}}
{{- if $git.sshKeySecret }}
- name: git-ssh-key
  secret:
    secretName: {{ $git.sshKeySecret }}
    defaultMode: 0440
    items:
      - key: ssh-privatekey
        path: ssh
      {{- if not $git.knownHosts }}
      - key: known_hosts
        path: known_hosts
      {{- end }}
{{- if $git.knownHosts }}
- name: git-known-hosts
  configMap:
    name: {{ include "airflow.name" (list . "git-known-hosts") }}
{{- end }}
{{- end }}
{{- with $git.caCertConfigMap }}
- name: git-ca
  configMap:
    name: {{ . }}
    items:
      - key: ca.crt
        path: ca.crt
{{- end }}
{{- if and .Values.dags.gitBundle.enabled $git.credentialsSecret }}
- name: git-credentials
  secret:
    secretName: {{ $git.credentialsSecret }}
    defaultMode: 0440
    items:
      - key: username
        path: username
      - key: password
        path: password
{{- end }}
{{- end -}}

{{/*
git-sync container: `list $ true "<component>"` for the one-shot init container, `list $ false
"<component>"` for the sidecar that keeps pulling; its security context is the component's, as git-sync's user. It writes /opt/airflow/dags/repo -> the synced worktree.
*/}}
{{- define "airflow.gitSyncContainer" -}}
{{- $root := index . 0 -}}
{{- $oneTime := index . 1 -}}
{{- $component := index . 2 -}}
{{- $git := $root.Values.dags.gitSync -}}
- name: {{ $oneTime | ternary "git-sync-init" "git-sync" }}
  image: {{ include "airflow.image" $root.Values.images.gitSync }}
  imagePullPolicy: {{ $root.Values.images.gitSync.pullPolicy }}
  env:
    - name: GITSYNC_REPO
      value: {{ $git.repo | quote }}
    - name: GITSYNC_REF
      value: {{ $git.rev | default $git.branch | quote }}
    - name: GITSYNC_ROOT
      value: /git
    - name: GITSYNC_LINK
      value: repo
    - name: GITSYNC_DEPTH
      value: {{ $git.depth | quote }}
    - name: GITSYNC_PERIOD
      value: {{ $git.period | quote }}
    - name: GITSYNC_ONE_TIME
      value: {{ $oneTime | quote }}
    {{- if not $oneTime }}
    - name: GITSYNC_HTTP_BIND
      value: ":8000"
    {{- end }}
    {{- if $git.credentialsSecret }}
    - name: GITSYNC_USERNAME
      valueFrom:
        secretKeyRef:
          name: {{ $git.credentialsSecret }}
          key: username
    - name: GITSYNC_PASSWORD
      valueFrom:
        secretKeyRef:
          name: {{ $git.credentialsSecret }}
          key: password
    {{- end }}
    {{- if include "airflow.gitSyncIsSsh" $root }}
    - name: GITSYNC_SSH_KEY_FILE
      value: /etc/git-secret/ssh
    - name: GITSYNC_SSH_KNOWN_HOSTS
      value: "true"
    - name: GITSYNC_SSH_KNOWN_HOSTS_FILE
      value: /etc/git-known-hosts/known_hosts
    {{- end }}
    {{- if $git.caCertConfigMap }}
    # A private CA for an https git server: git checks the server's certificate against it only.
    - name: GITSYNC_GIT_CONFIG
      value: "http.sslCAInfo:/etc/git-ca/ca.crt"
    {{- end }}
  {{- if not $oneTime }}
  ports:
    - name: git-sync
      containerPort: 8000
  # git-sync answers 200 on / once it has synced and while syncs keep succeeding.
  livenessProbe:
    httpGet:
      path: /
      port: git-sync
    initialDelaySeconds: 30
    periodSeconds: 30
    failureThreshold: 10
  readinessProbe:
    httpGet:
      path: /
      port: git-sync
    periodSeconds: 10
  {{- end }}
  volumeMounts:
    - name: dags
      mountPath: /git
    # git-sync's HOME is /tmp (git config, ssh state).
    - name: tmp
      mountPath: /tmp
    {{- if include "airflow.gitSyncIsSsh" $root }}
    - name: git-ssh-key
      mountPath: /etc/git-secret/ssh
      subPath: ssh
      readOnly: true
    - name: {{ ternary "git-known-hosts" "git-ssh-key" (not (empty $git.knownHosts)) }}
      mountPath: /etc/git-known-hosts/known_hosts
      subPath: known_hosts
      readOnly: true
    {{- end }}
    {{- if $git.caCertConfigMap }}
    - name: git-ca
      mountPath: /etc/git-ca
      readOnly: true
    {{- end }}
  securityContext:
    {{- $context := include "airflow.containerSecurityContext" (list $root $component) | fromYaml }}
    {{- if not (kindIs "invalid" $git.uid) }}{{ $_ := set $context "runAsUser" $git.uid }}{{ end }}
    {{- toYaml $context | nindent 4 }}
  resources:
    {{- toYaml $git.resources | nindent 4 }}
{{- end -}}

{{/* DAG source containers of a long-running component: the git-sync sidecar when enabled. */}}
{{- define "airflow.gitSyncSidecar" -}}
{{- if (index . 0).Values.dags.gitSync.enabled }}
{{ include "airflow.gitSyncContainer" (list (index . 0) false (index . 1)) }}
{{- end }}
{{- end -}}

{{/*
Checks of a git source (dags.gitSync or dags.gitBundle): `list <values> "<values path>"`.
Fails the render naming the field, what is wrong and how to fix it.
*/}}
{{- define "airflow.checkGitSource" -}}
{{- $git := index . 0 -}}
{{- $at := index . 1 -}}
{{- if not $git.repo }}
{{- fail (printf "%s.repo is required when %s.enabled is true: set the repository URL" $at $at) }}
{{- end }}
{{- $ssh := or (hasPrefix "git@" $git.repo) (hasPrefix "ssh://" $git.repo) }}
{{- if and $ssh (not $git.sshKeySecret) }}
{{- fail (printf "%s.sshKeySecret is required for the ssh repository %q: name a Secret holding ssh-privatekey (and known_hosts), or use an https URL" $at $git.repo) }}
{{- end }}
{{- if and (not $ssh) $git.sshKeySecret }}
{{- fail (printf "%s.sshKeySecret is set but %s.repo %q is not an ssh URL: use git@host:org/repo.git or ssh://..., or use credentialsSecret for https" $at $at $git.repo) }}
{{- end }}
{{- if and $git.sshKeySecret $git.credentialsSecret }}
{{- fail (printf "%s.sshKeySecret and %s.credentialsSecret are both set: keep the one matching the repository URL (ssh key for git@/ssh://, credentials for https)" $at $at) }}
{{- end }}
{{- if and (hasPrefix "http://" $git.repo) $git.credentialsSecret }}
{{- fail (printf "%s.repo uses http:// with credentialsSecret: the token would travel in clear text; use an https:// URL" $at) }}
{{- end }}
{{- if and (not (hasPrefix "https://" $git.repo)) $git.caCertConfigMap }}
{{- fail (printf "%s.caCertConfigMap is set but %s.repo %q is not an https URL: a CA only checks https servers (ssh servers are checked with known_hosts)" $at $at $git.repo) }}
{{- end }}
{{- end -}}

{{/* ---------------------------------------------------------------- GitDagBundle */}}

{{/*
The one bundle the dag-processor reads when dags.gitBundle is on: Airflow's GitDagBundle. Its
connection holds no secret: git itself gets the credentials (env below), so the same Secrets as
git-sync's work unchanged.
*/}}
{{- define "airflow.gitBundleConfigList" -}}
{{- $git := .Values.dags.gitBundle -}}
{{- $kwargs := dict "repo_url" $git.repo "tracking_ref" $git.branch "refresh_interval" (int $git.refreshInterval) "git_conn_id" "dags_git" -}}
{{- with trimAll "/" $git.subPath }}{{ $_ := set $kwargs "subdir" . }}{{ end -}}
{{- list (dict "name" $git.name "classpath" "airflow.providers.git.bundles.git.GitDagBundle" "kwargs" $kwargs) | toJson -}}
{{- end -}}

{{/*
The bundle's Airflow connection `dags_git`, in every container that builds the bundle object (each
server component and the workers): without it each task log would say the connection is missing.
Public data only: the URL and, over ssh, where known_hosts is and that it is enforced.
*/}}
{{- define "airflow.gitBundleConnectionEnv" -}}
{{- $git := .Values.dags.gitBundle -}}
{{- if $git.enabled }}
{{- $connection := dict "conn_type" "git" "host" $git.repo -}}
{{- if $git.sshKeySecret }}
{{- $_ := set $connection "extra" (dict "known_hosts_file" (include "airflow.gitBundleKnownHostsFile" .) "strict_host_key_checking" "yes") -}}
{{- end }}
- name: AIRFLOW_CONN_DAGS_GIT
  value: {{ toJson $connection | quote }}
{{- end }}
{{- end -}}

{{/* Where the git Secrets are mounted in the containers that clone the bundle. */}}
{{- define "airflow.gitBundleKnownHostsFile" -}}
{{- ternary "/opt/airflow/git/known-hosts/known_hosts" "/opt/airflow/git/ssh/known_hosts" (not (empty .Values.dags.gitBundle.knownHosts)) -}}
{{- end -}}

{{/*
git settings of the containers that clone the bundle (dag-processor, workers). https credentials
reach git through a credential helper reading the mounted Secret, so the token is in no env var
and never written into the clone's config. `$$(` keeps Kubernetes from expanding `$(`.
*/}}
{{- define "airflow.gitBundleEnv" -}}
{{- $git := .Values.dags.gitBundle -}}
{{- if $git.enabled }}
# Fail at once instead of waiting for a password nobody types.
- name: GIT_TERMINAL_PROMPT
  value: "0"
{{- if $git.credentialsSecret }}
- name: GIT_CONFIG_COUNT
  value: "1"
- name: GIT_CONFIG_KEY_0
  value: credential.helper
- name: GIT_CONFIG_VALUE_0
  value: '!f() { cat >/dev/null; test "$1" = get || exit 0; printf "username=%s\npassword=%s\n" "$$(cat /opt/airflow/git/credentials/username)" "$$(cat /opt/airflow/git/credentials/password)"; }; f'
{{- end }}
{{- if $git.sshKeySecret }}
- name: GIT_SSH_COMMAND
  value: ssh -i /opt/airflow/git/ssh/ssh -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile={{ include "airflow.gitBundleKnownHostsFile" . }}
{{- end }}
{{- if $git.caCertConfigMap }}
- name: GIT_SSL_CAINFO
  value: /opt/airflow/git/ca/ca.crt
{{- end }}
{{- end }}
{{- end -}}

{{- define "airflow.gitBundleVolumeMounts" -}}
{{- $git := .Values.dags.gitBundle -}}
{{- if $git.enabled }}
{{- if $git.credentialsSecret }}
- name: git-credentials
  mountPath: /opt/airflow/git/credentials
  readOnly: true
{{- end }}
{{- if $git.sshKeySecret }}
- name: git-ssh-key
  mountPath: /opt/airflow/git/ssh
  readOnly: true
{{- if $git.knownHosts }}
- name: git-known-hosts
  mountPath: /opt/airflow/git/known-hosts
  readOnly: true
{{- end }}
{{- end }}
{{- if $git.caCertConfigMap }}
- name: git-ca
  mountPath: /opt/airflow/git/ca
  readOnly: true
{{- end }}
{{- end }}
{{- end -}}

{{- define "airflow.gitBundleVolumes" -}}
{{- if .Values.dags.gitBundle.enabled }}
{{- include "airflow.gitVolumes" . }}
{{- end }}
{{- end -}}

{{/*
The embedded PostgreSQL StatefulSet's serviceName, `list $ <the live StatefulSet, or {}>`: its
governing Service, the headless <release>-postgresql-headless. serviceName cannot change on a live
StatefulSet, and releases made with the chart before that Service existed name the ClusterIP
<release>-postgresql there: such a StatefulSet keeps its name, or every `helm upgrade` of the
release would fail. Renderers built on `helm template` (Argo CD, for one) run no lookup and get
the new name: there an old release's StatefulSet has to be recreated once (`kubectl delete
statefulset --cascade=orphan` leaves its pod and claim to the new one). Clients connect through the
ClusterIP Service and nothing resolves the pod's own DNS name, so either governing Service works.
*/}}
{{- define "airflow.postgresqlServiceName" -}}
{{- dig "spec" "serviceName" (include "airflow.name" (list (index . 0) "postgresql-headless")) (index . 1) -}}
{{- end -}}

{{/* ---------------------------------------------------------------- Small per-component objects */}}

{{/* ServiceAccount of a component; tokens are mounted only by the pod specs that use them. */}}
{{- define "airflow.serviceAccount" -}}
{{- $root := index . 0 -}}
{{- if $root.Values.serviceAccounts.create }}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "airflow.serviceAccountName" . }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "airflow.labels" . | nindent 4 }}
  {{- with (include "airflow.serviceAccountValues" . | fromJson).annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
automountServiceAccountToken: false
{{- end }}
{{- end -}}

{{/*
PodDisruptionBudget of a component, when it runs more than one replica and its
podDisruptionBudget.enabled is on: `list $ "<component>" .Values.<component>`.
*/}}
{{- define "airflow.podDisruptionBudget" -}}
{{- $root := index . 0 -}}
{{- $component := index . 1 -}}
{{- $values := index . 2 -}}
{{- if and $values.podDisruptionBudget.enabled (gt (int $values.replicas) 1) }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "airflow.name" (list $root $component) }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "airflow.labels" (list $root $component) | nindent 4 }}
spec:
  {{- toYaml ($values.podDisruptionBudget.config | default (dict "maxUnavailable" 1)) | nindent 2 }}
  selector:
    matchLabels:
      {{- include "airflow.selectorLabels" (list $root $component) | nindent 6 }}
{{- end }}
{{- end -}}

{{/* NetworkPolicy admitting no ingress to a component nobody connects to (kubelet probes come from the node, which common network plugins always admit). */}}
{{- define "airflow.denyIngressPolicy" -}}
{{- $root := index . 0 -}}
{{- $component := index . 1 -}}
{{- if $root.Values.networkPolicies.enabled }}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "airflow.name" (list $root $component) }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "airflow.labels" (list $root $component) | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "airflow.selectorLabels" (list $root $component) | nindent 6 }}
  policyTypes: [Ingress]
  ingress: []
{{- end }}
{{- end -}}

{{/* The port the triggerer serves trigger logs on: [logging] trigger_log_server_port, Airflow's 8794 unless set. */}}
{{- define "airflow.triggerLogServerPort" -}}
{{- get (get (.Values.config | default dict) "logging" | default dict) "trigger_log_server_port" | default 8794 | int -}}
{{- end -}}
