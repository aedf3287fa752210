# kube-proxy for the kind node image built here (node-image.sh): the binary built from source
# (hack/cluster/build.sh) on Debian bookworm, with the netfilter tools its nftables and iptables
# modes call. Upstream's image is distroless-iptables, which no registry serves here.
ARG DEBIAN_IMAGE=debian:bookworm-slim
FROM ${DEBIAN_IMAGE}
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nftables iptables conntrack \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
COPY kube-proxy /usr/local/bin/kube-proxy
ENTRYPOINT ["/usr/local/bin/kube-proxy"]
