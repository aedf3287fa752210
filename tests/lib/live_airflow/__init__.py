"""An installed Airflow, used as its users use it: the REST API through the official client, the UI
in a headless browser, the pods a DAG run makes, and what a component's liveness probe costs."""
