"""jwt.keys: Airflow's tokens signed with private keys, and a rotation that fails no running task.

Rendered: only the api-server and scheduler pods get a key, the Secret mounted in their `jwt-keyset`
init container alone; no other pod, the worker pod template included, gets a key or a JWT secret.

Run: the chart's `jwt-keyset` command (files/scripts/jwt_keyset.py) with the flags the chart renders,
for real (this interpreter has the image's locked pyjwt and cryptography), on a folder laid out as the
kubelet lays out a Secret volume; then Airflow's own code on what it wrote, configured by the env the
chart gives each container: the scheduler's executor signs a workload token
(BaseExecutor.jwt_generator), the api-server's execution API checks it and signs the execution tokens
(airflow.api_fastapi.execution_api.app, on JWTGenerator and JWTValidator). Through the three
documented steps, old and new pods of each rolling update must accept each other's tokens.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from tests.lib.conformance.pod_specs_in_manifests import pod_specs
from tests.lib.render import scenarios
from tests.lib.render.chart_objects import (
    containers,
    env,
    init_containers,
    mounts,
    pod_annotations,
    volumes,
    worker_pod_template,
)
from tests.lib.render.helm_template import Scenario, render
from tests.lib.render.startup_scripts import ENTRY, Ran, command_of, run_command

SECRET = "airflow-jwt-keys"
OLD, NEW = "2026-12", "2027-06"  # the kids: scenarios.JWT_KEYS signs with OLD, step 2 with NEW
STEP_2 = Scenario.of("jwt-keys-step-2", {"jwt": {"keys": {"secretName": SECRET, "signingKey": NEW}}})
SIGNERS = {"airflow-api-server": "api-server", "airflow-scheduler": "scheduler"}  # Deployment: its Airflow container
KEY_FOLDER = "/opt/airflow/jwt"
SECRET_FOLDER = "/opt/airflow/jwt-keys"


def keyset_container(scenario: Scenario, deployment: str) -> dict[str, Any]:
    return init_containers(render(scenario).get("Deployment", deployment))["jwt-keyset"]


def auth_env(container: dict[str, Any]) -> dict[str, str]:
    return {name: e["value"] for name, e in env(container).items() if name.startswith("AIRFLOW__API_AUTH__")}


class TestRendered:
    @pytest.mark.parametrize("deployment", SIGNERS)
    def test_only_the_keyset_init_container_mounts_the_secret_and_it_runs_first(self, deployment):
        pod = render(scenarios.JWT_KEYS).get("Deployment", deployment)
        assert list(init_containers(pod))[0] == "jwt-keyset"  # it needs no database: it runs while the migrations do
        assert volumes(pod)["jwt-keys"]["secret"] == {"secretName": SECRET, "defaultMode": 0o440}
        keyset = keyset_container(scenarios.JWT_KEYS, deployment)
        assert mounts(keyset)[SECRET_FOLDER] == {"name": "jwt-keys", "mountPath": SECRET_FOLDER, "readOnly": True}
        assert mounts(keyset)[KEY_FOLDER]["name"] == "jwt"
        assert keyset["args"][:2] == ["python", ENTRY]
        assert command_of(keyset["args"]) == ["jwt-keyset", "--keys-secret", SECRET, SECRET_FOLDER, KEY_FOLDER]
        assert mounts(keyset)[ENTRY]["name"] == "scripts"
        everyone = [*init_containers(pod).values(), *containers(pod).values()]
        assert [c["name"] for c in everyone if "jwt-keys" in {m["name"] for m in c.get("volumeMounts", [])}] == ["jwt-keyset"]
        main = containers(pod)[SIGNERS[deployment]]
        assert mounts(main)[KEY_FOLDER] == {"name": "jwt", "mountPath": KEY_FOLDER, "readOnly": True}

    @pytest.mark.parametrize("deployment", SIGNERS)
    def test_the_signing_key_lands_in_memory_not_on_the_nodes_disk(self, deployment):
        pod = render(scenarios.JWT_KEYS).get("Deployment", deployment)
        assert volumes(pod)["jwt"]["emptyDir"]["medium"] == "Memory"

    def test_the_api_server_signs_and_checks_the_scheduler_only_signs(self):
        rendered = render(scenarios.JWT_KEYS)
        api_server = auth_env(containers(rendered.get("Deployment", "airflow-api-server"))["api-server"])
        scheduler = auth_env(containers(rendered.get("Deployment", "airflow-scheduler"))["scheduler"])
        signing = {"AIRFLOW__API_AUTH__JWT_PRIVATE_KEY_PATH": f"{KEY_FOLDER}/signing.pem", "AIRFLOW__API_AUTH__JWT_KID": OLD}
        assert api_server == {**signing, "AIRFLOW__API_AUTH__TRUSTED_JWKS_URL": f"{KEY_FOLDER}/jwks.json"}
        assert scheduler == signing
        # The script reads the signing kid from the same variable Airflow does.
        assert auth_env(keyset_container(scenarios.JWT_KEYS, "airflow-scheduler")) == {"AIRFLOW__API_AUTH__JWT_KID": OLD}

    def test_no_other_pod_or_container_gets_a_key_a_jwt_secret_or_a_key_setting(self):
        rendered = render(scenarios.JWT_KEYS)
        assert rendered.maybe("Secret", "airflow-jwt-secret") is None
        signers = {f"Deployment/{name}" for name in SIGNERS}
        for pod in pod_specs(rendered.objects):
            keyed = {v["name"] for v in pod.spec.get("volumes", []) if v["name"] in ("jwt", "jwt-keys")}
            assert pod.origin in signers or not keyed, pod.origin
            for container in pod.spec["containers"] + pod.spec.get("initContainers", []):
                where = f"{pod.origin}/{container['name']}"
                assert "AIRFLOW__API_AUTH__JWT_SECRET" not in env(container), where
                if pod.origin in signers and container["name"] in ("jwt-keyset", *SIGNERS.values()):
                    continue
                assert not [name for name in env(container) if name.startswith("AIRFLOW__API_AUTH__")], where
                assert not {m["name"] for m in container.get("volumeMounts", [])} & keyed, where

    def test_the_worker_pod_template_gets_nothing_of_it(self):
        # Task code runs there: it must not be able to sign a token, nor learn where the keys are.
        template = worker_pod_template(render(scenarios.JWT_KEYS))
        assert template == worker_pod_template(render(scenarios.DEFAULT))
        assert "jwt" not in json.dumps(template).lower()

    def test_airflow_cfg_names_no_key_file_the_other_pods_would_miss(self):
        text = render(scenarios.JWT_KEYS).get("ConfigMap", "airflow-config")["data"]["airflow.cfg"]
        assert text == render(scenarios.DEFAULT).get("ConfigMap", "airflow-config")["data"]["airflow.cfg"]

    def test_the_symmetric_secret_stays_the_default(self):
        rendered = render(scenarios.DEFAULT)
        assert rendered.get("Secret", "airflow-jwt-secret")
        for deployment in SIGNERS:
            pod = rendered.get("Deployment", deployment)
            assert "jwt-keyset" not in init_containers(pod) and "jwt-keys" not in volumes(pod)
            assert "checksum/jwt-keys" not in pod_annotations(pod)


# Checksums of the Secrets the chart generates: each `helm template` draws new values (an upgrade keeps them).
GENERATED = {"checksum/fernet-key", "checksum/api-secret-key", "checksum/metadata", "checksum/simple-auth-passwords"}


def rolled_template(deployment: dict[str, Any]) -> dict[str, Any]:
    """A Deployment's pod template as a rolling update compares it, less the generated Secrets' checksums."""
    template = json.loads(json.dumps(deployment["spec"]["template"]))
    annotations = template["metadata"].get("annotations", {})
    template["metadata"]["annotations"] = {k: v for k, v in annotations.items() if k not in GENERATED}
    return template


class TestRolling:
    @pytest.mark.parametrize("deployment", SIGNERS)
    def test_the_secrets_keys_are_in_the_signers_checksum(self, deployment):
        # `helm template` reads no live Secret: the checksum is that of the name and no data. On
        # `helm upgrade` lookup gives it the Secret's keys, so adding or removing one rolls the pods
        # (tests/e2e/test_task_tokens.py sees it happen).
        annotations = pod_annotations(render(scenarios.JWT_KEYS).get("Deployment", deployment))
        assert annotations["checksum/jwt-keys"] == hashlib.sha256(f"{SECRET}:{{}}".encode()).hexdigest()
        assert "checksum/jwt-secret" not in annotations

    def test_a_new_signing_key_rolls_the_signers_and_nothing_else(self):
        before, after = render(scenarios.JWT_KEYS), render(STEP_2)
        changed = sorted(d["metadata"]["name"] for d in before.all("Deployment")
                         if rolled_template(d) != rolled_template(after.get("Deployment", d["metadata"]["name"])))  # fmt: skip
        assert changed == sorted(SIGNERS)
        assert before.get("ConfigMap", "airflow-pod-template") == after.get("ConfigMap", "airflow-pod-template")

    def test_the_other_components_carry_no_jwt_checksum(self):
        for name in ("airflow-dag-processor", "airflow-triggerer"):
            annotations = pod_annotations(render(scenarios.JWT_KEYS).get("Deployment", name))
            assert not [a for a in annotations if "jwt" in a], name


# --- the keyset script and Airflow's own code ------------------------------------------------------


def pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


@pytest.fixture(scope="module")
def keys() -> dict[str, Any]:
    """OLD an Ed25519 key, NEW an RSA one: a rotation may change the key type, each keeps its algorithm."""
    return {OLD: ed25519.Ed25519PrivateKey.generate(), NEW: rsa.generate_private_key(public_exponent=65537, key_size=2048)}


def secret_volume(folder: Path, files: dict[str, bytes]) -> Path:
    """`files` laid out as the kubelet writes a Secret volume: a timestamped folder, `..data` linking
    to it, and each key a link through `..data`."""
    data = folder / "..2026_12_01_00_00_00.000000001"
    data.mkdir(parents=True)
    (folder / "..data").symlink_to(data.name)
    for name, content in files.items():
        (data / name).write_bytes(content)
        (folder / name).symlink_to(f"..data/{name}")
    return folder


def run_keyset(scenario: Scenario, deployment: str, secret: Path, out: Path) -> Ran:
    """The rendered init container's command, run with its env, reading `secret` and writing `out`."""
    container = keyset_container(scenario, deployment)
    out.mkdir(parents=True, exist_ok=True)
    args = [str(secret) if a == SECRET_FOLDER else str(out) if a == KEY_FOLDER else a for a in command_of(container["args"])]
    return run_command(args, auth_env(container))


