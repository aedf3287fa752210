"""`make bench`: what the repo costs, measured. See README.md, section "Benchmarks"."""
