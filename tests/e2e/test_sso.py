"""Sign-in through a real identity provider, as values/prod.yaml documents it (auth.manager: fab with
auth.fab.oidc), on the real node: the prod install's Keycloak, in a namespace of its own
(tests/lib/test_servers/identity_provider.py), with the realm, Airflow's client and its two groups the
install set up, and three people added here; the chart installed by prod.yaml's commands and values,
two api-servers behind their Service and the egress policies on. A headless Chromium signs people in
as they would; a script gets its token from the identity provider without a browser, as automation
does. Screenshots go to test-artifacts/sso.
"""

from __future__ import annotations

import base64
import json
import secrets
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.lib.cluster.target import ClusterTarget
from tests.lib.installs.prod_install import ProdInstall
from tests.lib.installs.release import Release
from tests.lib.live_airflow.rest_api import AirflowApi, exchanged_token, service_url
from tests.lib.suite.fault_report import record
from tests.lib.test_servers.identity_provider import ADMIN_GROUP, VIEWER_GROUP, IdentityProvider, User

PROD_INSTALL = ("https", "gitSync")  # shared with the other modules of that pair (tests/e2e/conftest.py)
SEED = "kubernetes-dag"
ARTIFACTS = "sso"
PROVIDER = "sso"  # values.yaml auth.fab.oidc.providerName
UI_WAIT_MS = 90_000
ALICE = User("alice", secrets.token_urlsafe(12), (ADMIN_GROUP, VIEWER_GROUP))
BOB = User("bob", secrets.token_urlsafe(12), (VIEWER_GROUP,))
CAROL = User("carol", secrets.token_urlsafe(12), ())


@dataclass
class Sso:
    release: Release
    idp: IdentityProvider
    url: str  # the api-server, as this host and the browser reach it

    @property
    def target(self) -> ClusterTarget:
        return self.release.target


@pytest.fixture(scope="module")
def sso(prod: ProdInstall) -> Iterator[Sso]:
    prod.idp.create_users([ALICE, BOB, CAROL])
    with service_url(prod.release) as url:
        yield Sso(prod.release, prod.idp, url)


# --- a script's token ------------------------------------------------------------------------------


def script_token(sso: Sso) -> str:
    """An Airflow token for the client's service account (the admin group): two requests, no browser."""
    return sso.idp.airflow_token(sso.url)


