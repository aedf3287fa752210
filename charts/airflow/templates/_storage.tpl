{{/*
Local disk. Every emptyDir the chart makes has a sizeLimit, and every container an ephemeral-storage
request and limit, so one chatty task or component is evicted on its own before it fills the node's
disk and gets its neighbours evicted too.

The kubelet evicts a pod when one of its emptyDirs outgrows its sizeLimit, when a container's own
writes (its log, a writable root filesystem: none here) outgrow its limit, and when the whole pod's
usage, emptyDirs included, outgrows the sum of its containers' limits. So a component's
ephemeral-storage limit must be at least the sum of its pod's emptyDirs, or the pod would be
evicted before its volumes are full: airflow.checkEphemeralStorage refuses values where it is not.
The main container's limit alone covers its whole pod (its read-only mounts too), so the pod stays
covered whatever its other containers set: a sidecar of yours without a limit adds none.
The JWT key folder is memory-backed: it counts against memory, not here.
*/}}

{{/*
The disk-backed emptyDirs of a component's pods, name -> sizeLimit, as JSON: `list $ "<component>"`.
The volumes take their sizeLimit from here, and the check below adds them up. The PostgreSQL socket
folder and the api-server's copy of the passwords file hold a few bytes: their size is the chart's.
*/}}
{{- define "airflow.emptyDirSizes" -}}
{{- $root := index . 0 -}}
{{- $component := index . 1 -}}
{{- $sizes := dict -}}
{{- $limits := (include "airflow.componentValues" . | fromJson).emptyDirSizeLimits | default dict -}}
{{- if eq $component "postgresql" -}}
{{- $_ := set $sizes "run" "16Mi" -}}
{{- $_ := set $sizes "tmp" $limits.tmp -}}
{{- if not $root.Values.postgresql.persistence.enabled }}{{ $_ := set $sizes "data" $limits.data }}{{ end -}}
{{- else if has $component (list "scheduler" "api-server" "dag-processor" "triggerer" "worker" "run-migrations") -}}
{{- if not $root.Values.logs.persistence.enabled }}{{ $_ := set $sizes "logs" $limits.logs }}{{ end -}}
{{- $_ := set $sizes "tmp" $limits.tmp -}}
{{- if and $root.Values.dags.gitSync.enabled (has $component (list "dag-processor" "triggerer" "worker")) -}}
{{- $_ := set $sizes "dags" $root.Values.dags.gitSync.emptyDirSizeLimit -}}
{{- end -}}
{{- if and (eq $component "api-server") (eq $root.Values.auth.manager "simple") }}{{ $_ := set $sizes "simple-auth" "1Mi" }}{{ end -}}
{{- if and (eq $component "scheduler") $root.Values.workers.deleteWithRelease }}{{ $_ := set $sizes "pod-template" "1Mi" }}{{ end -}}
{{- else if eq $component "cleanup" -}}
{{- /* Its own logs folder, never the shared claim. */ -}}
{{- $_ := set $sizes "logs" $limits.logs -}}
{{- $_ := set $sizes "tmp" $limits.tmp -}}
{{- end -}}
{{- toJson $sizes -}}
{{- end -}}

{{/* An emptyDir volume source of a component's pods: `list $ "<component>" "<volume name>"`, at the indentation of `emptyDir:`. */}}
{{- define "airflow.emptyDir" -}}
{{- $sizes := include "airflow.emptyDirSizes" (list (index . 0) (index . 1)) | fromJson -}}
emptyDir:
  sizeLimit: {{ get $sizes (index . 2) | toYaml }}
{{- end -}}

{{/* A quantity (512Mi, 2Gi, 1G, a plain number of bytes) as a number of bytes. */}}
{{- define "airflow.quantityBytes" -}}
{{- if kindIs "string" . -}}
{{- $number := regexFind "^[0-9]+(\\.[0-9]+)?" . -}}
{{- $factors := dict "" 1.0 "m" 0.001 "k" 1e3 "M" 1e6 "G" 1e9 "T" 1e12 "P" 1e15 "E" 1e18
  "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "Ti" 1099511627776.0 "Pi" 1125899906842624.0 "Ei" 1152921504606846976.0 -}}
{{- mulf (float64 $number) (get $factors (trimPrefix $number .)) -}}
{{- else -}}
{{- float64 . -}}
{{- end -}}
{{- end -}}

{{/*
`list <limit> <sizes> <limit's values path> <whose emptyDirs> <where their sizes are set>`: fails
unless the ephemeral-storage limit is at least the sum of the emptyDir sizes, naming the limit, each
volume and what to change.
*/}}
{{- define "airflow.checkEphemeralLimit" -}}
{{- $limit := index . 0 -}}
{{- $sizes := index . 1 -}}
{{- $total := 0.0 -}}
{{- $parts := list -}}
{{- range $name, $size := $sizes -}}
{{- $total = addf $total (include "airflow.quantityBytes" $size | float64) -}}
{{- $parts = append $parts (printf "%s %v" $name $size) -}}
{{- end -}}
{{- if gt $total (include "airflow.quantityBytes" $limit | float64) -}}
{{- fail (printf "%s is %v, less than the emptyDirs of %s (%s), which count against the same ephemeral storage: raise it to at least their sum, or lower %s" (index . 2) $limit (index . 3) (join " + " $parts) (index . 4)) -}}
{{- end -}}
{{- end -}}

{{/* Each component's limit against its pod's emptyDirs, and git-sync's against the checkout and /tmp of every pod it runs in. */}}
{{- define "airflow.checkEphemeralStorage" -}}
{{- $root := . -}}
{{- $paths := dict "scheduler" "scheduler" "api-server" "apiServer" "dag-processor" "dagProcessor" "triggerer" "triggerer"
  "worker" "workers" "run-migrations" "migrations" "postgresql" "postgresql" "cleanup" "cleanup" -}}
{{- $off := dict "postgresql" (not $root.Values.postgresql.enabled) "cleanup" (not $root.Values.cleanup.enabled) -}}
{{- range $component, $path := $paths -}}
{{- if not (get $off $component) -}}
{{- $limit := get (get (get $root.Values $path).resources "limits") "ephemeral-storage" -}}
{{- $sizes := include "airflow.emptyDirSizes" (list $root $component) | fromJson -}}
{{- $where := list (printf "%s.emptyDirSizeLimits" $path) -}}
{{- if hasKey $sizes "dags" }}{{ $where = append $where "dags.gitSync.emptyDirSizeLimit" }}{{ end -}}
{{- include "airflow.checkEphemeralLimit" (list $limit $sizes (printf "%s.resources.limits.ephemeral-storage" $path) (printf "the %s pods" $component) (join " and " $where)) -}}
{{- end -}}
{{- end -}}
{{- $git := $root.Values.dags.gitSync -}}
{{- if $git.enabled -}}
{{- range $component := list "dag-processor" "triggerer" "worker" -}}
{{- $sizes := pick (include "airflow.emptyDirSizes" (list $root $component) | fromJson) "dags" "tmp" -}}
{{- $where := printf "dags.gitSync.emptyDirSizeLimit and %s.emptyDirSizeLimits.tmp" (get $paths $component) -}}
{{- include "airflow.checkEphemeralLimit" (list (get $git.resources.limits "ephemeral-storage") $sizes "dags.gitSync.resources.limits.ephemeral-storage" (printf "git-sync in the %s pods" $component) $where) -}}
{{- end -}}
{{- end -}}
{{- end -}}
