"""Every DAG's task defaults: what each DAG gets, and that they come from the bundle's shared ones.

EXPECTED is each DAG's `default_args` as Airflow's DagBag loaded them before the bundle's shared
defaults (`pod_defaults.default_args`) replaced the literal each file repeated: moving them must
change no DAG's owner, retries, retry delay or anything else.
"""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

import pytest

from tests.lib.paths import DAGS

# A task without `retry_delay` in its default_args waits Airflow's default between tries, 5 minutes.
AIRFLOW_DEFAULT_RETRY_DELAY = timedelta(minutes=5)

# The seed's failure email (an SmtpNotifier) is compared by class and recipient: it sets nothing else.
SEED_FAILURE_EMAIL = ("SmtpNotifier", "data-alerts@example.com")

EXPECTED = {
    "kubernetes-dag": {
        "owner": "bomwo",
        "retries": 3,
        "retry_delay": timedelta(minutes=5),
        "depends_on_past": False,
        "execution_timeout": timedelta(hours=1),
        "on_failure_callback": SEED_FAILURE_EMAIL,
    },
    "kubernetes-pod-deferrable": {"owner": "platform", "retries": 1, "retry_delay": timedelta(minutes=2)},
    "kubernetes-pod-fanout": {"owner": "platform", "retries": 1, "retry_delay": timedelta(minutes=1)},
    "kubernetes-pod-keep-on-failure": {"owner": "platform", "retries": 0},
    "kubernetes-pod-mapping": {"owner": "platform", "retries": 2, "retry_delay": timedelta(minutes=2)},
    "kubernetes-pod-params": {"owner": "platform", "retries": 0},
    "kubernetes-pod-volumes": {"owner": "platform", "retries": 1, "retry_delay": timedelta(minutes=2)},
    "kubernetes-pod-xcom": {"owner": "platform", "retries": 1, "retry_delay": timedelta(minutes=2)},
    "kubernetes-taskflow": {"owner": "platform", "retries": 1, "retry_delay": timedelta(minutes=2)},
}

# The DAG files: every module of the bundle but the helpers that .airflowignore keeps from being parsed.
IGNORED = {line.strip() for line in (DAGS / ".airflowignore").read_text().splitlines() if not line.startswith("#")}
DAG_FILES = sorted(p for p in DAGS.glob("*.py") if p.name not in IGNORED)
SHARED = "pod_defaults.default_args"


def comparable(default_args: dict) -> dict:
    """default_args with a notifier replaced by its class and recipient (notifiers have no __eq__)."""
    from airflow.sdk.bases.notifier import BaseNotifier

    return {
        key: (type(value).__name__, value.to) if isinstance(value, BaseNotifier) else value
        for key, value in default_args.items()
    }


def test_every_dag_has_an_expectation(dags):
    assert set(dags) == set(EXPECTED)


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_default_args_are_unchanged(dags, dag_id):
    assert comparable(dags[dag_id].default_args) == EXPECTED[dag_id]


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_every_task_owns_retries_and_waits_as_before(dags, dag_id):
    """What the tasks themselves end up with, Airflow's defaults filling in what default_args leave out."""
    expected = EXPECTED[dag_id]
    for task in dags[dag_id].tasks:
        assert (task.owner, task.retries, task.retry_delay) == (
            expected["owner"],
            expected["retries"],
            expected.get("retry_delay", AIRFLOW_DEFAULT_RETRY_DELAY),
        ), task.task_id


@pytest.fixture(scope="module")
def pod_defaults(dag_bag):
    """The bundle's helper module as the DAGs imported it (parsing the bundle put dags/ on sys.path)."""
    import pod_defaults

    return pod_defaults


def test_each_dag_gets_its_own_copy_of_the_shared_defaults(pod_defaults):
    first = pod_defaults.default_args()
    assert first == dict(pod_defaults.DEFAULT_ARGS)
    first["retries"] = 5
    assert pod_defaults.default_args()["retries"] == pod_defaults.DEFAULT_ARGS["retries"]
    with pytest.raises(TypeError):
        pod_defaults.DEFAULT_ARGS["retries"] = 5


def test_overrides_go_on_top_and_no_retries_means_no_retry_delay(pod_defaults):
    assert pod_defaults.default_args(owner="bomwo", depends_on_past=False) == {
        **pod_defaults.DEFAULT_ARGS, "owner": "bomwo", "depends_on_past": False,
    }
    assert "retry_delay" not in pod_defaults.default_args(retries=0)
    assert pod_defaults.default_args(retries=0, retry_delay=timedelta(seconds=1))["retry_delay"] == timedelta(seconds=1)


def dotted(node: ast.expr) -> str:
    """`a.b.c` for a name or attribute chain, "" for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = dotted(node.value)
        return f"{inner}.{node.attr}" if inner else ""
    return ""


def built_from_shared(node: ast.expr, module: ast.Module) -> bool:
    """`pod_defaults.default_args(...)`, or a module-level name assigned exactly that."""
    if isinstance(node, ast.Call):
        return dotted(node.func) == SHARED
    if isinstance(node, ast.Name):
        values = [
            stmt.value
            for stmt in module.body
            if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == node.id for t in stmt.targets)
        ]
        return len(values) == 1 and isinstance(values[0], ast.Call) and dotted(values[0].func) == SHARED
    return False


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_default_args_come_from_the_shared_ones(path: Path):
    """No DAG file writes its own default_args literal again: it takes the bundle's and overrides what differs."""
    module = ast.parse(path.read_text(), filename=path.name)
    dag_calls = [
        node for node in ast.walk(module) if isinstance(node, ast.Call) and dotted(node.func).split(".")[-1] in {"DAG", "dag"}
    ]
    assert dag_calls, f"{path.name}: no DAG(...) or @dag(...) found"
    for call in dag_calls:
        given = {kw.arg: kw.value for kw in call.keywords}
        assert "default_args" in given, f"{path.name}:{call.lineno}: no default_args (take {SHARED}())"
        assert built_from_shared(given["default_args"], module), (
            f"{path.name}:{call.lineno}: default_args is not {SHARED}(...): take the shared defaults and "
            "pass only what differs, with a comment saying why"
        )
    # Nor a task-defaults dict elsewhere in the file (e.g. handed to a task, or merged in later).
    for node in ast.walk(module):
        keys = []
        if isinstance(node, ast.Dict):
            keys = [k.value for k in node.keys if isinstance(k, ast.Constant)]
        elif isinstance(node, ast.Call) and dotted(node.func) == "dict":
            keys = [kw.arg for kw in node.keywords]
        assert "owner" not in keys, f"{path.name}:{node.lineno}: a default_args literal of its own"
