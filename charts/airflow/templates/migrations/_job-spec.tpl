{{- /*
The migrations Job's spec, shared by both ways the Job is created (job.yaml): a hook, or a plain
resource whose name carries this spec's hash.
*/ -}}
{{- define "airflow.migrationsJobSpec" -}}
{{- $values := .Values.migrations -}}
backoffLimit: 6
# Exit code 3 is a configuration error the script below found (a URL Airflow cannot use, a
# certificate or password the database refuses): fail the Job, and the install, at once instead
# of six retries; the pod stays for its one-line log.
podFailurePolicy:
  rules:
    - action: FailJob
      onExitCodes: {containerName: run-migrations, operator: In, values: [3]}
template:
  metadata:
    labels:
      {{- include "airflow.podLabels" (list . "run-migrations") | nindent 6 }}
    annotations:
      {{- include "airflow.checksumAnnotations" . | nindent 6 }}
      {{- with include "airflow.podAnnotations" (list . "run-migrations") | trim }}{{ nindent 6 . }}{{- end }}
  spec:
    restartPolicy: Never  # podFailurePolicy needs it
    serviceAccountName: {{ include "airflow.serviceAccountName" (list . "run-migrations") }}
    automountServiceAccountToken: false
    {{- include "airflow.podSpecCommon" (list . "run-migrations") | trim | nindent 4 }}
    {{- with include "airflow.componentExtras" (list . "run-migrations" "extraInitContainers") | trim }}
    initContainers:
      {{- nindent 6 . }}
    {{- end }}
    containers:
      # `airflow db migrate`, once the database accepts connections: the embedded one may still
      # be starting right after install, so this waits up to 5 minutes. The wait is plain Python
      # in the same container (no Airflow import, no second container to start) and the image's
      # entrypoint check is off (CONNECTION_CHECK_MAX_COUNT), so the migrations start within a
      # second of the database being up. With an external database it then connects once, so a
      # refused certificate or password ends the Job in one line (exit 3). Then it becomes
      # `airflow db migrate` (files/scripts/pod_commands.py, `migrate`).
      - name: run-migrations
        image: {{ include "airflow.image" .Values.images.airflow }}
        imagePullPolicy: {{ .Values.images.airflow.pullPolicy }}
        args:
          {{- include "airflow.scriptCommand" . | nindent 10 }}
          - migrate
          - --timeout
          - "300"
          - --metadata-secret
          - {{ include "airflow.metadataSecretName" . | quote }}
          {{- if not .Values.postgresql.enabled }}
          - --check-connection
          {{- end }}
        # The last lines of the log become the pod's termination message (`kubectl describe`).
        terminationMessagePolicy: FallbackToLogsOnError
        env:
          {{- include "airflow.serverEnv" . | nindent 10 }}
          {{- with include "airflow.componentEnv" (list . "run-migrations") | trim }}{{ nindent 10 . }}{{- end }}
        {{- with include "airflow.componentEnvFrom" (list . "run-migrations") | trim }}{{ nindent 8 . }}{{- end }}
        volumeMounts:
          {{- include "airflow.serverVolumeMounts" . | nindent 10 }}
          {{- include "airflow.scriptsVolumeMounts" . | nindent 10 }}
          {{- with include "airflow.fabOidcMounts" (list . false) | trim }}{{ nindent 10 . }}{{- end }}
          {{- with include "airflow.componentExtras" (list . "run-migrations" "extraVolumeMounts") | trim }}{{ nindent 10 . }}{{- end }}
        securityContext:
          {{- include "airflow.containerSecurityContext" (list . "run-migrations") | nindent 10 }}
        resources:
          {{- toYaml $values.resources | nindent 10 }}
      {{- with include "airflow.componentExtras" (list . "run-migrations" "extraContainers") | trim }}{{ nindent 6 . }}{{- end }}
    volumes:
      {{- include "airflow.serverVolumes" (list . "run-migrations") | nindent 6 }}
      {{- with include "airflow.componentExtras" (list . "run-migrations" "extraVolumes") | trim }}{{ nindent 6 . }}{{- end }}
{{- end -}}
