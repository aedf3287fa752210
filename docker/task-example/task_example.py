"""The example task the DAG bundle runs in its pods (image airflow-on-k8s/task-example:dev).

It shows what a pod received — the `TEST` Secret value (masked) and the rest of its environment,
such as the keys of ConfigMap `secret` — and, when asked, writes an XCom result to
/airflow/xcom/return.json for KubernetesPodOperator's XCom sidecar. Standard library only.
"""

from __future__ import annotations

import argparse
import calendar
import json
import os
import re
import sys
import time
from pathlib import Path

# Names whose values are never printed in full.
SECRET_NAME = re.compile(r"TEST|PASSWORD|TOKEN|SECRET|KEY|CREDENTIAL", re.IGNORECASE)
# The image's and Kubernetes' own variables: not what the task was given.
SYSTEM_ENV = re.compile(r"^(PATH|HOME|HOSTNAME|LANG|GPG_KEY|PYTHON\w*|KUBERNETES_\w*|\w+_(SERVICE|PORT)\w*|__PYTHON_\w+)$")


def mask(value: str) -> str:
    """Enough to recognise a value, never the value itself."""
    return f"<{len(value)} chars, starts {value[:2]!r}>" if value else "<empty>"


def show_environment(environ: dict[str, str]) -> None:
    test = environ.get("TEST")
    print(f"TEST received: {mask(test)}" if test is not None else "TEST not set (Secret test-env not mounted)")
    for name in sorted(environ):
        if name == "TEST" or SYSTEM_ENV.match(name):
            continue
        value = environ[name]
        print(f"env {name}={mask(value) if SECRET_NAME.search(name) else value}")


def rows_in(partition: str) -> int:
    """A stand-in for real work: the number of days in a YYYY-MM partition."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", partition)
    if not match:
        raise SystemExit(f"error: --partition must look like YYYY-MM, got {partition!r}")
    return calendar.monthrange(int(match[1]), int(match[2]))[1]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partition", default="2026-01", help="the YYYY-MM partition to process")
    parser.add_argument("--xcom", action="store_true", help="write the result as the task's XCom")
    parser.add_argument("--xcom-dir", type=Path, default=Path("/airflow/xcom"), help=argparse.SUPPRESS)
    parser.add_argument("--sleep", type=float, default=0, help="seconds to wait, to stand in for a long job")
    parser.add_argument("--allocate-mib", type=int, default=0, metavar="MIB",
                        help="hold this much memory, touched, to stand in for a memory-hungry job")
    parser.add_argument("--read-dir", type=Path, help="print the files of this directory (a mounted ConfigMap)")
    parser.add_argument("--scratch-dir", type=Path, help="write and read back a file here (an emptyDir)")
    parser.add_argument("--exit-code", type=int, default=0, help="exit with this code (non-zero: fail on purpose)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    show_environment(dict(os.environ))
    result = {"partition": args.partition, "rows": rows_in(args.partition)}
    print(f"processed partition {result['partition']}: {result['rows']} rows")

    if args.read_dir:
        for path in sorted(p for p in args.read_dir.iterdir() if p.is_file()):
            print(f"file {path.name}: {path.read_text().strip()}")
    if args.scratch_dir:
        scratch = args.scratch_dir / "result.json"
        scratch.write_text(json.dumps(result))
        print(f"scratch {scratch}: {scratch.read_text()}")
    if args.allocate_mib:
        held = b"\xa5" * (args.allocate_mib * 2**20)  # every byte written, so every page resident
        print(f"holding {len(held) // 2**20} MiB")
    if args.sleep:
        time.sleep(args.sleep)
    if args.xcom:
        args.xcom_dir.mkdir(parents=True, exist_ok=True)
        (args.xcom_dir / "return.json").write_text(json.dumps(result))
        print(f"xcom written to {args.xcom_dir / 'return.json'}")
    if args.exit_code:
        print(f"exiting with code {args.exit_code} as asked", file=sys.stderr)
    return args.exit_code


if __name__ == "__main__":
    sys.exit(main())
