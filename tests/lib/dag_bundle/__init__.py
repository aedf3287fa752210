"""The DAG bundle (dags/) as Airflow sees it, without a cluster: Airflow set up in this process and
the bundle parsed once, every pod its tasks would launch (built by the provider's own code), and
the objects `make dev-objects` creates for it."""
