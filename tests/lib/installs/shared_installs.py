"""One Airflow install per values profile, shared by every test module that asks for that profile.

An install costs a minute or more (database, migrations, every component Ready) and the modules that
only read from it (run DAGs, look at objects) need not pay it each. The node has 2 cores, so only one
shared install is alive at a time: asking for another profile removes the current one first, and the
e2e conftest orders modules so each profile's modules run one after another.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable
from typing import Any


class SharedInstalls:
    def __init__(self) -> None:
        self._key: Hashable | None = None
        self._value: Any = None
        self._stack = contextlib.ExitStack()

    def get(self, key: Hashable, install: Callable[[], contextlib.AbstractContextManager[Any]]) -> Any:
        """The install for `key`, entering `install()` when it is not the one alive (which is removed)."""
        if key != self._key:
            self.close()
            self._value = self._stack.enter_context(install())
            self._key = key
        return self._value

    def close(self) -> None:
        """Remove the install alive, if any."""
        stack, self._stack = self._stack, contextlib.ExitStack()
        self._key, self._value = None, None
        stack.close()
