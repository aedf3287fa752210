"""The suite's own machinery: how its tests are ordered and spread over two pytest-xdist lanes on a
2-core node, where each run's time goes (per module), and the fault report the e2e tests fill.
Nothing outside the suite imports this room: bench reads the records it writes (tests/lib/paths.py)."""
