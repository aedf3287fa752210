"""Sign-in through an OpenID Connect provider with Airflow's FAB auth manager (the chart's
`auth.manager: fab` with `auth.fab.oidc`), mounted into the api-server and the migrations Job as the
module `airflow_on_k8s_fab_oidc` in $AIRFLOW_HOME/config, which Airflow puts on sys.path.

The chart passes the settings as JSON in AIRFLOW_ON_K8S_OIDC (no secret in it) and the client secret
in AIRFLOW_ON_K8S_OIDC_CLIENT_SECRET, from the user's Secret, to the api-server alone. Three parts:

- `webserver_config()`: FAB's settings (files/fab_webserver_config.py puts them in its namespace):
  one OAuth provider found through the issuer's discovery document, groups mapped to FAB roles at
  every sign-in, users registered on their first sign-in;
- `OidcSecurityManager`: reads the user from the ID token's claims (and the userinfo endpoint for
  what they lack), by the claim names the values give, so one class serves Keycloak, Okta, Entra ID
  and Google alike; refuses a user whom no group maps to a role (unless a default role is set); says
  "sign-in is unavailable" when the issuer does not answer instead of FAB's "invalid login";
- `OidcFabAuthManager`: POST /auth/token takes an access token of the identity provider (from its
  client-credentials or any other grant), checks it against the issuer's keys, and answers with an
  Airflow token for the user it names, roles mapped as for a browser sign-in: automation without
  a browser and without a password Airflow keeps.
"""

from __future__ import annotations

import json
import logging
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from airflow.providers.fab.auth_manager.fab_auth_manager import FabAuthManager
from airflow.providers.fab.auth_manager.security_manager.override import FabAirflowSecurityManagerOverride
from airflow.providers.fab.auth_manager.views.auth_oauth import CustomAuthOAuthView
from flask_appbuilder import expose

SETTINGS_ENV = "AIRFLOW_ON_K8S_OIDC"
CLIENT_SECRET_ENV = "AIRFLOW_ON_K8S_OIDC_CLIENT_SECRET"
# FAB's built-in roles: what a group may map to.
FAB_ROLES = ("Admin", "Op", "User", "Viewer", "Public")
# Signature algorithms accepted on an identity provider's access token (asymmetric only: the key is
# the issuer's published one, never a secret shared with Airflow).
TOKEN_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
ISSUER_TIMEOUT_S = 5

log = logging.getLogger(__name__)


class OidcSettingsError(ValueError):
    """The chart's OIDC settings are missing or wrong; the message says which and how to fix it."""


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    provider: str  # FAB's provider name: the sign-in button and /auth/oauth-authorized/<provider>
    client_id: str
    scopes: tuple[str, ...]
    username_claim: str
    groups_claim: str
    role_mapping: Mapping[str, tuple[str, ...]]  # group -> FAB roles
    default_role: str  # for a signed-in user in no mapped group; empty: refused
    ca_bundle: str  # a PEM file of the CA(s) the issuer's certificate chains to; empty: the system's
    token_audiences: tuple[str, ...]  # `aud` or `azp` an access token at /auth/token must carry

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> OidcSettings:
        raw = environ.get(SETTINGS_ENV)
        if not raw:
            raise OidcSettingsError(
                f"{SETTINGS_ENV} is not set: this module runs where the chart's auth.fab.oidc puts it"
            )
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as error:
            raise OidcSettingsError(f"{SETTINGS_ENV} is not JSON ({error})") from error
        missing = [key for key in ("issuer", "clientId") if not data.get(key)]
        if missing:
            raise OidcSettingsError(f"auth.fab.oidc.{missing[0]} is empty: set it in the chart's values")
        mapping = {str(group): tuple(roles) for group, roles in (data.get("roleMapping") or {}).items()}
        unknown = sorted({role for roles in mapping.values() for role in roles} - set(FAB_ROLES)
                         | ({data["defaultRole"]} - set(FAB_ROLES) if data.get("defaultRole") else set()))  # fmt: skip
        if unknown:
            raise OidcSettingsError(f"auth.fab.oidc maps to roles FAB does not have: {unknown}; use {list(FAB_ROLES)}")
        return cls(
            issuer=data["issuer"].rstrip("/"),
            provider=data.get("providerName") or "oidc",
            client_id=data["clientId"],
            scopes=tuple(data.get("scopes") or ("openid", "email", "profile")),
            username_claim=data.get("usernameClaim") or "preferred_username",
            groups_claim=data.get("groupsClaim") or "groups",
            role_mapping=mapping,
            default_role=data.get("defaultRole") or "",
            ca_bundle=data.get("caBundle") or "",
            token_audiences=tuple(data.get("tokenAudiences") or (data["clientId"],)),
        )

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.ca_bundle:
            context.load_verify_locations(cafile=self.ca_bundle)
        return context

    def discovery_document(self) -> dict[str, Any]:
        """The issuer's discovery document, fetched now (its CA checked); raises what urllib raises."""
        import urllib.request

        with urllib.request.urlopen(self.discovery_url, timeout=ISSUER_TIMEOUT_S, context=self.ssl_context()) as response:
            return json.load(response)


