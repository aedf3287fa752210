"""The api-server's reader of remote task logs (the chart's logs.remote, mounted only there).

The amazon provider's S3RemoteLogIO, except when the store cannot be reached: Airflow 3.3.2 with the
provider's 9.39 then fails the whole log request (HTTP 500, nothing shown in the UI). Here the read
says instead where the log was meant to be and what the store answered, and Airflow goes on to its
other sources. Writers (worker pods, the triggerer) keep the provider's own class.
"""

from __future__ import annotations

import os

from airflow.config_templates.airflow_local_settings import DEFAULT_LOGGING_CONFIG
from airflow.providers.amazon.aws.log.s3_task_handler import S3RemoteLogIO

# Airflow's logging is unchanged: only the remote reader below differs.
LOGGING_CONFIG = DEFAULT_LOGGING_CONFIG


class StoreReportingS3RemoteLogIO(S3RemoteLogIO):
    """S3RemoteLogIO whose read reports an unreachable store in the log instead of raising."""

    def read(self, relative_path, ti):
        try:
            return super().read(relative_path, ti)
        except Exception as error:  # noqa: BLE001 - any failure of the store is reported, not raised
            where = os.path.join(self.remote_base, relative_path)
            self.log.warning("Could not read remote log %s: %s", where, error)
            return [f"Could not read this task's log from {where}: the log store did not answer "
                    f"({type(error).__name__}: {error})"], None


REMOTE_TASK_LOG = StoreReportingS3RemoteLogIO.from_config()
