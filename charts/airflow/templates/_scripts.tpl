{{/*
The chart's scripts (files/scripts/*.py): the Python its pods run before and beside Airflow (the
database and migration waits, the migration Job's connection check, the job liveness probe, the JWT
keyset). They live in the `<release>-scripts` ConfigMap, an ordinary release object (so it exists
before the post-install/post-upgrade migration Job), mounted read-only at one folder in each
container that runs one: `python <folder>/pod_commands.py <command> --flags`. What each command
does, reads and exits with is in the modules' docstrings.
*/}}

{{- define "airflow.scriptsFolder" -}}/opt/airflow/chart-scripts{{- end -}}

{{- define "airflow.scriptsData" -}}
{{- (.Files.Glob "files/scripts/*.py").AsConfig -}}
{{- end -}}

{{/* The start of a container's args or exec command that runs a command of pod_commands.py. */}}
{{- define "airflow.scriptCommand" -}}
- python
- {{ include "airflow.scriptsFolder" . }}/pod_commands.py
{{- end -}}

{{/* Rolls the pods that run the scripts when one changes: part of airflow.checksumAnnotations. */}}
{{- define "airflow.scriptsChecksum" -}}
checksum/scripts: {{ include "airflow.scriptsData" . | sha256sum }}
{{- end -}}

{{/*
The mounts of a container that runs a script, one file each (the volume is among
airflow.serverVolumes). subPath, like the remote log reader's: a pod keeps the scripts it started
with, which match its args, until checksum/scripts rolls it; a folder mount would change under an
old pod while it waits to be replaced.
*/}}
{{- define "airflow.scriptsVolumeMounts" -}}
{{- $mounts := list -}}
{{- range $path, $_ := .Files.Glob "files/scripts/*.py" -}}
{{- $mounts = append $mounts (dict "name" "scripts" "mountPath" (printf "%s/%s" (include "airflow.scriptsFolder" $) (base $path)) "subPath" (base $path) "readOnly" true) -}}
{{- end -}}
{{- toYaml $mounts -}}
{{- end -}}

{{- define "airflow.scriptsVolume" -}}
- name: scripts
  configMap:
    name: {{ include "airflow.name" (list . "scripts") }}
{{- end -}}