def claim(claims: Mapping[str, Any], path: str) -> Any:
    """A claim by name, or by a dotted path into nested claims (Keycloak's `realm_access.roles`)."""
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def groups_of(claims: Mapping[str, Any], settings: OidcSettings) -> list[str]:
    """The user's groups as the groups claim carries them: a list, or one string (some providers
    send a single group so)."""
    value = claim(claims, settings.groups_claim)
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(group) for group in value]


def user_info(claims: Mapping[str, Any], settings: OidcSettings) -> dict[str, Any]:
    """FAB's userinfo from the provider's claims: the keys FAB registers a user with, and
    `role_keys`, which AUTH_ROLES_MAPPING maps to roles."""
    return {
        "username": str(claim(claims, settings.username_claim) or ""),
        "email": str(claims.get("email") or ""),
        "first_name": str(claims.get("given_name") or ""),
        "last_name": str(claims.get("family_name") or ""),
        "role_keys": groups_of(claims, settings),
    }


def mapped_roles(info: Mapping[str, Any], settings: OidcSettings) -> set[str]:
    """The FAB roles a user gets: their groups' roles, else the default role (if one is set)."""
    roles = {role for group in info.get("role_keys", []) for role in settings.role_mapping.get(group, ())}
    if not roles and settings.default_role:
        roles.add(settings.default_role)
    return roles


