# kind's base image, rebuilt here from Debian bookworm's packages for hosts no registry serves
# (node-image.sh). Upstream builds containerd, runc, crictl and the CNI plugins from GitHub; this one
# takes Debian's containerd 1.6, runc 1.1 and CNI plugins (kind's containerd config is in v2 format,
# which 1.6 reads). kind's own files (entrypoint, systemd units, containerd config, /kind/bin) come
# from the kind module the cluster script installs: node-image.sh stages them as `files/` with
# kind's modes, since Debian's Docker 20.10 builder has no `COPY --chmod`.
ARG DEBIAN_IMAGE=debian:bookworm-slim
FROM ${DEBIAN_IMAGE}
# The pod sandbox image node-image.sh imports (the pause binary built here), in place of kind's.
ARG PAUSE_IMAGE=registry.k8s.io/pause:3.10

COPY files/usr/local/bin/clean-install /usr/local/bin/clean-install
# The packages kind's base installs, plus the runtime Debian packages in place of upstream's builds.
RUN DEBIAN_FRONTEND=noninteractive /usr/local/bin/clean-install \
      systemd \
      conntrack iptables nftables iproute2 ethtool util-linux mount kmod \
      libseccomp2 pigz fuse-overlayfs \
      nfs-common \
      bash ca-certificates curl jq procps \
      containerd runc containernetworking-plugins

# kind's files after the packages, so dpkg finds no configuration of ours in its way.
COPY files/ /
RUN chmod 755 /kind/bin \
    && find /lib/systemd/system/sysinit.target.wants/ -name "systemd-tmpfiles-setup.service" -delete \
    && rm -f /lib/systemd/system/multi-user.target.wants/* /etc/systemd/system/*.wants/* \
      /lib/systemd/system/local-fs.target.wants/* /lib/systemd/system/sockets.target.wants/*udev* \
      /lib/systemd/system/sockets.target.wants/*initctl* /lib/systemd/system/basic.target.wants/* \
    && echo "ReadKMsg=no" >>/etc/systemd/journald.conf \
    && ln -s "$(which systemd)" /sbin/init \
    # kind's units and scripts call these where its own builds put them.
    && ln -s /usr/bin/containerd /usr/local/bin/containerd \
    && ln -s /usr/bin/ctr /usr/local/bin/ctr \
    && mkdir -p /opt/cni/bin && ln -s /usr/lib/cni/* /opt/cni/bin/ \
    && systemctl enable kubelet.service containerd.service undo-mount-hacks.service \
    && systemctl mask systemd-binfmt.service \
    && mkdir -p /etc/kubernetes/manifests \
    # The containers' base spec, as kind makes it: its product-files hook, no rlimits.
    && ctr oci spec \
      | jq '.hooks.createContainer[.hooks.createContainer | length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' \
      | jq 'del(.process.rlimits)' >/etc/containerd/cri-base.json \
    # A host that withholds CAP_SYS_RESOURCE (as this project's machines do) refuses negative OOM
    # scores: clamp them instead of failing every container.
    && sed -i -e 's/restrict_oom_score_adj = false/restrict_oom_score_adj = true/' \
      -e "s#sandbox_image = .*#sandbox_image = \"${PAUSE_IMAGE}\"#" /etc/containerd/config.toml

ENV container=docker
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]
