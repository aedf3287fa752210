"""The pods the DAG bundle would launch, built by the provider's own code without a cluster.

For every pod task of every DAG in `dags/`, `dag_pods()` returns the V1Pod that
KubernetesPodOperator would submit, as the plain dict the Kubernetes API receives
(`ApiClient().sanitize_for_serialization`), with its dag_id, task_id and map_index.
`pods_of_dag(dag)` does the same for any one DAG (tests use it on DAGs they define).

How each kind of task is built:
- KubernetesPodOperator: `build_pod_request_obj(context=None, dry_run=True)` (provider 10.25), which
  skips everything that needs a live API client.
- Mapped tasks (`.partial(...).expand(...)`, `.expand_kwargs([...])`, and mapped `@task.kubernetes`
  whose function kwargs are expanded): expanded over their literal values the way Airflow does (one
  task instance per combination, in map_index order), each unmapped with the SDK's own
  `MappedOperator.unmap`, then built as above. Expansion over an upstream XCom cannot be known
  without a run, so such a task raises `UnresolvableMappingError` naming it.
- `@task.kubernetes`: the provider sets the container command only in `execute()`; the helper sets
  it with the operator's own `_generate_cmds()` so the pod carries the command that would run. The
  two env vars holding the pickled function and its input are omitted (values only, they reference
  no object).
Without a run there is no context: Jinja templates in fields (e.g. `arguments`) stay unrendered and
the per-run labels (dag_id, task_id, run_id, try_number) are absent. The XCom sidecar's image and
resources come from the `kubernetes_default` connection: offline_airflow.py gives this process the
Airflow env vars the chart sets on worker pods (values/dev.yaml), so pods are built as a worker builds them.

Airflow is imported lazily, after offline_airflow.py has pointed AIRFLOW_HOME at a throwaway
directory, so importing this module is cheap and tests never touch a developer's Airflow setup.
"""

from __future__ import annotations

import copy
import functools
import itertools
from dataclasses import dataclass
from typing import Any

from tests.lib.dag_bundle.offline_airflow import dag_bag


class UnresolvableMappingError(RuntimeError):
    pass


@dataclass(frozen=True)
class DagPod:
    dag_id: str
    task_id: str
    map_index: int  # -1 when the task is not mapped
    pod: dict[str, Any]
    deferrable: bool = False  # the triggerer, not the worker, watches this pod

    @property
    def label(self) -> str:
        suffix = f"[{self.map_index}]" if self.map_index >= 0 else ""
        return f"{self.dag_id}.{self.task_id}{suffix}"


def _is_pod_task(task: Any) -> bool:
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    cls = task.operator_class if isinstance(task, MappedOperator) else type(task)
    return isinstance(cls, type) and issubclass(cls, KubernetesPodOperator)


def _literal_expansions(mapped: Any) -> list[dict[str, Any]]:
    """The mapped kwargs of each map_index, for expansions over literal values."""
    from airflow.sdk.bases.decorator import DecoratedMappedOperator
    from airflow.sdk.definitions._internal.expandinput import DictOfListsExpandInput, ListOfDictsExpandInput
    from airflow.sdk.definitions.xcom_arg import XComArg

    expand_input = mapped._get_specified_expand_input()
    where = f"{mapped.dag_id}.{mapped.task_id}"
    if isinstance(expand_input, DictOfListsExpandInput):
        values = {name: _run_time_list(v, mapped) if isinstance(v, XComArg) else v
                  for name, v in expand_input.value.items()}  # fmt: skip
        if any(not isinstance(v, (list, tuple)) for v in values.values()):
            raise UnresolvableMappingError(f"{where} expands over a value known only at run time")
        names = list(values)
        combos = [dict(zip(names, combo)) for combo in itertools.product(*values.values())]
    elif isinstance(expand_input, ListOfDictsExpandInput) and isinstance(expand_input.value, (list, tuple)):
        combos = [dict(item) for item in expand_input.value]
    else:
        raise UnresolvableMappingError(f"{where} expands over a value known only at run time")
    if isinstance(mapped, DecoratedMappedOperator):  # @task-style mapping expands the function's kwargs
        combos = [{"op_kwargs": {**mapped.partial_kwargs.get("op_kwargs", {}), **c}} for c in combos]
    return combos


def _run_time_list(xcom_arg: Any, mapped: Any) -> Any:
    """The list a plain @task upstream returns in a run with the DAG's default Params, computed here.

    Only for a TaskFlow function that takes nothing but `params`: anything else (another task's
    output, the run's date) is known only in a real run, and stays unresolved.
    """
    import inspect

    upstream = getattr(xcom_arg, "operator", None)
    function = getattr(upstream, "python_callable", None)
    if function is None or list(inspect.signature(function).parameters) != ["params"] or upstream.op_args:
        return xcom_arg
    return function(params=mapped.dag.params.dump())


def _operators(task: Any) -> list[tuple[int, Any]]:
    """(map_index, concrete operator) pairs for one task of the bundle."""
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    if isinstance(task, MappedOperator):
        return [(i, task.unmap(kwargs)) for i, kwargs in enumerate(_literal_expansions(task))]
    return [(-1, copy.deepcopy(task))]


def render_with_default_params(operator: Any) -> None:
    """Render the operator's templated text fields as a run with the DAG's default Params would.

    Only strings and lists of strings (namespace, name, arguments, ...): values such as a
    @task.kubernetes task's upstream XComArgs exist only in a real run.
    """
    context = {"params": operator.dag.params.dump() if operator.dag else {}}
    env = operator.get_template_env()
    for field in operator.template_fields:
        value = getattr(operator, field, None)
        if isinstance(value, str) or (isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)):
            setattr(operator, field, operator.render_template(value, context, env))


def build_pod(operator: Any) -> dict[str, Any]:
    """The pod `operator` would submit, as the API-ready dict (templates rendered with default Params)."""
    from airflow.providers.cncf.kubernetes.decorators.kubernetes import _KubernetesDecoratedOperator
    from kubernetes.client import ApiClient

    if isinstance(operator, _KubernetesDecoratedOperator):
        operator.cmds = operator._generate_cmds()
    render_with_default_params(operator)
    pod = operator.build_pod_request_obj(context=None, dry_run=True)
    return ApiClient().sanitize_for_serialization(pod)


def pods_of_dag(dag: Any) -> list[DagPod]:
    """Every pod one DAG would launch, in task_id then map_index order."""
    found = []
    for task in sorted(dag.tasks, key=lambda t: t.task_id):
        if not _is_pod_task(task):
            continue
        for map_index, operator in _operators(task):
            found.append(DagPod(dag.dag_id, task.task_id, map_index, build_pod(operator),
                                deferrable=bool(getattr(operator, "deferrable", False))))
    return found


@functools.cache
def dag_pods() -> tuple[DagPod, ...]:
    """Every pod every DAG of the bundle would launch (built once per process)."""
    bag = dag_bag()
    return tuple(pod for dag_id in sorted(bag.dags) for pod in pods_of_dag(bag.dags[dag_id]))
