"""The test suite as a package, so its helpers import as `tests.lib` from the repository root
(pytest's `pythonpath` setting, and `python -m bench` run from there). tests/README.md maps it."""
