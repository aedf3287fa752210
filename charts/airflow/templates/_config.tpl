{{/*
airflow.cfg: what the chart derives (executor, execution API URL, DAGs folder, auth manager, logs,
metrics), overlaid by the user's `config`.
*/}}

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
    "pod_template_file" (printf "%s/pod_template_file.yaml" (include "airflow.podTemplateFolder" .)))
  "scheduler" (dict "enable_health_check" "True")
-}}
{{- with .Values.apiServer.ingress }}
{{- if and .enabled .host }}
{{- /* Links the UI builds must use the name users reach it by. */ -}}
{{- $_ := set $chart "api" (dict "base_url" (printf "%s://%s%s" (ternary "https" "http" (not (empty .tlsSecretName))) .host (trimSuffix "/" .path))) }}
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
{{- include "airflow.fabAuthConfig" (list . $chart) -}}
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
