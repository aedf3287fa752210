#!/bin/sh
# Starts the git server. Mounted by the pod (Secrets):
#   /etc/git-server/tls/tls.crt, tls.key       the https certificate (a kubernetes.io/tls Secret)
#   /etc/git-server/users/users                lines `user:password` allowed over https
#   /etc/git-server/ssh/ssh_host_ed25519_key   the ssh host key (its public half goes in clients' known_hosts)
#   /etc/git-server/ssh/authorized_keys        public keys allowed over ssh
# Arguments: the bare repositories to create in /srv/git if missing (default: dags.git), empty,
# with `main` as their default branch; push to them to fill them.
set -eu
[ $# -gt 0 ] || set -- dags.git
for repo in "$@"; do
  [ -d "/srv/git/${repo}" ] || git init --quiet --bare --initial-branch=main "/srv/git/${repo}"
  # Pushes over https come from authenticated users only (lighttpd requires auth on every request).
  git -C "/srv/git/${repo}" config http.receivepack true
done
# sshd refuses keys others may read; Secret mounts are root-owned, so copy them out.
mkdir -p /tmp/ssh && chmod 700 /tmp/ssh
cp /etc/git-server/ssh/ssh_host_ed25519_key /etc/git-server/ssh/authorized_keys /tmp/ssh/
chmod 600 /tmp/ssh/ssh_host_ed25519_key /tmp/ssh/authorized_keys
/usr/sbin/sshd -D -e -f /etc/git-server/sshd_config &
sshd_pid=$!
lighttpd -D -f /etc/git-server/lighttpd.conf &
http_pid=$!
# Either server exiting ends the container, so the kubelet restarts it.
while kill -0 "${sshd_pid}" 2>/dev/null && kill -0 "${http_pid}" 2>/dev/null; do sleep 2; done
echo "git-server: $(kill -0 "${sshd_pid}" 2>/dev/null && echo lighttpd || echo sshd) exited" >&2
exit 1