@dataclass
class Pods:
    """One version of the api-server and scheduler pods: the values they were rolled with, and the
    folder each one's keyset init container wrote."""

    scenario: Scenario
    api_server: Path
    scheduler: Path

    @contextlib.contextmanager
    def configured(self, deployment: str) -> Iterator[None]:
        """Airflow configured as that container is: its AIRFLOW__API_AUTH__* env, paths in its folder."""
        folder = self.api_server if deployment == "airflow-api-server" else self.scheduler
        container = containers(render(self.scenario).get("Deployment", deployment))[SIGNERS[deployment]]
        chart_env = {name: value.replace(KEY_FOLDER, str(folder)) for name, value in auth_env(container).items()}
        kept = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__API_AUTH__")}
        with mock.patch.dict(os.environ, {**kept, **chart_env}, clear=True):
            yield

    def workload_token(self) -> str:
        """What the scheduler hands a worker pod: a workload token from its executor's generator."""
        from airflow.executors.base_executor import BaseExecutor
        from airflow.executors.workloads.base import BaseWorkloadSchema

        with self.configured("airflow-scheduler"):
            return BaseWorkloadSchema.generate_token(str(uuid.uuid4()), BaseExecutor().jwt_generator)

    def execution_token(self) -> str:
        """What the api-server swaps a workload token for, and re-issues as it nears its expiry."""
        from airflow.api_fastapi.execution_api.app import _jwt_generator

        with self.configured("airflow-api-server"):
            return _jwt_generator().generate(extras={"sub": str(uuid.uuid4()), "scope": "execution"})

    def accepts(self, token: str) -> bool:
        """Whether this api-server's execution API accepts `token` (its validator as a new process makes it)."""
        import jwt
        from airflow.api_fastapi.execution_api.app import _jwt_validator

        with self.configured("airflow-api-server"):
            validator = _jwt_validator()
        try:
            validator.validated_claims(token)
        except jwt.InvalidTokenError:
            return False
        return True


