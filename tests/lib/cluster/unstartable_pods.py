"""Pods that will not start by themselves, found while a test waits on them, so that the wait fails
within a minute saying why instead of running out its whole timeout.

Two states do not clear on their own:

- the scheduler cannot place the pod: condition PodScheduled False, reason Unschedulable, with the
  scheduler's message ("0/1 nodes are available: 1 Insufficient cpu. ..."). For Insufficient cpu or
  memory the failure also gives each node's allocatable and the pods holding requests on it, largest
  first: what a user looks at next. A pod that would fit once pods that end by themselves are gone
  (pods being deleted, and run-to-completion pods such as other tasks' worker and task pods) is only
  queued, not stuck;
- the kubelet cannot start one of its containers: waiting with ErrImagePull, ImagePullBackOff,
  InvalidImageName or CreateContainerConfigError (a Secret or ConfigMap it reads is missing).

Either for longer than STUCK_SECONDS. `stuck_states` and `explain` (and `diagnose`, both in one) are
pure functions of the API's JSON; `StuckPodCheck` reads that JSON with kubectl at most every
CHECK_SECONDS from inside a wait's polling loop and raises PodStuck.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from kubernetes.utils import parse_quantity

from tests.lib.cluster.target import ClusterTarget

STUCK_SECONDS = 45.0  # longer than a transient state lasts: a pull retried, a pod placed once another is gone
CHECK_SECONDS = 12.0  # how often a wait reads the pods: not on every one of its polls
UNSCHEDULABLE = "Unschedulable"
CONTAINER_ERRORS = ("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CreateContainerConfigError")
# ErrImagePull and ImagePullBackOff take turns while the kubelet retries: one state for how long it lasts.
SAME_STATE = {"ImagePullBackOff": "ErrImagePull"}
# A pod this long past its deletionTimestamp is not going away by itself: its requests count as held.
GONE_SOON_SECONDS = 60.0
LISTED = 25  # pods listed per node in a failure, largest request first


class PodStuck(RuntimeError):
    """A pod a wait depends on cannot be scheduled or started; the message says which and why."""


@dataclass(frozen=True)
class Stuck:
    namespace: str
    name: str
    uid: str
    reason: str  # Unschedulable, or the container's waiting reason
    message: str  # the scheduler's or the kubelet's
    seconds: float  # how long it has been so (at most: the API keeps no start of a container's waiting)
    container: str = ""  # the container waiting, for a container error

    @property
    def key(self) -> tuple[str, str, str]:
        return self.uid, self.container, SAME_STATE.get(self.reason, self.reason)

    @property
    def pod(self) -> str:
        return f"{self.namespace}/{self.name}"


def timestamp(value: str) -> datetime:
    """An API timestamp (RFC 3339, e.g. 2026-12-04T14:31:13Z)."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _condition(pod: dict[str, Any], kind: str) -> dict[str, Any]:
    return next((c for c in pod.get("status", {}).get("conditions") or [] if c.get("type") == kind), {})


def _ended(pod: dict[str, Any]) -> bool:
    return pod.get("status", {}).get("phase") in ("Succeeded", "Failed")


def stuck_states(pods: Iterable[dict[str, Any]], now: datetime) -> list[Stuck]:
    """Every pod of `pods` (API JSON) that is unschedulable or has a container the kubelet cannot
    start, with how long it has been so at `now`, however short. Pods being deleted are left out."""
    found = []
    for pod in pods:
        meta = pod["metadata"]
        if meta.get("deletionTimestamp") or _ended(pod):
            continue
        ns, name, uid = meta.get("namespace", ""), meta["name"], meta.get("uid", "")
        scheduled = _condition(pod, "PodScheduled")
        if scheduled.get("status") == "False" and scheduled.get("reason") == UNSCHEDULABLE:
            since = timestamp(scheduled.get("lastTransitionTime") or meta["creationTimestamp"])
            found.append(Stuck(ns, name, uid, UNSCHEDULABLE, scheduled.get("message", ""), (now - since).total_seconds()))
            continue
        # A container waits at most since the pod was placed, or since it last ended (a restart).
        placed = timestamp(scheduled.get("lastTransitionTime") or meta["creationTimestamp"])
        status = pod.get("status", {})
        for container in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
            waiting = container.get("state", {}).get("waiting") or {}
            if waiting.get("reason") not in CONTAINER_ERRORS:
                continue
            ended = (container.get("lastState", {}).get("terminated") or {}).get("finishedAt")
            since = max(placed, timestamp(ended)) if ended else placed
            found.append(Stuck(ns, name, uid, waiting["reason"], waiting.get("message", ""),
                               (now - since).total_seconds(), container["name"]))  # fmt: skip
    return found


