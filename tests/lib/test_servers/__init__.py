"""What a production install meets outside its release, run by the tests: a PostgreSQL over TLS, an
S3 object store, a git server (https and ssh) and a Prometheus, each in the cluster in a namespace of
its own; the private CA that signs their certificates; and the metrics tools the tests run on this
host (statsd-exporter, promtool, the Prometheus Operator's CRDs)."""