@pytest.fixture(scope="module")
def rotation(keys, tmp_path_factory) -> dict[str, Pods]:
    """The pods of each step: before it (OLD alone), step 1 (NEW added), step 2 (NEW signs), step 3
    (OLD removed). Each ran the keyset script of its own render on its own Secret volume."""
    from tests.lib.dag_bundle.offline_airflow import prepare_airflow_env

    prepare_airflow_env()  # a throwaway AIRFLOW_HOME before Airflow is first imported
    steps = {"before": (scenarios.JWT_KEYS, [OLD]), "step 1": (scenarios.JWT_KEYS, [OLD, NEW]),
             "step 2": (STEP_2, [OLD, NEW]), "step 3": (STEP_2, [NEW])}  # fmt: skip
    found = {}
    for step, (scenario, kids) in steps.items():
        folder = tmp_path_factory.mktemp(step.replace(" ", "-"))
        secret = secret_volume(folder / "secret", {f"{kid}.pem": pem(keys[kid]) for kid in kids})
        for deployment in SIGNERS:
            done = run_keyset(scenario, deployment, secret, folder / deployment)
            assert done.returncode == 0, done.stderr
        found[step] = Pods(scenario, folder / "airflow-api-server", folder / "airflow-scheduler")
    return found


def kid_and_alg(token: str) -> tuple[str, str]:
    import jwt

    header = jwt.get_unverified_header(token)
    return header["kid"], header["alg"]


