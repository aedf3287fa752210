{{/*
Asymmetric JWT signing keys (jwt.keys). Airflow 3.3 signs with the one private key at
`[api_auth] jwt_private_key_path`, puts `[api_auth] jwt_kid` in each token's header, and checks a
token against the public key of that kid in the JWKS file `[api_auth] trusted_jwks_url`.

Who needs what: the scheduler signs the workload token each worker pod starts with, and the
api-server signs the execution tokens it swaps that for and re-issues, and the UI's login tokens;
the api-server alone checks tokens. So those two get the signing key, the api-server the JWKS too;
the dag-processor, triggerer, migrations and worker pods get no key and no JWT secret at all.

The api-server reads the JWKS file once per process and never again, so a new key reaches it only
through new pods: the checksum below rolls both when the Secret's content changes on `helm upgrade`.
*/}}

{{- define "airflow.jwtKeysEnabled" -}}
{{- if .Values.jwt.keys.secretName }}true{{ end -}}
{{- end -}}

{{/* Where the keyset init container writes, and the Airflow containers read. */}}
{{- define "airflow.jwtKeyFolder" -}}/opt/airflow/jwt{{- end -}}

{{/*
The init container that builds the keyset from the Secret, in the api-server and scheduler pods:
`list $ <component values>`. Every `<kid>.pem` of the Secret goes into jwks.json as a public key, the
signing key (its kid in AIRFLOW__API_AUTH__JWT_KID, the variable Airflow reads) into signing.pem;
a wrong key ends it with one line naming the key and the fix (files/scripts/jwt_keyset.py). It needs
no database, so it runs first, while the migrations do. Only it mounts the Secret (every private
key); the Airflow container gets the signing key alone.
*/}}
{{- define "airflow.jwtKeysetInitContainer" -}}
{{- $root := index . 0 -}}
{{- $values := include "airflow.componentValues" . | fromJson -}}
{{- if include "airflow.jwtKeysEnabled" $root }}
- name: jwt-keyset
  image: {{ include "airflow.image" $root.Values.images.airflow }}
  imagePullPolicy: {{ $root.Values.images.airflow.pullPolicy }}
  args:
    {{- include "airflow.scriptCommand" $root | nindent 4 }}
    - jwt-keyset
    - --keys-secret
    - {{ $root.Values.jwt.keys.secretName | quote }}
    - /opt/airflow/jwt-keys
    - {{ include "airflow.jwtKeyFolder" $root }}
  env:
    # The image's entrypoint would first wait for a database this container has no URL for.
    - name: CONNECTION_CHECK_MAX_COUNT
      value: "0"
    - name: AIRFLOW__API_AUTH__JWT_KID
      value: {{ $root.Values.jwt.keys.signingKey | quote }}
  # A wrong key ends it with one line, which `kubectl describe pod` shows too.
  terminationMessagePolicy: FallbackToLogsOnError
  volumeMounts:
    - name: jwt-keys
      mountPath: /opt/airflow/jwt-keys
      readOnly: true
    - name: jwt
      mountPath: {{ include "airflow.jwtKeyFolder" $root }}
    {{- include "airflow.scriptsVolumeMounts" $root | nindent 4 }}
  securityContext:
    {{- include "airflow.containerSecurityContext" . | nindent 4 }}
  resources:
    {{- toYaml $values.resources | nindent 4 }}
{{- end }}
{{- end -}}

{{/*
Env of the Airflow container that signs (`list $ false`: the scheduler) or also checks tokens
(`list $ true`: the api-server). Set here, not in airflow.cfg: the other components and the worker
pods, which read the same airflow.cfg, have no such files and must not look for them.
*/}}
{{- define "airflow.jwtKeyEnv" -}}
{{- $root := index . 0 -}}
{{- if include "airflow.jwtKeysEnabled" $root }}
- name: AIRFLOW__API_AUTH__JWT_PRIVATE_KEY_PATH
  value: {{ include "airflow.jwtKeyFolder" $root }}/signing.pem
- name: AIRFLOW__API_AUTH__JWT_KID
  value: {{ $root.Values.jwt.keys.signingKey | quote }}
{{- if index . 1 }}
- name: AIRFLOW__API_AUTH__TRUSTED_JWKS_URL
  value: {{ include "airflow.jwtKeyFolder" $root }}/jwks.json
{{- end }}
{{- end }}
{{- end -}}

{{- define "airflow.jwtKeyVolumeMount" -}}
{{- if include "airflow.jwtKeysEnabled" . }}
- name: jwt
  mountPath: {{ include "airflow.jwtKeyFolder" . }}
  readOnly: true
{{- end }}
{{- end -}}

{{/* The Secret (for the init container only) and the in-memory folder it writes: the private key stays off the node's disk. */}}
{{- define "airflow.jwtKeyVolumes" -}}
{{- if include "airflow.jwtKeysEnabled" . }}
- name: jwt-keys
  secret:
    secretName: {{ .Values.jwt.keys.secretName }}
    defaultMode: 0440
- name: jwt
  emptyDir:
    medium: Memory
    sizeLimit: 1Mi
{{- end }}
{{- end -}}

{{/*
Rolls the api-server and the scheduler when the Secret's keys change on `helm upgrade` (its live
data, read with lookup; `helm template` sees none). A new signingKey changes their env, which rolls
them too.
*/}}
{{- define "airflow.jwtKeysChecksumAnnotation" -}}
{{- if include "airflow.jwtKeysEnabled" . }}
checksum/jwt-keys: {{ include "airflow.secretChecksum" (list . .Values.jwt.keys.secretName "" "" false) }}
{{- end }}
{{- end -}}