def pod_request(pod: dict[str, Any], resource: str) -> Decimal:
    """What the scheduler counts a pod as requesting: its containers (and sidecars) together, or its
    largest init container if that is more, plus the pod's overhead."""
    spec = pod["spec"]

    def request(container: dict[str, Any]) -> Decimal:
        return parse_quantity((container.get("resources") or {}).get("requests", {}).get(resource, 0))

    inits = spec.get("initContainers") or []
    sidecars = [c for c in inits if c.get("restartPolicy") == "Always"]
    running = sum((request(c) for c in spec["containers"] + sidecars), Decimal(0))
    one_off = [request(c) for c in inits if c.get("restartPolicy") != "Always"]
    return max([running, *one_off]) + parse_quantity((spec.get("overhead") or {}).get(resource, 0))


def show(resource: str, quantity: Decimal) -> str:
    """A quantity as kubectl would write it: cpu in cores or millicores, bytes in Gi or Mi."""
    if resource == "cpu":
        whole = quantity == quantity.to_integral_value()
        return f"{quantity.normalize():f}" if whole else f"{quantity * 1000:.0f}m"
    if resource in ("memory", "ephemeral-storage"):
        gib = quantity / 2**30
        return f"{gib.normalize():f}Gi" if gib == gib.to_integral_value() and gib >= 1 else f"{quantity / 2**20:.0f}Mi"
    return f"{quantity.normalize():f}"


# The labels Airflow puts on a task's worker pod and on the pod its KubernetesPodOperator launches.
TASK_LABELS = ("dag_id", "task_id", "run_id", "map_index")


def _task(pod: dict[str, Any]) -> tuple[str | None, ...]:
    labels = pod["metadata"].get("labels") or {}
    return tuple(labels.get(k) for k in TASK_LABELS)


def _goes_by_itself(pod: dict[str, Any], pending: dict[str, Any] | None, now: datetime) -> bool:
    """Whether `pod` frees what it requests without anyone acting: it is being deleted (and not stuck
    at that), or it runs to completion (restartPolicy Never or OnFailure: other tasks' worker and task
    pods), unless it is the worker pod of the very task whose pod is `pending`: that one waits for it."""
    deleted = pod["metadata"].get("deletionTimestamp")
    if deleted:
        return (now - timestamp(deleted)).total_seconds() < GONE_SOON_SECONDS
    if pending is not None and _task(pod)[0] is not None and _task(pod) == _task(pending):
        return False
    return pod["spec"].get("restartPolicy", "Always") != "Always"


@dataclass(frozen=True)
class NodeUse:
    node: str
    resource: str
    allocatable: Decimal
    holders: list[tuple[Decimal, str, bool]]  # (request, namespace/name, frees it by itself), largest first

    @property
    def requested(self) -> Decimal:
        return sum((r for r, _, _ in self.holders), Decimal(0))

    @property
    def held(self) -> Decimal:
        """What stays requested when every pod that frees its share by itself has."""
        return sum((r for r, _, goes in self.holders if not goes), Decimal(0))


def node_use(nodes: list[dict[str, Any]], pods: list[dict[str, Any]], resource: str, now: datetime,
             pending: dict[str, Any] | None = None) -> list[NodeUse]:  # fmt: skip
    """Each node's allocatable `resource` and the pods requesting it there (for `pending`, the pod
    that cannot be placed: which of them free their share by themselves)."""
    uses = []
    for node in nodes:
        name = node["metadata"]["name"]
        holders = []
        for pod in pods:
            if pod["spec"].get("nodeName") != name or _ended(pod):
                continue
            request = pod_request(pod, resource)
            if request:
                meta = pod["metadata"]
                holders.append((request, f"{meta.get('namespace', '')}/{meta['name']}", _goes_by_itself(pod, pending, now)))
        holders.sort(key=lambda h: (-h[0], h[1]))
        allocatable = parse_quantity(node.get("status", {}).get("allocatable", {}).get(resource, 0))
        uses.append(NodeUse(name, resource, allocatable, holders))
    return uses


def insufficient(message: str) -> list[str]:
    """The resources a scheduler's message says no node has enough of ("1 Insufficient cpu")."""
    first = message.split(" preemption:")[0]  # what follows is about evicting others, said again
    return sorted(set(re.findall(r"Insufficient ([\w./-]*\w)", first)))


