"""The cluster the e2e tests run on, and this host under it: which cluster and how to reach it, the
local real node and kind, what a cluster leaves on the host, pods run or watched as a user would,
pods that cannot start (so a wait fails early, saying why), reachability between pods and from this
host, and components' peak use read from their cgroups."""
