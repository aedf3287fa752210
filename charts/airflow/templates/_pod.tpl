{{/*
The parts every pod of the chart shares, built in this one place: labels and annotations, scheduling,
security contexts, extra volumes, containers and env. Every pod-making template (the four
components, the migration Job, the worker pod template, PostgreSQL, the statsd-exporter, the
cleanup CronJob and the `helm test` pod) calls these with `list $ "<component>"`, so a global value reaches every pod and a
component's own value reaches only its pods. tests/chart/test_pod_settings.py checks each pod.

Rules, as the official chart has them: a component's scheduling value (nodeSelector, affinity,
tolerations, topologySpreadConstraints, priorityClassName) replaces the global one when set; labels,
annotations and env add to the global ones. Security contexts are merged key by key, the component's
over the global, and a key set to null is left out (platforms that assign the user, e.g. OpenShift).
*/}}

{{/*
Where each component's values are, as JSON: component name -> its key in values.yaml (the statsd-exporter's
is nested under metrics). The same keys name its ServiceAccount under serviceAccounts.
*/}}
{{- define "airflow.componentKeys" -}}
{{- dict "scheduler" "scheduler" "api-server" "apiServer" "dag-processor" "dagProcessor" "triggerer" "triggerer"
  "worker" "workers" "run-migrations" "migrations" "postgresql" "postgresql" "cleanup" "cleanup"
  "statsd" "metrics.statsdExporter" | toJson -}}
{{- end -}}

{{/* The values of a component, as JSON: `list $ "<component>"`; {} for the `helm test` pod. */}}
{{- define "airflow.componentValues" -}}
{{- $root := index . 0 -}}
{{- $key := get (include "airflow.componentKeys" $root | fromJson) (index . 1) -}}
{{- if not $key -}}
{}
{{- else -}}
{{- $values := $root.Values -}}
{{- range splitList "." $key }}{{ $values = get $values . }}{{ end -}}
{{- toJson $values -}}
{{- end -}}
{{- end -}}

{{/* Whether a component's pods run Airflow's image (and take the global securityContexts.pod). */}}
{{- define "airflow.isAirflowPod" -}}
{{- if not (has (index . 1) (list "postgresql" "statsd")) }}true{{ end -}}
{{- end -}}

{{/* `list <base map> <override map>` as JSON: the override's keys over the base's; a null one removes the key. */}}
{{- define "airflow.mergeKeys" -}}
{{- $out := deepCopy (index . 0 | default dict) -}}
{{- range $key, $value := index . 1 | default dict -}}
{{- if kindIs "invalid" $value -}}
{{- $_ := unset $out $key -}}
{{- else -}}
{{- $_ := set $out $key $value -}}
{{- end -}}
{{- end -}}
{{- range $key, $value := $out -}}
{{- if kindIs "invalid" $value }}{{ $_ := unset $out $key }}{{ end -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/* Labels of a component's pods: the chart's, the global `labels`, the component's `labels`. */}}
{{- define "airflow.podLabels" -}}
{{- $values := include "airflow.componentValues" . | fromJson -}}
{{ include "airflow.labels" . }}
{{- with $values.labels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* User annotations of a component's pods (the global ones, then the component's), after the chart's checksums. */}}
{{- define "airflow.podAnnotations" -}}
{{- $root := index . 0 -}}
{{- $values := include "airflow.componentValues" . | fromJson -}}
{{- $annotations := merge (deepCopy ($values.podAnnotations | default dict)) ($root.Values.podAnnotations | default dict) -}}
{{- with $annotations }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
The pod-level fields every pod spec starts with: security context, image pull secrets and
scheduling. Placed at the indentation of `spec:`'s keys.
*/}}
{{- define "airflow.podSpecCommon" -}}
{{- $root := index . 0 -}}
{{- $values := include "airflow.componentValues" . | fromJson -}}
{{- $contexts := $values.securityContexts | default dict -}}
{{- $base := dict -}}
{{- if include "airflow.isAirflowPod" . -}}
{{- $base = $root.Values.securityContexts.pod -}}
{{- end -}}
{{- with include "airflow.mergeKeys" (list $base $contexts.pod) | fromJson }}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
{{- range $key := list "nodeSelector" "affinity" "tolerations" "topologySpreadConstraints" }}
{{- with get $values $key | default (get $root.Values $key) }}
{{ $key }}:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
{{- with $values.priorityClassName | default $root.Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- end -}}

