#!/usr/bin/env bash
# Usage: hack/images/dockerd.sh start|stop|status|env
# A Docker daemon for building this repo's images when the user has none: Debian's dockerd, run
# privately (its own socket, no iptables, no bridge) with its layers kept in the cache so a rebuild
# reuses them. A user's own daemon (`docker info` works) is always preferred and never touched.
#   start   use the user's daemon if reachable, else start the private one; prints `DOCKER_HOST=...`
#   stop    stop the private daemon and unmount what it left (a no-op when it is not running)
#   status  exit 0 when the private daemon answers
#   env     print the DOCKER_HOST of the private daemon
set -o errexit -o nounset -o pipefail
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

DATA_ROOT="${CACHE}/docker"            # image layers and build cache: survive a stop
RUN_DIR=/run/airflow-on-k8s/docker     # sockets, pid file, its containerd's state: gone on stop
SOCKET="${RUN_DIR}/docker.sock"
PID_FILE="${RUN_DIR}/dockerd.pid"
LOG="${CACHE}/logs/dockerd.log"
# Debian's client speaks this daemon's API; another docker on PATH may be a newer one without BuildKit.
DOCKER_CLI=/usr/bin/docker
# The daemon writes these outside its own directories; they are removed on stop when it made them.
TRUST_KEY=/etc/docker/key.json
MADE_HERE="${CACHE}/docker-made-outside"

private_up() { [[ -S "${SOCKET}" ]] && DOCKER_HOST="unix://${SOCKET}" "${DOCKER_CLI}" info >/dev/null 2>&1; }

# Unmount whatever a killed daemon left under its directories (overlay mounts of build steps, netns).
unmount_leftovers() {
  local dir mnt
  for dir in "${RUN_DIR}" "${DATA_ROOT}"; do
    awk -v d="${dir}/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r mnt; do
      umount -l "${mnt}" 2>/dev/null || true
    done
  done
}

start() {
  local path i
  if docker info >/dev/null 2>&1; then
    echo "dockerd: using the Docker daemon already reachable (${DOCKER_HOST:-default socket})" >&2
    echo "DOCKER_HOST=${DOCKER_HOST:-}"
    return
  fi
  if private_up; then
    echo "DOCKER_HOST=unix://${SOCKET}"
    return
  fi
  [[ "$(uname -s)" == Linux ]] || die "no Docker daemon reachable: start Docker (or point DOCKER_HOST at one), then retry"
  [[ "$(id -u)" == 0 ]] || die "no Docker daemon reachable, and starting a private one needs root: start Docker, or run as root"
  if ! command -v dockerd >/dev/null || [[ ! -x "${DOCKER_CLI}" ]]; then
    die "no Docker daemon reachable and dockerd is not installed: run hack/cluster/packages.sh (installs docker.io), or start Docker"
  fi
  # A daemon killed with -9 leaves its pid file, sockets and mounts: clear them first.
  stop_private quiet
  mkdir -p "${DATA_ROOT}" "${RUN_DIR}" "$(dirname "${LOG}")"
  for path in "${TRUST_KEY}" /etc/docker /run/docker /run/runc; do
    [[ -e "${path}" ]] || echo "${path}"
  done >>"${MADE_HERE}"
  echo "dockerd: starting a private Docker daemon for image builds (layers cached in ${DATA_ROOT})" >&2
  # --bridge=none and --iptables=false: builds use the host network and the daemon changes no firewall.
  # Its containers run through runc-bounded: a --privileged one (a kind node) would otherwise ask
  # for capabilities the host withholds. Networks kind creates still work (plain Linux bridges); its published API server port goes through
  # the userland proxy, as no NAT rule is written.
  setsid dockerd \
    --host "unix://${SOCKET}" --data-root "${DATA_ROOT}" --exec-root "${RUN_DIR}/exec" --pidfile "${PID_FILE}" \
    --storage-driver overlay2 --bridge none --iptables=false --ip6tables=false --ip-forward=false \
    --ip-masq=false --userland-proxy=true --log-level warn \
    --add-runtime "bounded-runc=$(cd "$(dirname "$0")" && pwd)/runc-bounded" --default-runtime bounded-runc \
    >>"${LOG}" 2>&1 </dev/null &
  for ((i = 0; i < 120; i++)); do
    private_up && { echo "DOCKER_HOST=unix://${SOCKET}"; return; }
    sleep 0.5
  done
  die "the private dockerd did not answer within 60 s; last lines of ${LOG}: $(tail -n 5 "${LOG}" | tr '\n' ' ')"
}

# Processes of the daemon's containers that outlived it: when dockerd and the shims are killed
# with -9, a container's processes (a kind node's systemd and everything under it) keep running.
# They are found by the cgroups the daemon made (/docker/<id> under each hierarchy), killed, and
# those cgroups removed.
kill_container_leftovers() {
  local container id dir pids
  [[ -d "${DATA_ROOT}/containers" ]] || return 0
  for container in "${DATA_ROOT}/containers"/*; do
    [[ -e "${container}" ]] || continue # none: the pattern itself
    id="${container##*/}"
    for dir in /sys/fs/cgroup/*/docker/"${id}" /sys/fs/cgroup/docker/"${id}"; do
      [[ -d "${dir}" ]] || continue
      for _ in 1 2 3 4 5; do
        pids="$(find "${dir}" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u)"
        [[ -n "${pids}" ]] || break
        # shellcheck disable=SC2086 # one pid per word
        kill -9 ${pids} 2>/dev/null || true
        sleep 0.5
      done
      find "${dir}" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    done
  done
}

stop_private() {
  local pid dir
  pid="$(cat "${PID_FILE}" 2>/dev/null || true)"
  if [[ -n "${pid}" ]] && kill -0 "${pid}" 2>/dev/null; then
    kill "${pid}" 2>/dev/null || true
    for _ in $(seq 60); do kill -0 "${pid}" 2>/dev/null || break; sleep 0.5; done
    kill -9 "${pid}" 2>/dev/null || true
  fi
  # Its own containerd and shims, when the daemon itself was killed before it could stop them.
  pkill -9 -f -- "containerd --config ${RUN_DIR}/exec/containerd/containerd.toml" 2>/dev/null || true
  pkill -9 -f -- "containerd-shim.* -address ${RUN_DIR}/" 2>/dev/null || true
  kill_container_leftovers
  unmount_leftovers
  rm -rf "${RUN_DIR}"
  rmdir "$(dirname "${RUN_DIR}")" 2>/dev/null || true
  # Its trust key and runtime directories, only where no other daemon had them before ours.
  if [[ -f "${MADE_HERE}" ]]; then
    if grep -qxF "${TRUST_KEY}" "${MADE_HERE}"; then rm -f "${TRUST_KEY}"; fi
    # Deepest first: /etc/docker after its key, /run/docker after its plugins folder.
    grep -vxF "${TRUST_KEY}" "${MADE_HERE}" | sort -ur | while read -r dir; do
      find "${dir}" -depth -type d -empty -delete 2>/dev/null || true
    done
    rm -f "${MADE_HERE}"
  fi
  [[ "${1:-}" == quiet ]] || echo "dockerd: private daemon stopped" >&2
}

# The client's own state (BuildKit's node id) in the cache, not in ~/.docker.
export DOCKER_CONFIG="${CACHE}/docker-cli"

case "${1:-}" in
  start) start ;;
  stop) stop_private ;;
  status) private_up ;;
  env) echo "DOCKER_HOST=unix://${SOCKET}" ;;
  -h | --help) usage ;;
  *) usage_error "one argument, start, stop, status or env" ;;
esac
