{{/*
Sign-in (auth.manager). `simple`: Airflow's SimpleAuthManager (templates/_config.tpl sets it up).
`fab`: the FAB auth manager; with auth.fab.oidc.issuer set, people sign in through that OpenID
Connect provider and automation exchanges the provider's access tokens at /auth/token
(files/fab_oidc.py, mounted as a module into $AIRFLOW_HOME/config, which Airflow puts on sys.path;
docs/decisions/0017-sign-in-through-an-identity-provider.md). Without an issuer, `fab` takes the user's own
webserver_config.py (apiServer.apiServerConfig). `custom`: config.core.auth_manager is the user's.
FAB keeps its users and roles in the metadata database: `airflow db migrate` (the migrations Job)
migrates FAB's tables too, as it does for whichever auth manager is configured.
*/}}

{{- define "airflow.fabOidcModule" -}}airflow_on_k8s_fab_oidc{{- end -}}
{{- define "airflow.fabOidcCaPath" -}}/opt/airflow/oidc-ca{{- end -}}

{{/* "true" when people sign in through an OpenID Connect provider. */}}
{{- define "airflow.fabOidc" -}}
{{- if and (eq .Values.auth.manager "fab") .Values.auth.fab.oidc.issuer }}true{{ end -}}
{{- end -}}

{{/* `[core] auth_manager` for `fab` (the `simple` keys are set in _config.tpl). */}}
{{- define "airflow.fabAuthConfig" -}}
{{- $root := index . 0 -}}
{{- $chart := index . 1 -}}
{{- if eq $root.Values.auth.manager "fab" -}}
{{- $class := "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager" -}}
{{- if include "airflow.fabOidc" $root -}}
{{- $class = printf "%s.OidcFabAuthManager" (include "airflow.fabOidcModule" $root) -}}
{{- end -}}
{{- $_ := set $chart.core "auth_manager" $class -}}
{{- end -}}
{{- end -}}

{{/* The settings files/fab_oidc.py reads (JSON, no secret in it). */}}
{{- define "airflow.fabOidcSettings" -}}
{{- with .Values.auth.fab.oidc -}}
{{- $settings := dict "issuer" .issuer "providerName" .providerName "clientId" .clientId "scopes" .scopes
  "usernameClaim" .usernameClaim "groupsClaim" .groupsClaim "roleMapping" (.roleMapping | default dict)
  "defaultRole" .defaultRole "tokenAudiences" (.tokenAudiences | default list) -}}
{{- if .caBundle.configMapName -}}
{{- $_ := set $settings "caBundle" (printf "%s/ca.crt" (include "airflow.fabOidcCaPath" $)) -}}
{{- end -}}
{{- toJson $settings -}}
{{- end -}}
{{- end -}}

{{/* The api-server's env: the settings, and the client secret from the user's Secret (only here). */}}
{{- define "airflow.fabOidcEnv" -}}
{{- if include "airflow.fabOidc" . }}
- name: AIRFLOW_ON_K8S_OIDC
  value: {{ include "airflow.fabOidcSettings" . | quote }}
- name: AIRFLOW_ON_K8S_OIDC_CLIENT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ .Values.auth.fab.oidc.clientSecret.secretName }}
      key: {{ .Values.auth.fab.oidc.clientSecret.key }}
{{- end }}
{{- end -}}

{{/*
Mounts of the module (`list $ <with the api-server's files>`): the migrations Job imports the auth
manager to migrate its tables; the api-server also reads webserver_config.py and the issuer's CA.
*/}}
{{- define "airflow.fabOidcMounts" -}}
{{- $root := index . 0 -}}
{{- if include "airflow.fabOidc" $root }}
- name: config
  mountPath: /opt/airflow/config/{{ include "airflow.fabOidcModule" $root }}.py
  subPath: fab_oidc.py
  readOnly: true
{{- if index . 1 }}
- name: config
  mountPath: /opt/airflow/webserver_config.py
  subPath: webserver_config.py
  readOnly: true
{{- if $root.Values.auth.fab.oidc.caBundle.configMapName }}
- name: oidc-ca
  mountPath: {{ include "airflow.fabOidcCaPath" $root }}
  readOnly: true
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "airflow.fabOidcVolumes" -}}
{{- if include "airflow.fabOidc" . }}
{{- with .Values.auth.fab.oidc.caBundle }}
{{- if .configMapName }}
- name: oidc-ca
  configMap:
    name: {{ .configMapName }}
    items:
      - {key: {{ .key }}, path: ca.crt}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* The api-server's pod annotation: a new client secret, module or setting rolls it. */}}
{{- define "airflow.fabOidcChecksum" -}}
{{- if include "airflow.fabOidc" . }}
checksum/fab-oidc: {{ list (include "airflow.fabOidcSettings" .) (.Files.Get "files/fab_oidc.py") (include "airflow.secretChecksum" (list . .Values.auth.fab.oidc.clientSecret.secretName "" "" false)) | toJson | sha256sum }}
{{- end }}
{{- end -}}