UNTOLERATED = "untolerated taint"
# The taints the node lifecycle controller puts on a node for one of its conditions: what to look at.
CONDITION_TAINTS = {
    "node.kubernetes.io/not-ready": "Ready",
    "node.kubernetes.io/unreachable": "Ready",
    "node.kubernetes.io/disk-pressure": "DiskPressure",
    "node.kubernetes.io/memory-pressure": "MemoryPressure",
    "node.kubernetes.io/pid-pressure": "PIDPressure",
    "node.kubernetes.io/network-unavailable": "NetworkUnavailable",
}


def tolerates(pod: dict[str, Any] | None, taint: dict[str, Any]) -> bool:
    """Whether `pod` tolerates `taint`, as the scheduler matches them (key, operator, value, effect)."""
    for toleration in (pod or {}).get("spec", {}).get("tolerations") or []:
        if toleration.get("effect") and toleration["effect"] != taint.get("effect"):
            continue
        if toleration.get("operator") == "Exists":
            if not toleration.get("key") or toleration["key"] == taint["key"]:
                return True
        elif toleration.get("key") == taint["key"] and toleration.get("value", "") == taint.get("value", ""):
            return True
    return False


def taint_lines(nodes: list[dict[str, Any]], pod: dict[str, Any] | None) -> list[str]:
    """For a pod the scheduler keeps off for an untolerated taint: each node's taints the pod does not
    tolerate, and for one the cluster sets itself, the node condition behind it and its message (a
    node short of disk, or not ready). The scheduler's message only counts the nodes."""
    lines = []
    for node in nodes:
        name = node["metadata"]["name"]
        conditions = {c["type"]: c for c in node.get("status", {}).get("conditions") or []}
        for taint in node.get("spec", {}).get("taints") or []:
            if taint.get("effect") not in ("NoSchedule", "NoExecute") or tolerates(pod, taint):
                continue
            value = f"={taint['value']}" if taint.get("value") else ""
            line = f"node {name}: taint {taint['key']}{value}:{taint['effect']}"
            condition = conditions.get(CONDITION_TAINTS.get(taint["key"], ""))
            if condition is not None:
                line += (f", set by the cluster for condition {condition['type']}={condition.get('status')}"
                         f" ({condition.get('reason', '')}: {condition.get('message', '')})")  # fmt: skip
            lines.append(line)
    return lines


def explain(stuck: list[Stuck], pods: list[dict[str, Any]], nodes: list[dict[str, Any]], now: datetime) -> str | None:
    """One message for the stuck pods (each given by `stuck_states`), or None when every one of them
    is only queued: unschedulable for want of a resource that pods ending by themselves will free.

    `pods` are the cluster's pods (those on the nodes, and the stuck ones); `nodes` its nodes.
    """
    by_uid = {p["metadata"].get("uid", ""): p for p in pods}
    parts = []
    for s in stuck:
        if s.reason != UNSCHEDULABLE:
            parts.append(f"pod {s.pod}: container {s.container} has been waiting with {s.reason} "
                         f"for {s.seconds:.0f} s: {s.message or '(no message)'}")  # fmt: skip
            continue
        lines = [f"pod {s.pod} has been Unschedulable for {s.seconds:.0f} s: {s.message}"]
        pod = by_uid.get(s.uid)
        short = insufficient(s.message)
        fits = {n["metadata"]["name"]: bool(short) and pod is not None for n in nodes}
        for resource in short:
            wanted = pod_request(pod, resource) if pod else None
            asks = f", this pod requests {show(resource, wanted)}" if wanted is not None else ""
            for use in node_use(nodes, pods, resource, now, pod):
                if wanted is None or use.held + wanted > use.allocatable:
                    fits[use.node] = False
                lines.append(f"node {use.node}: {resource} allocatable {show(resource, use.allocatable)}{asks}; "
                             f"{len(use.holders)} pod(s) there request {show(resource, use.requested)}"
                             f"{', largest first' if use.holders else ''}:")  # fmt: skip
                for request, holder, goes in use.holders[:LISTED]:
                    lines.append(f"  {holder}: {show(resource, request)}{' (ends by itself)' if goes else ''}")
                if len(use.holders) > LISTED:
                    lines.append(f"  ... and {len(use.holders) - LISTED} more")
        if UNTOLERATED in s.message:
            lines.extend(taint_lines(nodes, pod))
        if not any(fits.values()):  # else it fits on a node once pods that end by themselves have: queued
            parts.append("\n".join(lines))
    return "\n".join(parts) or None