{{/* Security context of every container of a component's pods: the global securityContexts.containers, then the component's. */}}
{{- define "airflow.containerSecurityContext" -}}
{{- $root := index . 0 -}}
{{- $values := include "airflow.componentValues" . | fromJson -}}
{{- toYaml (include "airflow.mergeKeys" (list $root.Values.securityContexts.containers ($values.securityContexts | default dict).container) | fromJson) -}}
{{- end -}}

{{/* The component's own env (extraEnv), after the chart's and the global extraEnv: list items, or nothing. */}}
{{- define "airflow.componentEnv" -}}
{{- $values := include "airflow.componentValues" . | fromJson -}}
{{- with $values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* `envFrom:` of a component's main container: the global sources (Airflow's containers only), then its own. */}}
{{- define "airflow.componentEnvFrom" -}}
{{- $root := index . 0 -}}
{{- $values := include "airflow.componentValues" . | fromJson -}}
{{- $sources := list -}}
{{- if and (include "airflow.isAirflowPod" .) (ne (index . 1) "worker") -}}
{{- $sources = concat $sources ($root.Values.extraEnvFrom | default list) -}}
{{- end -}}
{{- $sources = concat $sources ($values.extraEnvFrom | default list) -}}
{{- with $sources }}
envFrom:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/*
A component's extra volumes, volume mounts, containers or init containers, templated: `list $
"<component>" "<key>"`; list items or nothing. Extra containers start from the component's container
security context, their own keys over it, so a sidecar meets the restricted standard unless it says otherwise.
*/}}
{{- define "airflow.componentExtras" -}}
{{- $root := index . 0 -}}
{{- $key := index . 2 -}}
{{- $values := include "airflow.componentValues" (list $root (index . 1)) | fromJson -}}
{{- with get $values $key }}
{{- $items := tpl (toYaml .) $root | fromYamlArray -}}
{{- if has $key (list "extraContainers" "extraInitContainers") }}
{{- $context := include "airflow.containerSecurityContext" (list $root (index $ 1)) | fromYaml -}}
{{- range $items }}
{{- $_ := set . "securityContext" (include "airflow.mergeKeys" (list $context .securityContext) | fromJson) -}}
{{- end }}
{{- end }}
{{ toYaml $items }}
{{- end }}
{{- end -}}

{{/*
Checks of the pod values the schema cannot express: labels and annotations that would collide with
the chart's own keys, and extra containers or volumes whose names the chart already uses.
*/}}
{{- define "airflow.checkPodSettings" -}}
{{- $root := . -}}
{{- $chartLabel := "^(app\\.kubernetes\\.io/|helm\\.sh/chart$)" -}}
{{- $places := list (list "" .Values) -}}
{{- range $component, $path := include "airflow.componentKeys" $root | fromJson }}
{{- $places = append $places (list (printf "%s." $path) (include "airflow.componentValues" (list $root $component) | fromJson)) }}
{{- end }}
{{- if and .Values.apiServer.apiServerConfig .Values.apiServer.apiServerConfigConfigMapName }}
{{- fail "apiServer.apiServerConfig and apiServer.apiServerConfigConfigMapName are both set: give webserver_config.py in one place" }}
{{- end }}
{{- with .Values.apiServer.service.loadBalancerSourceRanges }}
{{- if ne $root.Values.apiServer.service.type "LoadBalancer" }}
{{- fail (printf "apiServer.service.loadBalancerSourceRanges is set but apiServer.service.type is %s: the ranges only restrict a LoadBalancer Service; set the type to LoadBalancer or remove the ranges" $root.Values.apiServer.service.type) }}
{{- end }}
{{- end }}
{{- range $place := $places }}
{{- $at := index $place 0 -}}
{{- $values := index $place 1 -}}
{{- range $key, $_ := $values.labels | default dict }}
{{- if regexMatch $chartLabel $key }}
{{- fail (printf "%slabels.%s is a label the chart sets itself (its selectors use them): use a key of your own domain, e.g. example.com/team" $at $key) }}
{{- end }}
{{- end }}
{{- range $key, $_ := $values.podAnnotations | default dict }}
{{- if hasPrefix "checksum/" $key }}
{{- fail (printf "%spodAnnotations.%s: checksum/* annotations are the chart's (they roll pods when their config changes); use a key of your own domain" $at $key) }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}
