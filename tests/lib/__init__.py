"""The suite's shared helpers (tests/README.md lists each room and what it is for)."""
