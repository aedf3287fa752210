"""The chart's sign-in module (files/fab_oidc.py) in a real Airflow api-server app, offline: run as
`python -m tests.lib.render.fab_sign_in WORKDIR` with the api-server's env (AIRFLOW_HOME holding the
rendered module and webserver_config.py), it starts a local issuer (tests/lib/test_servers/
local_issuer.py), points the settings at it, creates Airflow's FastAPI app on a SQLite database and
asks it what a browser and a script would. It prints one JSON object: what Airflow answered."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from tests.lib.test_servers.local_issuer import local_issuer

SETTINGS_ENV = "AIRFLOW_ON_K8S_OIDC"


def exchange(client, token: str) -> tuple[int, str]:
    """POST /auth/token with an access token of the issuer: (status, the Airflow token or the error)."""
    answer = client.post("/auth/token", json={"access_token": token})
    body = answer.json()
    return answer.status_code, body.get("access_token") or json.dumps(body.get("detail"))


def main(workdir: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with local_issuer(workdir) as issuer:
        ca = workdir / "issuer-ca.crt"
        ca.write_bytes(issuer.ca_pem)
        settings = json.loads(os.environ[SETTINGS_ENV])
        os.environ[SETTINGS_ENV] = json.dumps({**settings, "issuer": issuer.url, "caBundle": str(ca)})
        from airflow.utils import db

        db.initdb()
        from airflow.api_fastapi.app import create_app
        from fastapi.testclient import TestClient

        client = TestClient(create_app(), follow_redirects=False)
        page = client.get("/auth/login/")
        results["login_page"] = [page.status_code, f'id="btn-signin-{settings["providerName"]}"' in page.text]
        start = client.get(f"/auth/login/{settings['providerName']}")
        results["sign_in_redirect"] = [start.status_code, start.headers.get("location", "")]
        results["issuer"] = issuer.url

        tokens = {
            "admin": issuer.token(sub="1", azp="airflow", preferred_username="robot-admin", groups=["airflow-admins"]),
            "viewer": issuer.token(sub="2", aud=["airflow", "account"], preferred_username="robot-viewer",
                                   groups=["airflow-viewers"]),  # fmt: skip
            "no_group": issuer.token(sub="3", azp="airflow", preferred_username="robot-none", groups=["others"]),
            "other_audience": issuer.token(sub="4", azp="another-app", preferred_username="robot-4", groups=["airflow-admins"]),
            "expired": issuer.token(sub="5", azp="airflow", preferred_username="robot-5", groups=["airflow-admins"],
                                    exp=int(time.time()) - 60),  # fmt: skip
        }
        exchanged = {name: exchange(client, token) for name, token in tokens.items()}
        results["exchange"] = {name: status for name, (status, _) in exchanged.items()}
        password = client.post("/auth/token", json={"username": "admin", "password": "admin"})
        results["password"] = [password.status_code, password.json().get("detail")]

        def as_user(name: str) -> dict[str, int]:
            headers = {"Authorization": f"Bearer {exchanged[name][1]}"}
            listed = client.get("/api/v2/dags", headers=headers)
            created = client.post("/api/v2/variables", headers=headers, json={"key": f"made-by-{name}", "value": "x"})
            return {"list_dags": listed.status_code, "create_variable": created.status_code}

        results["admin"] = as_user("admin")
        results["viewer"] = as_user("viewer")
        later_token = issuer.token(sub="6", azp="airflow", preferred_username="robot-6", groups=["airflow-admins"])
    # The issuer down: a token signed with a key the api-server fetched before still exchanges; an
    # api-server that has fetched none yet (started while the issuer is down) answers 503.
    results["down_cached_key"] = exchange(client, later_token)[0]
    from airflow.api_fastapi.app import get_auth_manager

    type(get_auth_manager())._verifier = None
    results["down_not_fetched"] = exchange(client, later_token)
    down = client.get(f"/auth/login/{settings['providerName']}", follow_redirects=True)
    results["down_sign_in"] = [down.status_code, "Sign-in is unavailable" in down.text]
    return results


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]))))
