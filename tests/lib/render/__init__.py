"""The chart as it ships, read offline: rendered by the real helm once per values scenario, the
scenarios themselves, queries into the rendered objects, the scripts and NOTES.txt it renders, its
dashboard's PromQL, and the corpus of values it must refuse. Nothing here needs a cluster."""