class TestKeyset:
    def test_the_jwks_holds_every_public_key_by_its_kid_and_nothing_private(self, rotation):
        jwks = json.loads((rotation["step 1"].api_server / "jwks.json").read_text())["keys"]
        assert [(k["kid"], k["kty"], k["alg"]) for k in jwks] == [(OLD, "OKP", "EdDSA"), (NEW, "RSA", "RS256")]
        private_members = {"d", "p", "q", "dp", "dq", "qi"}
        assert not [k["kid"] for k in jwks if private_members & set(k)]

    def test_the_signing_key_alone_is_written_readable_by_its_owner_only(self, rotation, keys):
        for step, kid in (("step 1", OLD), ("step 2", NEW)):
            path = rotation[step].scheduler / "signing.pem"
            assert stat.S_IMODE(path.stat().st_mode) == 0o400
            assert pem(serialization.load_pem_private_key(path.read_bytes(), password=None)) == pem(keys[kid]), step
        assert sorted(p.name for p in rotation["step 1"].scheduler.iterdir()) == ["jwks.json", "signing.pem"]

    def test_a_restarted_pod_writes_over_what_it_left(self, keys, tmp_path):
        secret = secret_volume(tmp_path / "secret", {f"{OLD}.pem": pem(keys[OLD]), f"{NEW}.pem": pem(keys[NEW])})
        for scenario in (scenarios.JWT_KEYS, STEP_2):
            done = run_keyset(scenario, "airflow-api-server", secret, tmp_path / "out")
            assert done.returncode == 0, done.stderr
        assert done.stdout == f"JWKS of Secret {SECRET}: {OLD} (EdDSA), {NEW} (RS256); signing with {NEW}\n"
        written = serialization.load_pem_private_key((tmp_path / "out" / "signing.pem").read_bytes(), password=None)
        assert pem(written) == pem(keys[NEW])

    @pytest.mark.parametrize("name,content,says", [
        ("README", b"not a key", "holds 'README': name each key <kid>.pem"),
        ("2027-01.pem", b"-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n",
         "2027-01.pem in Secret airflow-jwt-keys is not an unencrypted PEM private key"),
        ("2027-01.pem", pem(ec.generate_private_key(ec.SECP256R1())), "2027-01.pem in Secret airflow-jwt-keys is neither RSA nor Ed25519"),
        ("2027-01.pem", pem(rsa.generate_private_key(public_exponent=65537, key_size=1024)), "is a 1024-bit RSA key: use 2048 bits or more"),
    ], ids=["not-named-pem", "not-a-key", "ec-key", "short-rsa-key"])  # fmt: skip
    def test_a_wrong_key_stops_the_pod_with_one_line_naming_it(self, keys, tmp_path, name, content, says):
        secret = secret_volume(tmp_path / "secret", {f"{OLD}.pem": pem(keys[OLD]), name: content})
        done = run_keyset(scenarios.JWT_KEYS, "airflow-api-server", secret, tmp_path / "out")
        assert done.returncode == 1 and done.stderr.startswith("jwt.keys: ") and says in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert not (tmp_path / "out" / "signing.pem").exists()

    def test_a_signing_key_missing_from_the_secret_names_what_is_there(self, keys, tmp_path):
        secret = secret_volume(tmp_path / "secret", {f"{OLD}.pem": pem(keys[OLD])})
        done = run_keyset(STEP_2, "airflow-scheduler", secret, tmp_path / "out")
        assert done.returncode == 1, done.stderr
        assert done.stderr.strip() == (f"jwt.keys: jwt.keys.signingKey is '{NEW}' but Secret {SECRET} holds no {NEW}.pem "
                                       f"(it holds: {OLD}.pem); add it, or name one of those")  # fmt: skip


