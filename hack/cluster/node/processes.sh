# Sourced by the node scripts: start, find and stop the node's daemons by pid file.
# shellcheck shell=bash

PID_DIR="${NODE_RUN}/pids"

# pid_of NAME: the pid of daemon NAME if it is running the binary it was started from, else nothing.
pid_of() {
  local name="$1" pid exe
  pid="$(cat "${PID_DIR}/${name}.pid" 2>/dev/null)" || return 0
  exe="$(cat "${PID_DIR}/${name}.exe" 2>/dev/null)" || return 0
  [[ -n "${pid}" && "$(readlink "/proc/${pid}/exe" 2>/dev/null)" == "${exe}" ]] && echo "${pid}"
  return 0
}

is_running() { [[ -n "$(pid_of "$1")" ]]; }

# start_daemon NAME BINARY ARGS...: run BINARY in its own session, log to NODE_LOGS/NAME.log (the
# previous run's log kept as NAME.log.1), and record its pid and executable.
start_daemon() {
  local name="$1" binary="$2"
  shift 2
  mkdir -p "${PID_DIR}" "${NODE_LOGS}"
  [[ -f "${NODE_LOGS}/${name}.log" ]] && mv -f "${NODE_LOGS}/${name}.log" "${NODE_LOGS}/${name}.log.1"
  setsid "${binary}" "$@" >"${NODE_LOGS}/${name}.log" 2>&1 </dev/null &
  echo $! >"${PID_DIR}/${name}.pid"
  readlink -f "${binary}" >"${PID_DIR}/${name}.exe"
}

# stop_daemon NAME: SIGTERM, up to 10 s for it to exit, then SIGKILL.
stop_daemon() {
  local name="$1" pid i
  pid="$(pid_of "${name}")"
  if [[ -n "${pid}" ]]; then
    kill "${pid}" 2>/dev/null || true
    for ((i = 0; i < 40; i++)); do kill -0 "${pid}" 2>/dev/null || break; sleep 0.25; done
    kill -9 "${pid}" 2>/dev/null || true
  fi
  rm -f "${PID_DIR}/${name}.pid" "${PID_DIR}/${name}.exe"
}

# log_tail NAME: the last lines of a daemon's log, for error messages.
log_tail() { tail -n "${2:-5}" "${NODE_LOGS}/$1.log" 2>/dev/null | sed 's/^/    /'; }
