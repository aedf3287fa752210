"""The chart's scripts (charts/airflow/files/scripts), imported, and how its pods call them.

The pods run `python /opt/airflow/chart-scripts/pod_commands.py <command> --flags` (the migration
Job, the `wait-for-migrations` and `jwt-keyset` init containers, the triggerer's and dag-processor's
liveness probe). Here the command a rendered container calls is read back, and run in this
interpreter (the project's Airflow, the image's) through the imported module, as the pod would run
it: with only the env given, an exit code, what it printed, and os.execvp replaced by a stand-in that
prints what Airflow was asked, as a stand-in `airflow` on PATH would.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import sys
import traceback
from dataclasses import dataclass
from typing import Any
from unittest import mock

from tests.lib.paths import CHART
from tests.lib.render import scenarios
from tests.lib.render.chart_objects import containers, init_containers
from tests.lib.render.helm_template import Scenario, render

JOB = "airflow-run-migrations"
SCRIPTS = CHART / "files" / "scripts"
MOUNTED = "/opt/airflow/chart-scripts"  # where each pod that runs a script mounts them
ENTRY = f"{MOUNTED}/pod_commands.py"

# Imported as the pods import them: their folder on sys.path, each module by its own name.
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))
pod_commands = importlib.import_module("pod_commands")
metadata_database = importlib.import_module("metadata_database")
schema_migrations = importlib.import_module("schema_migrations")
job_liveness = importlib.import_module("job_liveness")
jwt_keyset = importlib.import_module("jwt_keyset")
plain_settings = importlib.import_module("plain_settings")
worker_owner = importlib.import_module("worker_owner")


def command_of(args: list[str]) -> list[str]:
    """The command and flags of a container's args or exec command that runs pod_commands.py."""
    assert args[:2] == ["python", ENTRY], args
    return args[2:]


def migrate_command(scenario: Scenario = scenarios.DEFAULT) -> list[str]:
    return command_of(containers(render(scenario).get("Job", JOB))["run-migrations"]["args"])


def wait_command(scenario: Scenario = scenarios.DEFAULT, name: str = "airflow-scheduler") -> list[str]:
    return command_of(init_containers(render(scenario).get("Deployment", name))["wait-for-migrations"]["args"])


@dataclass
class Ran:
    """How a command ended, as a process would have: its exit code and output."""

    returncode: int
    stdout: str
    stderr: str


class _HandedOver(BaseException):
    """os.execvp in a command run here: the process would have become that program. A BaseException,
    so that no `except Exception` of a script catches it."""


def _exec_stand_in(file: str, args: list[str]) -> None:
    print(" ".join(args), flush=True)
    raise _HandedOver(file)


def run_command(argv: list[str], environ: dict[str, str]) -> Ran:
    """`pod_commands.py <argv>` run here with exactly `environ` as its env (os.environ is replaced
    for the run, so libpq reads it too). An exit with a message, or an uncaught exception's
    traceback, goes to stderr with exit code 1, as Python does."""
    out, err = io.StringIO(), io.StringIO()
    with (mock.patch.dict(os.environ, environ, clear=True), mock.patch.object(os, "execvp", _exec_stand_in),
          contextlib.redirect_stdout(out), contextlib.redirect_stderr(err)):  # fmt: skip
        try:
            pod_commands.main(list(argv))
            code = 0
        except _HandedOver:
            code = 0
        except SystemExit as done:
            code = _exit_code(done.code)
        except Exception:  # noqa: BLE001 - what Python does with it at the top: a traceback and exit 1
            traceback.print_exc()
            code = 1
    return Ran(code, out.getvalue(), err.getvalue())


def _exit_code(code: Any) -> int:
    if code is None or isinstance(code, int):
        return code or 0
    print(code, file=sys.stderr)
    return 1