def diagnose(watched: list[dict[str, Any]], pods: list[dict[str, Any]], nodes: list[dict[str, Any]], now: datetime,
             stuck_seconds: float = STUCK_SECONDS) -> str | None:  # fmt: skip
    """Why the `watched` pods will not start, if one has been stuck for `stuck_seconds`; else None."""
    long = [s for s in stuck_states(watched, now) if s.seconds >= stuck_seconds]
    return explain(long, pods, nodes, now) if long else None


@dataclass
class StuckPodCheck:
    """The stuck-pod check of one wait: call `poll()` on each of the wait's polls; at most every
    CHECK_SECONDS it reads the pods of `namespaces` matching `selector` (or takes the `pods` the
    wait has just read itself) and raises PodStuck when one has been stuck for STUCK_SECONDS, as
    seen by the API's timestamps and by this check both (so a wait that begins after a pod has been
    pending a while, or whose clock differs from the cluster's, still gives it that long).

    Best effort: a read that fails (an API server restarting) skips that round."""

    target: ClusterTarget
    namespaces: tuple[str, ...]  # () for every namespace
    selector: str  # a label selector ("" for every pod of the namespaces)
    waiting_for: str  # what the wait waits for, to begin the failure with
    interval: float = CHECK_SECONDS
    stuck_seconds: float = STUCK_SECONDS
    not_before: datetime | None = None  # leave out pods created earlier (another run's)
    # The DAG run whose pods alone count. The selector reads a DAG's pods; another release's run of the
    # same DAG may launch into the same namespace (a lane beside this one), and may be stuck on purpose.
    run_id: str | None = None
    _next: float = 0.0
    _seen: dict[tuple[str, str, str], datetime] = field(default_factory=dict)

    def poll(self, pods: list[dict[str, Any]] | None = None) -> None:
        if time.monotonic() < self._next:
            return
        self._next = time.monotonic() + self.interval
        try:
            watched = self._read() if pods is None else pods
            now = datetime.now(UTC)
            states = stuck_states(watched, now)
            self._seen = {s.key: self._seen.get(s.key, now) for s in states}
            seen = [replace(state, seconds=min(state.seconds, (now - self._seen[state.key]).total_seconds()))
                    for state in states]  # fmt: skip
            long = [state for state in seen if state.seconds >= self.stuck_seconds]
            if long and self.run_id is not None:
                long = self._of_the_run(long, watched)
            if not long:
                return
            nodes: list[dict[str, Any]] = []
            everything = watched
            if any(state.reason == UNSCHEDULABLE for state in long):
                nodes = self.target.kubectl_json("get", "nodes")["items"]
                everything = self.target.kubectl_json("get", "pods", "-A", "--field-selector",
                                                      "status.phase!=Succeeded,status.phase!=Failed")["items"]  # fmt: skip
            message = explain(long, everything, nodes, now)
        except (subprocess.SubprocessError, json.JSONDecodeError):
            return
        if message:
            raise PodStuck(f"{self.waiting_for}: a pod it needs cannot start\n{message}")

    def _of_the_run(self, stuck: list[Stuck], watched: list[dict[str, Any]]) -> list[Stuck]:
        """The stuck pods labelled with this check's run. Only on this rare path: the label needs the
        provider's own spelling of a run id, and importing it costs seconds."""
        from tests.lib.live_airflow.run_pods import run_label

        label = run_label(self.run_id or "")
        runs = {p["metadata"].get("uid", ""): (p["metadata"].get("labels") or {}).get("run_id") for p in watched}
        return [state for state in stuck if runs.get(state.uid) == label]

    def _read(self) -> list[dict[str, Any]]:
        args = ("-l", self.selector) if self.selector else ()
        items = self.target.kubectl_json("get", "pods", "-A", *args)["items"]
        # The API's timestamps are whole seconds: a pod made in the second the run was queued counts.
        earliest = self.not_before.replace(microsecond=0) if self.not_before else None
        if earliest is not None and earliest.tzinfo is None:
            earliest = earliest.replace(tzinfo=UTC)
        return [p for p in items if (not self.namespaces or p["metadata"].get("namespace") in self.namespaces)
                and (earliest is None or timestamp(p["metadata"]["creationTimestamp"]) >= earliest)]  # fmt: skip
