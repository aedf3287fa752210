"""Airflow's settings read in plain Python, as Airflow reads them: its env variable, its _CMD or _SECRET
variant, else airflow.cfg in AIRFLOW_HOME. Importing Airflow to ask it costs seconds of CPU; the
chart's scripts need a few settings only, and hand over to Airflow itself when a setting is out of
their reach.
"""

from __future__ import annotations

import configparser
import os

# Where every Airflow container of the chart gets the metadata database's URL (from its Secret).
DATABASE_URL_ENV = "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"


def airflow_home() -> str:
    return os.environ.get("AIRFLOW_HOME", "/opt/airflow")


def setting(section: str, key: str, default: str | None = None) -> str | None:
    """`[section] key` as Airflow reads it. A value Airflow would get by running a command or from a
    secrets backend (`_cmd`, `_secret`) is not looked up: the answer is then "(from cmd)" or
    "(from secret)", which a caller takes as "set, in a way only Airflow can read"."""
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(os.path.join(airflow_home(), "airflow.cfg"))
    name = f"AIRFLOW__{section.upper()}__{key.upper()}"
    for variant in ("_CMD", "_SECRET"):
        if name + variant in os.environ or cfg.has_option(section, key + variant.lower()):
            return f"(from {variant[1:].lower()})"
    return os.environ.get(name, cfg.get(section, key, fallback=default))


def plain_url_misses() -> str | None:
    """Why a connection made from the plain URL may not be the one Airflow makes (engine or connect
    args, a local settings module that may replace the engine), or None. The scripts hand over to
    Airflow itself then."""
    for key in ("sql_alchemy_connect_args", "sql_alchemy_engine_args"):
        if setting("database", key):
            return f"[database] {key} is set"
    if os.path.exists(os.path.join(airflow_home(), "config", "airflow_local_settings.py")):
        return "airflow_local_settings.py may change how Airflow connects"
    return None
