{{/*
DAGs from git: the git-sync container and its checks, and Airflow's GitDagBundle (its
connection, git settings and the Secrets it mounts).
*/}}

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
