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
{{- $key := get (include "airflow.componentKeys" (index . 0) | fromJson) (index . 1) -}}
{{- toJson (get (index . 0).Values.serviceAccounts $key | default dict) -}}
{{- end -}}

{{/* ServiceAccount name of a component: serviceAccounts.<key>.name, else <release>-<component>. */}}
{{- define "airflow.serviceAccountName" -}}
{{- (include "airflow.serviceAccountValues" . | fromJson).name | default (include "airflow.name" .) -}}
{{- end -}}

{{/* Namespaces whose pods the workers may manage (KubernetesPodOperator): only those listed. The release
namespace only with rbac.unsafeLaunchInReleaseNamespace (check-values.yaml; docs/decisions/0015). */}}
{{- define "airflow.podLaunchNamespaces" -}}
{{- toJson (uniq (.Values.rbac.podLaunchNamespaces | default list)) -}}
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
