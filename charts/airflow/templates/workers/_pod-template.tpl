{{/*
The worker pod template: the KubernetesExecutor starts every task from this pod, in the release
namespace, filling in the `base` container's command. The scheduler mounts it (see
pod-template-configmap.yaml) and hashes it into a checksum so a change rolls the scheduler.

Workers talk to the api-server's execution API with the per-task token the scheduler gives them,
so unlike the server components they get no database URL, fernet key or JWT secret: code in a
task cannot read the metadata database or forge tokens.
*/}}
{{- define "airflow.workerPodTemplate" -}}
{{- $values := .Values.workers -}}
apiVersion: v1
kind: Pod
metadata:
  name: placeholder-name
  labels:
    {{- include "airflow.podLabels" (list . "worker") | nindent 4 }}
  {{- with include "airflow.podAnnotations" (list . "worker") | trim }}
  annotations:
    {{- nindent 4 . }}
  {{- end }}
spec:
  serviceAccountName: {{ include "airflow.serviceAccountName" (list . "worker") }}
  # Tasks running KubernetesPodOperator call the Kubernetes API with this token: mounted where the
  # chart grants it somewhere to launch (or leaves RBAC to you), else DAG code holds no token at all.
  automountServiceAccountToken: {{ or (not .Values.rbac.create) (not (empty (include "airflow.podLaunchNamespaces" . | fromJsonArray))) }}
  restartPolicy: Never
  {{- include "airflow.podSpecCommon" (list . "worker") | trim | nindent 2 }}
  {{- $extraInit := include "airflow.componentExtras" (list . "worker" "extraInitContainers") | trim }}
  {{- if or .Values.dags.gitSync.enabled $extraInit }}
  initContainers:
    {{- if .Values.dags.gitSync.enabled }}
    {{- include "airflow.gitSyncContainer" (list . true "worker") | nindent 4 }}
    {{- end }}
    {{- with $extraInit }}{{ nindent 4 . }}{{- end }}
  {{- end }}
  containers:
    # The executor requires this name. No probes: a task runs to completion and a liveness
    # probe would kill long, quiet tasks.
    - name: base
      image: {{ include "airflow.image" .Values.images.airflow }}
      imagePullPolicy: {{ .Values.images.airflow.pullPolicy }}
      env:
        # The image's entrypoint would wait for a database the worker has no URL for.
        - name: CONNECTION_CHECK_MAX_COUNT
          value: "0"
        {{- include "airflow.userEnv" . | nindent 8 }}
        {{- $extra := dict }}
        {{- with $values.podOperator.xcomSidecarResources }}{{ $_ := set $extra "xcom_sidecar_container_resources" (toJson .) }}{{ end }}
        {{- with $values.podOperator.xcomSidecarImage }}{{ $_ := set $extra "xcom_sidecar_container_image" . }}{{ end }}
        {{- with include "airflow.podLaunchNamespaces" . | fromJsonArray }}{{ $_ := set $extra "namespace" (first .) }}{{ end }}
        {{- if $extra }}
        # KubernetesPodOperator takes its XCom sidecar's image and resources only from the
        # `kubernetes_default` connection, and from it the namespace of a task that names none: the
        # first of rbac.podLaunchNamespaces, not the worker's own, where workers may launch nothing.
        # in_cluster says outright what the sync hook falls back to: a deferrable task hands these
        # extras to the triggerer, whose async hook would look for ~/.kube/config instead.
        - name: AIRFLOW_CONN_KUBERNETES_DEFAULT
          value: {{ dict "conn_type" "kubernetes" "extra" (merge (dict "in_cluster" true) $extra) | toJson | quote }}
        {{- end }}
        {{- with include "airflow.gitBundleConnectionEnv" . | trim }}{{ nindent 8 . }}{{- end }}
        {{- with include "airflow.gitBundleEnv" . | trim }}{{ nindent 8 . }}{{- end }}
        {{- with $values.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with include "airflow.componentEnvFrom" (list . "worker") | trim }}{{ nindent 6 . }}{{- end }}
      volumeMounts:
        {{- include "airflow.baseVolumeMounts" . | nindent 8 }}
        {{- with include "airflow.dagsVolumeMount" . | trim }}{{ nindent 8 . }}{{- end }}
        {{- with include "airflow.gitBundleVolumeMounts" . | trim }}{{ nindent 8 . }}{{- end }}
        {{- with include "airflow.componentExtras" (list . "worker" "extraVolumeMounts") | trim }}{{ nindent 8 . }}{{- end }}
      securityContext:
        {{- include "airflow.containerSecurityContext" (list . "worker") | nindent 8 }}
      resources:
        {{- toYaml $values.resources | nindent 8 }}
    {{- with include "airflow.componentExtras" (list . "worker" "extraContainers") | trim }}{{ nindent 4 . }}{{- end }}
  volumes:
    {{- include "airflow.baseVolumes" (list . "worker") | nindent 4 }}
    {{- with include "airflow.dagsVolume" (list . "worker") | trim }}{{ nindent 4 . }}{{- end }}
    {{- with include "airflow.gitBundleVolumes" . | trim }}{{ nindent 4 . }}{{- end }}
    {{- with include "airflow.componentExtras" (list . "worker" "extraVolumes") | trim }}{{ nindent 4 . }}{{- end }}
{{- end -}}