def webserver_config(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """FAB's settings for sign-in through the provider (webserver_config.py's names)."""
    from flask_appbuilder.const import AUTH_OAUTH

    settings = OidcSettings.from_env(environ)
    secret = environ.get(CLIENT_SECRET_ENV, "")
    if not secret:
        raise OidcSettingsError(
            f"{CLIENT_SECRET_ENV} is empty: the Secret auth.fab.oidc.clientSecret names has no value"
        )
    client_kwargs: dict[str, Any] = {"scope": " ".join(settings.scopes)}
    if settings.ca_bundle:
        client_kwargs["verify"] = settings.ca_bundle
    return {
        "AUTH_TYPE": AUTH_OAUTH,
        "OAUTH_PROVIDERS": [
            {
                "name": settings.provider,
                "icon": "fa-sign-in",
                "token_key": "access_token",
                "remote_app": {
                    "client_id": settings.client_id,
                    "client_secret": secret,
                    "server_metadata_url": settings.discovery_url,
                    "client_kwargs": client_kwargs,
                },
            }
        ],  # fmt: skip
        "AUTH_ROLES_MAPPING": {group: list(roles) for group, roles in settings.role_mapping.items()},
        # Roles follow the provider's groups at every sign-in: a user taken out of a group loses its role.
        "AUTH_ROLES_SYNC_AT_LOGIN": True,
        "AUTH_USER_REGISTRATION": True,
        # FAB adds this role to every user it registers or syncs; none unless a default role is set.
        "AUTH_USER_REGISTRATION_ROLE": settings.default_role or None,
        "SECURITY_MANAGER_CLASS": OidcSecurityManager,
    }


def issuer_unavailable(settings: OidcSettings) -> str:
    """Why sign-in cannot start now ('' when the issuer answers its discovery document)."""
    try:
        settings.discovery_document()
        return ""
    except Exception as error:  # noqa: BLE001 - whatever the cause, the user is told sign-in is unavailable
        log.warning("The identity provider %s does not answer: %s", settings.issuer, error)
        return "Sign-in is unavailable: the identity provider does not answer. Try again in a few minutes."


class OidcAuthOAuthView(CustomAuthOAuthView):
    """FAB's OAuth views, but a sign-in that cannot reach the issuer says so."""

    @expose("/login/")
    @expose("/login/<provider>")
    def login(self, provider: str | None = None):
        from flask import flash, g

        already = g.user is not None and g.user.is_authenticated
        if provider is not None and not already:
            unavailable = issuer_unavailable(self.appbuilder.sm.oidc_settings)
            if unavailable:
                flash(unavailable, "warning")
                return self.render_template(self.login_template, providers=self.appbuilder.sm.oauth_providers,
                                            title=self.title, appbuilder=self.appbuilder)  # fmt: skip
        return super().login(provider)


class OidcSecurityManager(FabAirflowSecurityManagerOverride):
    """Users from the provider's claims by the configured names; no user without a role."""

    authoauthview = OidcAuthOAuthView

    @cached_property
    def oidc_settings(self) -> OidcSettings:
        return OidcSettings.from_env()

    def get_oauth_user_info(self, provider: str, resp: dict[str, Any]) -> dict[str, Any]:
        settings = self.oidc_settings
        # authlib parses and verifies the ID token into resp["userinfo"] (the openid scope).
        claims: dict[str, Any] = dict(resp.get("userinfo") or {})
        if claim(claims, settings.username_claim) is None or claim(claims, settings.groups_claim) is None:
            claims = {**dict(self.oauth_remotes[provider].userinfo()), **claims}
        return user_info(claims, settings)

    def auth_user_oauth(self, userinfo, rotate_session_id=True):
        if not mapped_roles(userinfo, self.oidc_settings):
            from flask import flash, has_request_context

            log.warning("%s signed in, but none of their groups %s maps to a role: refused",
                        userinfo.get("username"), userinfo.get("role_keys"))  # fmt: skip
            if has_request_context():
                flash(f"{userinfo.get('username')} is in no group that has access to Airflow.", "warning")
            return None
        return super().auth_user_oauth(userinfo, rotate_session_id=rotate_session_id)


class IdentityProviderUnavailable(RuntimeError):
    """The issuer's discovery document or keys could not be fetched."""


class AccessTokenVerifier:
    """Checks an identity provider's access token: signed by one of the issuer's keys (its JWKS,
    cached by PyJWKClient), issued by the issuer, not expired, meant for one of the audiences."""

    def __init__(self, settings: OidcSettings):
        self.settings = settings
        self._jwks_client = None

    def jwks_client(self):
        import jwt

        if self._jwks_client is None:
            try:
                jwks_uri = self.settings.discovery_document()["jwks_uri"]
            except Exception as error:  # noqa: BLE001
                raise IdentityProviderUnavailable(f"{self.settings.discovery_url}: {error}") from error
            self._jwks_client = jwt.PyJWKClient(
                jwks_uri, timeout=ISSUER_TIMEOUT_S, ssl_context=self.settings.ssl_context()
            )
        return self._jwks_client

    def claims(self, token: str) -> dict[str, Any] | None:
        """The token's claims, or None if it is not one of the issuer's for these audiences."""
        import jwt

        try:
            key = self.jwks_client().get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError as error:
            raise IdentityProviderUnavailable(str(error)) from error
        except jwt.PyJWTError as error:
            log.info("Access token refused: %s", error)
            return None
        try:
            claims = jwt.decode(token, key=key.key, algorithms=TOKEN_ALGORITHMS, issuer=self.settings.issuer,
                                options={"verify_aud": False, "require": ["exp", "iss"]})  # fmt: skip
        except jwt.PyJWTError as error:
            log.info("Access token refused: %s", error)
            return None
        audiences = claims.get("aud") or []
        audiences = [audiences] if isinstance(audiences, str) else list(audiences)
        if not set(self.settings.token_audiences) & {*audiences, claims.get("azp")}:
            log.info("Access token refused: meant for %s (azp %s), not for %s", audiences, claims.get("azp"),
                     list(self.settings.token_audiences))  # fmt: skip
            return None
        return claims


class OidcFabAuthManager(FabAuthManager):
    """FAB's auth manager whose POST /auth/token exchanges the identity provider's access token."""

    _verifier: AccessTokenVerifier | None = None

    def create_token(self, headers: dict[str, str], body: dict[str, Any]):
        from fastapi import HTTPException

        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise ValueError('Send {"access_token": "<an access token of the identity provider>"}: '
                             "this Airflow signs people in through the identity provider, not with passwords")  # fmt: skip
        if OidcFabAuthManager._verifier is None:
            OidcFabAuthManager._verifier = AccessTokenVerifier(OidcSettings.from_env())
        verifier = OidcFabAuthManager._verifier
        try:
            claims = verifier.claims(token)
        except IdentityProviderUnavailable as error:
            log.warning("The identity provider does not answer: %s", error)
            raise HTTPException(
                status_code=503, detail="The identity provider does not answer: try again later"
            ) from error
        if claims is None:
            return None
        return self.security_manager.auth_user_oauth(user_info(claims, verifier.settings), rotate_session_id=False)