{{/* Wrong auth values: one line saying what is wrong and how to fix it. */}}
{{- define "airflow.checkAuth" -}}
{{- $manager := .Values.auth.manager -}}
{{- if not (has $manager (list "simple" "fab" "custom")) }}
{{- fail (printf "auth.manager must be simple, fab or custom, not %q" $manager) }}
{{- end }}
{{- $own := or .Values.apiServer.apiServerConfig .Values.apiServer.apiServerConfigConfigMapName }}
{{- with .Values.auth.fab.oidc }}
{{- if and (eq $manager "fab") (not .issuer) (not $own) }}
{{- fail "auth.manager is fab but nobody could sign in: set auth.fab.oidc.issuer (sign-in through your identity provider) or give your own webserver_config.py in apiServer.apiServerConfig" }}
{{- end }}
{{- if and .issuer (ne $manager "fab") }}
{{- fail (printf "auth.fab.oidc.issuer is set but auth.manager is %s: set auth.manager: fab to sign in through the identity provider, or empty the issuer" $manager) }}
{{- end }}
{{- if include "airflow.fabOidc" $ }}
{{- if $own }}
{{- fail "auth.fab.oidc and apiServer.apiServerConfig (or apiServerConfigConfigMapName) both give webserver_config.py: use one (empty the issuer to keep your own file)" }}
{{- end }}
{{- if not (regexMatch "^https?://[^/?#]+(/[^?#]*)?$" .issuer) }}
{{- fail (printf "auth.fab.oidc.issuer must be the issuer's URL (https://HOST/PATH, as its tokens' iss claim says), not %q" .issuer) }}
{{- end }}
{{- if and (hasPrefix "http://" .issuer) (not .allowInsecureIssuer) }}
{{- fail (printf "auth.fab.oidc.issuer %s is not https: tokens and the client secret would cross the network in clear. Use https (caBundle for a private CA), or set auth.fab.oidc.allowInsecureIssuer: true for a test setup" .issuer) }}
{{- end }}
{{- if not .clientId }}
{{- fail "auth.fab.oidc.clientId is empty: set the client id your identity provider gave Airflow" }}
{{- end }}
{{- if not .clientSecret.secretName }}
{{- fail "auth.fab.oidc.clientSecret.secretName is empty: create a Secret with the client secret (kubectl create secret generic airflow-oidc --from-literal=client-secret=...) and name it here" }}
{{- end }}
{{- if not (regexMatch "^[A-Za-z0-9_-]+$" (.providerName | default "")) }}
{{- fail (printf "auth.fab.oidc.providerName must be letters, digits, - and _ (it is part of the callback URL /auth/oauth-authorized/NAME), not %q" (.providerName | default "")) }}
{{- end }}
{{- if not (has "openid" .scopes) }}
{{- fail "auth.fab.oidc.scopes must include openid: the user is read from the ID token" }}
{{- end }}
{{- $roles := list "Admin" "Op" "User" "Viewer" "Public" }}
{{- range $group, $mapped := .roleMapping }}
{{- range $role := $mapped }}
{{- if not (has $role $roles) }}
{{- fail (printf "auth.fab.oidc.roleMapping.%s maps to %q, which is not a FAB role: use Admin, Op, User, Viewer or Public" $group $role) }}
{{- end }}
{{- end }}
{{- end }}
{{- if and .defaultRole (not (has .defaultRole $roles)) }}
{{- fail (printf "auth.fab.oidc.defaultRole %q is not a FAB role: use Admin, Op, User, Viewer, Public or empty (users in no mapped group are refused)" .defaultRole) }}
{{- end }}
{{- if and (not .roleMapping) (not .defaultRole) }}
{{- fail "auth.fab.oidc: neither roleMapping nor defaultRole is set, so nobody who signs in would get a role: map your groups to roles in roleMapping" }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}