def rest_json(url: str, token: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """One REST API call with a person's token, as their browser's UI makes it: (status, body)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{url}{path}", method=method, data=data,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def rest(url: str, token: str, method: str, path: str, body: Any = None) -> int:
    return rest_json(url, token, method, path, body)[0]


# --- a person in the browser -----------------------------------------------------------------------


@dataclass
class SignIn:
    landed: str  # the URL the browser ended on
    page_text: str
    token: str  # the Airflow token the UI holds (its _token cookie), "" when refused
    then: str = ""  # what the UI showed after sign_in's `then`


def sign_in(sso: Sso, user: User, step: str, then: Callable[[Any], str] | None = None) -> SignIn:
    """Open the UI, follow it to Keycloak's own sign-in page, sign in as `user`; screenshot each step.
    `then(page)`, once signed in, does more in the UI and says what it saw."""
    from tests.lib.live_airflow.browser import goto, page, screenshot

    with page(ARTIFACTS, flags=sso.idp.browser_flags(), ignore_https_errors=True) as browser:
        goto(browser, f"{sso.url}/")
        browser.wait_for_selector(f"#btn-signin-{PROVIDER}", timeout=UI_WAIT_MS)
        screenshot(browser, ARTIFACTS, f"{step}-1-airflow-sign-in")
        browser.click(f"#btn-signin-{PROVIDER}")
        browser.wait_for_url(lambda address: sso.idp.host in address, timeout=UI_WAIT_MS)
        browser.wait_for_selector("#username", timeout=UI_WAIT_MS)
        browser.fill("#username", user.username)
        browser.fill("#password", user.password)
        screenshot(browser, ARTIFACTS, f"{step}-2-identity-provider-{user.username}")
        browser.click("#kc-login")
        browser.wait_for_url(lambda address: address.startswith(sso.url), timeout=UI_WAIT_MS)
        browser.wait_for_load_state("networkidle")
        token = next((c["value"] for c in browser.context.cookies() if c["name"] == "_token"), "")
        if token:
            goto(browser, f"{sso.url}/dags")
            browser.get_by_text(SEED, exact=True).first.wait_for(timeout=UI_WAIT_MS)
        screenshot(browser, ARTIFACTS, f"{step}-3-landed-{user.username}")
        signed_in = SignIn(browser.url, browser.inner_text("body"), token)
        if then is not None and token:
            signed_in.then = then(browser)
        return signed_in


def trigger_in_the_ui(browser: Any) -> str:
    """On the seed DAG's page, click Trigger and confirm, as a person would; what the UI showed."""
    import re

    from tests.lib.live_airflow.browser import goto, screenshot

    goto(browser, browser.url.split("/dags")[0] + f"/dags/{SEED}")
    trigger = browser.get_by_role("button", name=re.compile(r"^\s*Trigger", re.IGNORECASE))
    if trigger.count() == 0:
        screenshot(browser, ARTIFACTS, "2-viewer-4-no-trigger-button")
        return "no Trigger button"
    trigger.first.click()
    dialog = browser.get_by_role("dialog")
    dialog.wait_for(timeout=UI_WAIT_MS)
    dialog.get_by_role("button", name=re.compile(r"^\s*Trigger", re.IGNORECASE)).last.click()
    browser.wait_for_load_state("networkidle")
    browser.wait_for_timeout(3000)
    screenshot(browser, ARTIFACTS, "2-viewer-4-trigger-clicked")
    return browser.inner_text("body")


def unavailable_sign_in(sso: Sso) -> str:
    """The page Airflow shows when sign-in is started while the identity provider is down."""
    from tests.lib.live_airflow.browser import goto, page, screenshot

    with page(ARTIFACTS, flags=sso.idp.browser_flags(), ignore_https_errors=True) as browser:
        goto(browser, f"{sso.url}/")
        browser.wait_for_selector(f"#btn-signin-{PROVIDER}", timeout=UI_WAIT_MS)
        browser.click(f"#btn-signin-{PROVIDER}")
        browser.wait_for_load_state("networkidle")
        screenshot(browser, ARTIFACTS, "5-identity-provider-down")
        return browser.inner_text("body")


def no_browser_skip(err: Exception) -> None:
    pytest.skip(f"no browser to drive: {err}")


# --- the tests -------------------------------------------------------------------------------------


def test_an_admin_group_user_signs_in_at_the_identity_provider_and_runs_the_seed_dag(sso: Sso, api: AirflowApi) -> None:
    from tests.lib.live_airflow.browser import NoBrowser

    try:
        alice = sign_in(sso, ALICE, "1-admin")
    except NoBrowser as err:
        no_browser_skip(err)
    assert alice.token, alice.page_text[-2000:]
    assert SEED in alice.page_text
    assert rest(sso.url, alice.token, "POST", "/api/v2/variables", {"key": "set-by-alice", "value": "x"}) == 201
    api.unpause(SEED)
    status, run = rest_json(sso.url, alice.token, "POST", f"/api/v2/dags/{SEED}/dagRuns", {"logical_date": None})
    assert status == 200, run
    assert api.wait_for_run(SEED, run["dag_run_id"]) == "success"


def seed_runs(sso: Sso, token: str) -> int:
    status, body = rest_json(sso.url, token, "GET", f"/api/v2/dags/{SEED}/dagRuns?limit=1")
    assert status == 200, body
    return body["total_entries"]


def test_a_viewer_group_user_sees_the_dags_but_may_not_trigger_one(sso: Sso) -> None:
    from tests.lib.live_airflow.browser import NoBrowser

    admin = script_token(sso)
    before = seed_runs(sso, admin)
    try:
        bob = sign_in(sso, BOB, "2-viewer", then=trigger_in_the_ui)
    except NoBrowser as err:
        no_browser_skip(err)
    assert bob.token and SEED in bob.page_text
    # In the UI: no Trigger button, or one whose run is refused, saying so; either way no run was made.
    assert bob.then == "no Trigger button" or ("Access Denied" in bob.then and "403" in bob.then), bob.then[-2000:]
    assert seed_runs(sso, admin) == before, bob.then[-2000:]
    assert rest(sso.url, bob.token, "GET", "/api/v2/dags") == 200
    assert rest(sso.url, bob.token, "POST", f"/api/v2/dags/{SEED}/dagRuns", {"logical_date": None}) == 403


def test_a_user_in_no_mapped_group_gets_no_access(sso: Sso) -> None:
    from tests.lib.live_airflow.browser import NoBrowser

    try:
        carol = sign_in(sso, CAROL, "3-no-group")
    except NoBrowser as err:
        no_browser_skip(err)
    assert not carol.token, carol
    assert "/auth/login" in carol.landed and "carol is in no group that has access to Airflow" in carol.page_text


def test_a_script_gets_a_token_without_a_browser_and_runs_the_seed_dag(sso: Sso, api: AirflowApi) -> None:
    # `api` logs in as the prod install's api_login does: client credentials, then /auth/token.
    api.unpause(SEED)
    run_id = api.trigger(SEED)
    assert api.wait_for_run(SEED, run_id) == "success"


def test_a_wrong_client_secret_or_a_forged_token_is_refused(sso: Sso) -> None:
    status, body = sso.idp.client_credentials(secret="not-the-secret")
    assert status == 401, body
    _, good = sso.idp.client_credentials()
    header, claims, signature = good["access_token"].split(".")
    forged = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    forged["preferred_username"] = "someone-else"
    forged_claims = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    assert exchanged_token(sso.url, f"{header}.{forged_claims}.{signature}")[0] == 401


def test_a_user_taken_out_of_the_admin_group_loses_admin_at_the_next_sign_in(sso: Sso) -> None:
    from tests.lib.live_airflow.browser import NoBrowser

    sso.idp.leave_group(ALICE.username, ADMIN_GROUP)
    try:
        alice = sign_in(sso, ALICE, "4-admin-removed")
    except NoBrowser as err:
        no_browser_skip(err)
    assert alice.token
    assert rest(sso.url, alice.token, "POST", "/api/v2/variables", {"key": "set-again-by-alice", "value": "x"}) == 403
    assert rest(sso.url, alice.token, "GET", "/api/v2/dags") == 200


def restarts(release: Release) -> dict[str, int]:
    pods = release.kubectl_json("get", "pods", "-l", f"app.kubernetes.io/instance={release.name}")["items"]
    return {p["metadata"]["name"]: sum(c["restartCount"] for c in p["status"].get("containerStatuses", [])) for p in pods}


def test_the_identity_provider_down_sign_in_says_so_tokens_keep_working_and_it_comes_back(sso: Sso) -> None:
    from tests.lib.live_airflow.browser import NoBrowser

    token = script_token(sso)
    before = restarts(sso.release)
    try:
        with sso.idp.unreachable():
            shown = unavailable_sign_in(sso)
            listed = rest(sso.url, token, "GET", "/api/v2/dags")
        after = restarts(sso.release)
        back = sign_in(sso, BOB, "6-identity-provider-back")
    except NoBrowser as err:
        no_browser_skip(err)
    lost = [f"restarted: {name}" for name in before if after.get(name, 0) != before[name]]
    record("12. identity provider down", "Keycloak's Service selected no pod while a user signed in and a script listed DAGs",
           f"sign-in page said it is unavailable: {'Sign-in is unavailable' in shown}; REST API with an earlier token: "
           f"{listed}; signed in again once back: {bool(back.token)}", lost)  # fmt: skip
    assert "Sign-in is unavailable" in shown, shown[-2000:]
    assert "Traceback" not in shown and "Internal Server Error" not in shown
    assert listed == 200
    assert not lost, lost
    assert back.token


def test_the_client_secret_is_in_no_config_map_pod_spec_or_log(sso: Sso) -> None:
    secret = sso.idp.client_secret
    release = sso.release
    config_maps = json.dumps(release.kubectl_json("get", "configmaps")["items"])
    assert secret not in config_maps
    pods = release.kubectl_json("get", "pods", "-l", f"app.kubernetes.io/instance={release.name}")["items"]
    assert secret not in json.dumps([p["spec"] for p in pods])
    for pod in pods:
        for container in pod["spec"]["containers"]:
            logs = release.target.kubectl("logs", "-n", release.namespace, pod["metadata"]["name"], "-c", container["name"],
                                          check=False).stdout  # fmt: skip
            assert secret not in logs, f"{pod['metadata']['name']}/{container['name']}"
