"""The helm and kubectl binaries that `make setup` put in .tools/bin."""

from __future__ import annotations

from pathlib import Path

from tests.lib.paths import TOOLS_BIN

HELM_MAJORS = (3, 4)


class MissingToolError(RuntimeError):
    pass


def tool(name: str) -> Path:
    path = TOOLS_BIN / name
    if not path.exists():
        raise MissingToolError(f"{path} is missing: run `make setup` to install the pinned tools")
    return path


def helm(major: int = 3) -> Path:
    if major not in HELM_MAJORS:
        raise ValueError(f"helm major {major} is not supported; use one of {HELM_MAJORS}")
    return tool(f"helm{major}")


def kubectl() -> Path:
    return tool("kubectl")
