"""The local node enforces NetworkPolicies (kube-router's firewall, hack/cluster/build-kube-router.sh):
without that, every NetworkPolicy test would pass on a network that lets everything through.

A server pod in one namespace, clients in two others: open before any policy, closed by a deny-all
ingress policy, then open again only to the namespace a policy names.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import pytest

from tests.lib.cluster.local_node import NO_POLICY_ENGINE, network_policy_engine
from tests.lib.cluster.reachability import Prober
from tests.lib.cluster.target import ClusterTarget
from tests.lib.installs.release import delete_namespaces

PORT = 8080


def policy(name: str, ingress: list) -> str:
    return json.dumps({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": name},
                       "spec": {"podSelector": {"matchLabels": {"app": "server"}}, "policyTypes": ["Ingress"],
                                "ingress": ingress}})  # fmt: skip


def eventually(check, expected: bool, timeout: float = 30) -> bool:
    """The engine applies a policy change within seconds: poll until `check()` gives `expected`."""
    deadline = time.monotonic() + timeout
    while (answer := check()) != expected and time.monotonic() < deadline:
        time.sleep(1)
    return answer


pytestmark = pytest.mark.skipif(network_policy_engine() is None, reason=NO_POLICY_ENGINE)


@pytest.fixture(scope="module")
def setup(running_containers: ClusterTarget) -> Iterator[dict]:
    target = running_containers
    suffix = uuid.uuid4().hex[:6]
    names = {
        "server": f"netpol-server-{suffix}",
        "friend": f"netpol-friend-{suffix}",
        "stranger": f"netpol-stranger-{suffix}",
    }
    for namespace in names.values():
        target.create_namespace(namespace)
    try:
        Prober(target, names["server"], labels="app=server", name="server").start()
        # busybox httpd serves the probe's working directory; an answer is all that matters.
        target.kubectl(
            "exec", "-n", names["server"], "server", "--", "/busybox", "httpd", "-p", str(PORT), "-h", "/tmp"
        )
        ip = target.kubectl_json("get", "pod", "server", "-n", names["server"])["status"]["podIP"]
        friend = Prober(target, names["friend"]).start()
        stranger = Prober(target, names["stranger"]).start()
        yield {"target": target, "names": names, "ip": ip, "friend": friend, "stranger": stranger}
    finally:
        delete_namespaces(target, *names.values())


class TestPolicyEngine:
    def test_without_a_policy_everyone_connects(self, setup):
        assert setup["friend"].connects(setup["ip"], PORT)
        assert setup["stranger"].connects(setup["ip"], PORT)

    def test_a_deny_all_ingress_policy_is_enforced(self, setup):
        target, server_ns = setup["target"], setup["names"]["server"]
        target.kubectl("apply", "-n", server_ns, "-f", "-", stdin=policy("deny-all", []))
        assert not eventually(lambda: setup["friend"].connects(setup["ip"], PORT), False)
        assert not setup["stranger"].connects(setup["ip"], PORT)

    def test_an_allow_rule_opens_to_the_named_namespace_only(self, setup):
        target, names = setup["target"], setup["names"]
        allow = [{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": names["friend"]}}}],
                  "ports": [{"port": PORT, "protocol": "TCP"}]}]  # fmt: skip
        target.kubectl("apply", "-n", names["server"], "-f", "-", stdin=policy("allow-friend", allow))
        assert eventually(lambda: setup["friend"].connects(setup["ip"], PORT), True)
        assert not setup["stranger"].connects(setup["ip"], PORT)

    def test_removing_the_policies_opens_again(self, setup):
        target, names = setup["target"], setup["names"]
        target.kubectl("delete", "networkpolicy", "--all", "-n", names["server"])
        assert eventually(lambda: setup["stranger"].connects(setup["ip"], PORT), True)
