"""The chart installed on a cluster as a user installs it: one release of values/dev.yaml in fresh
namespaces, values/prod.yaml with the services it expects outside the release and the Secrets its
comments tell a user to create, and one install per values profile shared by the e2e modules."""
