"""The command line of the chart's scripts: what its pods run before and beside Airflow.

    python /opt/airflow/chart-scripts/pod_commands.py <command> [flags]

The chart ships this folder in the `<release>-scripts` ConfigMap, mounted read-only, file by file,
into that folder of every container that runs a command. Run as a file, not with `-m`: Python puts the file's folder
first on sys.path, so the sibling modules import by name without a PYTHONPATH, which the `airflow`
process some commands hand over to (os.execvp, same environment) would inherit.

Every command is plain Python that imports no Airflow: an Airflow import costs seconds of CPU. Each
says in one line why it fails; exit code 3 is a configuration error no retry fixes, which the
migration Job's podFailurePolicy turns into a failed Job at once. Inputs come from flags and from
the env Airflow reads too (the database URL, the JWT signing kid).
"""

from __future__ import annotations

import argparse
import os
import sys

import job_liveness
import jwt_keyset
import metadata_database
import schema_migrations
from metadata_database import Deadline


def wait_for_database(args: argparse.Namespace) -> None:
    metadata_database.wait_for_database(Deadline(args.timeout), args.metadata_secret)


def check_database_connection(args: argparse.Namespace) -> None:
    deadline = Deadline(args.timeout)
    database = metadata_database.DatabaseUrl.from_environ()
    metadata_database.refuse_tls_parameters(database, args.metadata_secret)
    metadata_database.check_connection(database, deadline, args.metadata_secret)


def migrate(args: argparse.Namespace) -> None:
    """The migration Job: wait for the database, with --check-connection connect once (an external
    database: a refused certificate or password ends the Job in one line), then become `airflow db
    migrate`. One deadline for the wait and the check."""
    deadline = Deadline(args.timeout)
    database = metadata_database.wait_for_database(deadline, args.metadata_secret)
    if args.check_connection:
        metadata_database.check_connection(database, deadline, args.metadata_secret)
    os.execvp("airflow", ["airflow", "db", "migrate"])


def wait_for_migrations(args: argparse.Namespace) -> None:
    """The components' init container: wait for the database, then for the migrations, within one
    deadline."""
    deadline = Deadline(args.timeout)
    database = metadata_database.wait_for_database(deadline, args.metadata_secret)
    schema_migrations.wait_for_migrations(database, deadline, auth_manager=args.auth_manager)


def job_alive(args: argparse.Namespace) -> None:
    job_liveness.job_alive(args.job_type, args.threshold_section, args.threshold_key)


def jwt_keyset_command(args: argparse.Namespace) -> None:
    jwt_keyset.build_keyset(args.source, args.target, os.environ[jwt_keyset.SIGNING_KID_ENV], args.keys_secret)


def own_worker_pods(args: argparse.Namespace) -> None:
    import worker_owner  # here: the commands every component starts with import only what they use

    worker_owner.main(args.source, args.target, args.configmap)


def parser() -> argparse.ArgumentParser:
    commands = argparse.ArgumentParser(prog="pod_commands.py", description=__doc__.split("\n\n")[0])
    sub = commands.add_subparsers(dest="command", required=True)

    def database_command(name: str, run, help_text: str) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=help_text)
        command.add_argument("--timeout", type=int, required=True, help="seconds the whole command may wait")
        command.add_argument("--metadata-secret", required=True,
                             help="the Secret holding the database URL, named in messages (never read)")
        command.set_defaults(run=run)
        return command

    database_command("wait-for-database", wait_for_database, "wait until the metadata database accepts connections")
    database_command("check-database-connection", check_database_connection,
                     "connect once; exit 3 on a refusal no retry fixes")
    migrate_command = database_command("migrate", migrate, "wait for the database, then exec `airflow db migrate`")
    migrate_command.add_argument("--check-connection", action="store_true",
                                 help="connect once before migrating (an external database)")
    migrations = database_command("wait-for-migrations", wait_for_migrations,
                                  "wait for the database, then for the migrations this Airflow needs")
    migrations.add_argument("--auth-manager", choices=["simple", "fab", "custom"], required=True,
                            help="the chart's auth.manager: with a custom one `airflow db check-migrations` decides")

    alive = sub.add_parser("job-alive", help="liveness: this host's job of a type heartbeats in time")
    alive.add_argument("--job-type", required=True, help="TriggererJob or DagProcessorJob")
    alive.add_argument("--threshold-section", required=True, help="airflow.cfg section of the heartbeat threshold")
    alive.add_argument("--threshold-key", required=True, help="its key (30 s unless set)")
    alive.set_defaults(run=job_alive)

    keyset = sub.add_parser("jwt-keyset", help="build jwks.json and signing.pem from the jwt.keys Secret")
    keyset.add_argument("--keys-secret", required=True, help="the Secret's name, for messages")
    keyset.add_argument("source", help="the folder the Secret is mounted at")
    keyset.add_argument("target", help="the folder to write into")
    keyset.set_defaults(run=jwt_keyset_command)

    owned = sub.add_parser("own-worker-pods", help="write the worker pod template owned by its ConfigMap")
    owned.add_argument("--configmap", required=True, help="the pod-template ConfigMap (this pod's namespace)")
    owned.add_argument("source", help="the template as the ConfigMap holds it")
    owned.add_argument("target", help="the file to write, the KubernetesExecutor's pod_template_file")
    owned.set_defaults(run=own_worker_pods)
    return commands


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main(sys.argv[1:])
