"""The api-server's webserver_config.py for `auth.manager: fab` with `auth.fab.oidc`: FAB's sign-in
settings, made by airflow_on_k8s_fab_oidc (files/fab_oidc.py) from the chart's values. FAB reads the
upper-case names of this file ([fab] config_file)."""

from airflow_on_k8s_fab_oidc import webserver_config

globals().update(webserver_config())
