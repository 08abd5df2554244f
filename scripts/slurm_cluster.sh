#!/usr/bin/env bash
# A real single-node SLURM cluster on this machine, for the SLURM tests and for trying
# `grok sweep --executor slurm` without a cluster at hand.
#   scripts/slurm_cluster.sh up     install the Debian packages when missing (root), start munge,
#                                   slurmctld and slurmd, wait until the node is idle
#   scripts/slurm_cluster.sh down   cancel every job, shut the daemons down
#   scripts/slurm_cluster.sh status print the node state (exit 1 when no cluster answers)
# No systemd, no cgroups, no accounting: the configuration below is the smallest that works in a
# container. State, spool and logs live under $GROK_SLURM_DIR (default /tmp/grok-slurm).
set -euo pipefail

SCRATCH=${GROK_SLURM_DIR:-/tmp/grok-slurm}
CONF=/etc/slurm/slurm.conf
PACKAGES=(slurmctld slurmd slurm-client munge)

say() { echo "slurm_cluster: $*" >&2; }

node_state() { timeout 5 sinfo -h -o %T 2>/dev/null | head -n1; }

install_packages() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null \
     && command -v munged >/dev/null; then
    return 0
  fi
  if [ "$(id -u)" != 0 ]; then say "SLURM is not installed and this is not root: cannot install it"; return 1; fi
  say "installing ${PACKAGES[*]}"
  timeout 600 apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
}

start_munge() {
  if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then return 0; fi
  mkdir -p /run/munge && chown munge:munge /run/munge && chmod 755 /run/munge
  # munged refuses to run as root ("PRNG seed dir is insecure"): start it as its own user.
  runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && return 0; sleep 0.1; done
  say "munged did not start"; return 1
}

write_conf() {
  local host cpus mem
  host=$(hostname -s)
  getent hosts "$host" >/dev/null || echo "127.0.0.1 $host" >> /etc/hosts
  cpus=$(nproc)
  mem=$(slurmd -C 2>/dev/null | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -n1)
  mem=$(( ${mem:-1024} * 95 / 100 ))
  mkdir -p "$SCRATCH"/{state,spool,log} /etc/slurm
  cat > "$CONF" <<CONF
ClusterName=grok
SlurmctldHost=localhost
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
MailProg=/bin/true
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
ReturnToService=2
MinJobAge=3600
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0,bf_interval=1
StateSaveLocation=$SCRATCH/state
SlurmdSpoolDir=$SCRATCH/spool
SlurmctldLogFile=$SCRATCH/log/slurmctld.log
SlurmdLogFile=$SCRATCH/log/slurmd.log
SlurmctldPidFile=$SCRATCH/slurmctld.pid
SlurmdPidFile=$SCRATCH/slurmd.pid
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
}

up() {
  if [ "$(node_state)" = idle ] || [ "$(node_state)" = mixed ] || [ "$(node_state)" = allocated ]; then
    say "already up ($(node_state))"; return 0
  fi
  install_packages
  start_munge
  write_conf
  pgrep -x slurmctld >/dev/null || slurmctld -c
  pgrep -x slurmd >/dev/null || slurmd -c -N "$(hostname -s)"
  for _ in $(seq 150); do
    case "$(node_state)" in idle|mixed|allocated) say "up: node $(hostname -s) $(node_state)"; return 0 ;; esac
    sleep 0.2
  done
  say "the node did not become idle in 30 s (logs: $SCRATCH/log)"; return 1
}

alive() { # PID: a live, non-zombie process
  [ -r "/proc/$1/stat" ] && ! awk '{ exit !($3 == "Z" || $3 == "X") }' "/proc/$1/stat"
}

down() {
  if command -v scancel >/dev/null && [ -n "$(node_state)" ]; then
    # Running steps outlive a slurmd shutdown: cancel every job first.
    squeue -h -o %i | xargs -r scancel --quiet 2>/dev/null || true
    for _ in $(seq 50); do [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break; sleep 0.1; done
    scontrol shutdown 2>/dev/null || true
  fi
  for pidfile in "$SCRATCH/slurmctld.pid" "$SCRATCH/slurmd.pid" /run/munge/munged.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    for _ in $(seq 50); do alive "$pid" || break; kill "$pid" 2>/dev/null || true; sleep 0.1; done
    rm -f "$pidfile"
  done
  say "down"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) s=$(node_state); [ -n "$s" ] && echo "$s" || { echo "no cluster"; exit 1; } ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
