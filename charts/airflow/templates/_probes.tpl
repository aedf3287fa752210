{{/*
Liveness of the triggerer and the dag-processor: `list $ <job type> <section> <threshold key>`.

The exec command of the probe: files/scripts/job_liveness.py answers what `airflow jobs check
--job-type <type> --local` answers (the one job of that type on this pod's host heartbeats within
`[<section>] <threshold key>`) without starting the Airflow CLI, and hands over to that command when
something is out of its reach. Exit 0 alive, 1 not, with one line why.
*/}}
{{- define "airflow.jobLivenessCommand" -}}
{{- $root := index . 0 -}}
{{ include "airflow.scriptCommand" $root }}
- job-alive
- --job-type
- {{ index . 1 | quote }}
- --threshold-section
- {{ index . 2 | quote }}
- --threshold-key
- {{ index . 3 | quote }}
{{- end -}}
