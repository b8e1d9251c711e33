# shellcheck shell=bash
# The kernel-wide sysctls a node changes (kubelet's setupKernelTunables: panic on oops, overcommit, the
# root user's key limits — snipcheck.harness.kube.hoststate.SYSCTLS without the per-network-namespace net.* ones).
# A node inside measure.sh's privileged container writes them on THIS host: the container's own
# journal disappears with the container, so measure.sh keeps the values itself (review M12):
#   host_sysctls_save      records them (before the container runs)
#   host_sysctls_restore   writes back any that changed, naming each (measure.sh's EXIT trap)
# SYSCTL_ROOT (default /proc/sys) exists for the functions' own test (tests/inventory/machinery/test_fresh_machine_sysctls.py).
HOST_SYSCTLS=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
  kernel.keys.root_maxkeys kernel.keys.root_maxbytes)
declare -A HOST_SYSCTLS_SAVED=()

_sysctl_file() { printf '%s/%s' "${SYSCTL_ROOT:-/proc/sys}" "${1//.//}"; }

host_sysctls_save() {
  local key file
  for key in "${HOST_SYSCTLS[@]}"; do
    file=$(_sysctl_file "$key")
    if [ -r "$file" ]; then HOST_SYSCTLS_SAVED[$key]=$(<"$file"); fi
  done
}

host_sysctls_restore() {
  local key file now
  for key in "${!HOST_SYSCTLS_SAVED[@]}"; do
    file=$(_sysctl_file "$key")
    now=$(<"$file")
    if [ "$now" != "${HOST_SYSCTLS_SAVED[$key]}" ]; then
      if printf '%s\n' "${HOST_SYSCTLS_SAVED[$key]}" >"$file"; then
        printf '[fresh-machine] sysctl %s = %s again (the node in the container had set %s)\n' \
          "$key" "${HOST_SYSCTLS_SAVED[$key]}" "$now"
      else
        printf '[fresh-machine] could not put back sysctl %s = %s (it is %s)\n' "$key" "${HOST_SYSCTLS_SAVED[$key]}" "$now" >&2
      fi
    fi
  done
}
