{{/*
Metrics (metrics.enabled): every Airflow process sends StatsD over UDP to the release's
statsd-exporter, which keeps the counts and serves them to Prometheus. Push, not scrape, because
worker pods live for one task: the task runner sends `ti.start`, `ti.finish` and `task.duration`
the moment they happen, and the exporter still holds them after the pod is gone. Airflow sends its
tags (dag_id, task_id, state, pool...) in InfluxDB style, which the exporter turns into labels;
legacy names, which carry the same values inside the name, are off.
Why StatsD and not OpenTelemetry: docs/decisions/0001-metrics-statsd-exporter.md.
*/}}

{{- define "airflow.statsdName" -}}{{ include "airflow.name" (list . "statsd") }}{{- end -}}

{{/* The exporter's UDP port Airflow sends to, and its HTTP port Prometheus scrapes. */}}
{{- define "airflow.statsdPort" -}}9125{{- end -}}
{{- define "airflow.metricsPort" -}}9102{{- end -}}

{{/* `[metrics]` options the chart sets when metrics are on; the user's `config` still wins. */}}
{{- define "airflow.metricsConfig" -}}
{{- $root := index . 0 -}}
{{- $chart := index . 1 -}}
{{- if $root.Values.metrics.enabled }}
{{- $_ := set $chart "metrics" (dict
  "statsd_on" "True"
  "statsd_host" (printf "%s.%s" (include "airflow.statsdName" $root) $root.Release.Namespace)
  "statsd_port" (include "airflow.statsdPort" $root)
  "statsd_prefix" $root.Values.metrics.prefix
  "statsd_influxdb_enabled" "True"
  "legacy_names_on" "False") }}
{{- end }}
{{- end -}}

{{/* The exporter's mapping file: the user's rules first (the first match wins), then the chart's. */}}
{{- define "airflow.statsdMappings" -}}
{{- $chart := tpl (.Files.Get "files/statsd_mappings.yaml") . | fromYaml -}}
{{- $_ := set $chart "mappings" (concat .Values.metrics.statsdExporter.extraMappings $chart.mappings) -}}
{{- toYaml $chart -}}
{{- end -}}

{{/* Labels that name the release's series once Prometheus has scraped them (a ServiceMonitor sets both; README, Monitoring). */}}
{{- define "airflow.metricsSelector" -}}
{{- printf "namespace=%q, service=%q" .Release.Namespace (include "airflow.statsdName" .) -}}
{{- end -}}

{{/* Cross-field checks of the metrics section (check-values.yaml). */}}
{{- define "airflow.checkMetrics" -}}
{{- $metrics := .Values.metrics -}}
{{- $operator := .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" -}}
{{- range $key, $kind := dict "serviceMonitor" "ServiceMonitor" "prometheusRule" "PrometheusRule" }}
{{- if (get $metrics $key).enabled }}
{{- if not $metrics.enabled }}
{{- fail (printf "metrics.%s.enabled is true but metrics.enabled is false: there is no exporter for the %s to point at; set metrics.enabled=true" $key $kind) }}
{{- end }}
{{- if not $operator }}
{{- fail (printf "metrics.%s.enabled is true but the cluster has no monitoring.coreos.com/v1 API for its %s: install the Prometheus Operator (or its CRDs) first, or turn it off and scrape the metrics Service by its prometheus.io annotations (helm template: pass --api-versions monitoring.coreos.com/v1)" $key $kind) }}
{{- end }}
{{- end }}
{{- end }}
{{- if and $metrics.enabled .Values.networkPolicies.enabled (not .Values.networkPolicies.metricsScrapeFrom) }}
{{- fail "networkPolicies.metricsScrapeFrom is empty while metrics and networkPolicies are on: nothing could scrape the metrics port; name your Prometheus' namespace, e.g. [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}]" }}
{{- end }}
{{- end -}}
