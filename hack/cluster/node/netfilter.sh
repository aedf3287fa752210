# Sourced by the node scripts: removing netfilter rules the node's daemons leave behind.
# shellcheck shell=bash

# delete_jumps IPTABLES TABLE REGEX: delete every rule of TABLE's built-in chains whose target
# matches REGEX, by rule number: a saved rule's quoted comments would not survive word splitting.
delete_jumps() {
  local ipt="$1" table="$2" regex="$3" builtin number
  for builtin in PREROUTING INPUT FORWARD OUTPUT POSTROUTING; do
    while number="$("${ipt}" -t "${table}" -L "${builtin}" --line-numbers -n 2>/dev/null |
      awk -v p="${regex}" '$2 ~ p {print $1; exit}')" && [[ -n "${number}" ]]; do
      "${ipt}" -t "${table}" -D "${builtin}" "${number}" || break
    done
  done
}
