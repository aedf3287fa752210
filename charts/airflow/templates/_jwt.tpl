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
The keyset script: `python -c <script> <Secret folder> <output folder>`, the signing kid in
AIRFLOW__API_AUTH__JWT_KID (the same variable Airflow reads). Every `<kid>.pem` of the Secret goes
into jwks.json as a public key; the signing key is written to signing.pem, readable by its owner
only. pyjwt and cryptography alone: importing Airflow would cost seconds of CPU per pod start.
Anything wrong ends it with one line naming the key and the fix.
*/}}
{{- define "airflow.jwtKeysetScript" -}}
import json, os, sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from jwt.algorithms import OKPAlgorithm, RSAAlgorithm

source, target = sys.argv[1], sys.argv[2]
signing = os.environ["AIRFLOW__API_AUTH__JWT_KID"]
secret = {{ .Values.jwt.keys.secretName | quote }}


def fail(message):
    sys.exit(f"jwt.keys: {message}")


keys, jwks = {}, []
# A Secret volume also holds its own bookkeeping entries, named `..<something>`.
for name in sorted(n for n in os.listdir(source) if not n.startswith("..")):
    kid = name[: -len(".pem")]
    if not name.endswith(".pem") or not kid:
        fail(f"Secret {secret} holds {name!r}: name each key <kid>.pem (e.g. 2026-12.pem), and keep only keys in it")
    with open(os.path.join(source, name), "rb") as pem:
        data = pem.read()
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (TypeError, ValueError) as error:
        fail(f"{name} in Secret {secret} is not an unencrypted PEM private key ({error}); make one with `openssl genpkey -algorithm ed25519`")
    if isinstance(key, ed25519.Ed25519PrivateKey):
        public, algorithm = OKPAlgorithm.to_jwk(key.public_key(), as_dict=True), "EdDSA"
    elif isinstance(key, rsa.RSAPrivateKey) and key.key_size >= 2048:
        public, algorithm = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True), "RS256"
    elif isinstance(key, rsa.RSAPrivateKey):
        fail(f"{name} in Secret {secret} is a {key.key_size}-bit RSA key: use 2048 bits or more, or an Ed25519 key")
    else:
        fail(f"{name} in Secret {secret} is neither RSA nor Ed25519 ({type(key).__name__}): Airflow signs with those only")
    keys[kid] = key
    jwks.append({**public, "kid": kid, "alg": algorithm, "use": "sig"})
if signing not in keys:
    fail(f"jwt.keys.signingKey is {signing!r} but Secret {secret} holds no {signing}.pem (it holds: {', '.join(f'{k}.pem' for k in keys) or 'nothing'}); add it, or name one of those")


def write(name, content, mode):
    """Replace `name` in the output folder whole, created with `mode` (a restarted pod finds the old one)."""
    path = os.path.join(target, name)
    partial = f"{path}.partial"
    if os.path.lexists(partial):
        os.unlink(partial)
    with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), "wb") as out:
        out.write(content)
    os.replace(partial, path)


write("jwks.json", json.dumps({"keys": jwks}, indent=2).encode(), 0o444)
write("signing.pem", keys[signing].private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()), 0o400)
print(f"JWKS of Secret {secret}: {', '.join(j['kid'] + ' (' + j['alg'] + ')' for j in jwks)}; signing with {signing}", flush=True)
{{- end -}}

{{/*
The init container that builds the keyset from the Secret, in the api-server and scheduler pods:
`list $ <component values>`. It needs no database, so it runs first, while the migrations do. Only
it mounts the Secret (every private key); the Airflow container gets the signing key alone.
*/}}
{{- define "airflow.jwtKeysetInitContainer" -}}
{{- $root := index . 0 -}}
{{- $values := index . 1 -}}
{{- if include "airflow.jwtKeysEnabled" $root }}
- name: jwt-keyset
  image: {{ include "airflow.image" $root.Values.images.airflow }}
  imagePullPolicy: {{ $root.Values.images.airflow.pullPolicy }}
  args:
    - python
    - -c
    - |
      {{- include "airflow.jwtKeysetScript" $root | nindent 6 }}
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
  securityContext:
    {{- include "airflow.containerSecurityContext" $root | nindent 4 }}
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
