"""Shared test helpers: locating the repo's tools and rendering the chart once per scenario."""