class TestRotationWithAirflowsOwnCode:
    def test_tokens_carry_the_signing_kid_and_the_algorithm_of_its_key(self, rotation):
        assert kid_and_alg(rotation["step 1"].workload_token()) == (OLD, "EdDSA")
        assert kid_and_alg(rotation["step 2"].workload_token()) == (NEW, "RS256")
        assert kid_and_alg(rotation["step 2"].execution_token()) == (NEW, "RS256")

    @pytest.mark.parametrize("roll", [("before", "step 1"), ("step 1", "step 2"), ("step 2", "step 3")],
                             ids=lambda r: f"{r[0]}-to-{r[1]}".replace(" ", "-"))  # fmt: skip
    def test_old_and_new_pods_of_each_rolling_update_accept_each_others_tokens(self, rotation, roll):
        old, new = rotation[roll[0]], rotation[roll[1]]
        for signer in (old, new):
            for token in (signer.workload_token(), signer.execution_token()):
                assert old.accepts(token) and new.accepts(token), f"{roll}: a token of kid {kid_and_alg(token)[0]}"

    def test_a_token_handed_out_before_step_2_still_works_after_it(self, rotation):
        # A task queued or running before step 2 holds an OLD token: a step 2 api-server accepts it,
        # and the execution tokens it swaps it for are signed with NEW.
        assert rotation["step 2"].accepts(rotation["step 1"].workload_token())
        assert rotation["step 2"].accepts(rotation["step 1"].execution_token())
        assert kid_and_alg(rotation["step 2"].execution_token())[0] == NEW

    def test_in_one_step_an_api_server_not_rolled_yet_refuses_the_new_key(self, rotation):
        # Why step 1 comes first: a pod still holding the keyset of before does not know NEW.
        assert not rotation["before"].accepts(rotation["step 2"].workload_token())

    def test_after_step_3_the_old_key_is_refused(self, rotation):
        assert not rotation["step 3"].accepts(rotation["step 1"].workload_token())
        assert rotation["step 3"].accepts(rotation["step 3"].workload_token())

    @pytest.mark.parametrize("kid", ["someone-else", OLD])
    def test_a_key_not_in_the_jwks_is_refused_even_under_a_trusted_kid(self, rotation, tmp_path, kid):
        stranger = ed25519.Ed25519PrivateKey.generate()
        secret = secret_volume(tmp_path / "secret", {f"{kid}.pem": pem(stranger)})
        forged = Pods(Scenario.of(f"jwt-keys-stranger-{kid}", {"jwt": {"keys": {"secretName": SECRET, "signingKey": kid}}}),
                      tmp_path / "airflow-api-server", tmp_path / "airflow-scheduler")  # fmt: skip
        assert run_keyset(forged.scenario, "airflow-scheduler", secret, forged.scheduler).returncode == 0
        assert not rotation["step 1"].accepts(forged.workload_token())
