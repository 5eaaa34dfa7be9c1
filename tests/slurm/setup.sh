#!/usr/bin/env bash
# Start a real single-node SLURM (slurmctld + slurmd + munged from Debian) for the SLURM suite
# (tests/tests/slurm.rs). Idempotent: installs the packages only when missing, reuses running
# daemons, and writes the config into a scratch directory. Needs root (no systemd: the daemons
# are started by hand). Facts behind each step: ../shared/notes/slurm.md.
#
# Usage: tests/slurm/setup.sh [STATE_DIR]   (default /tmp/squadkit-slurm)
#        tests/slurm/setup.sh --install     (only the apt packages; used by .ci/run)
# Prints `SLURM_CONF=<file>` on its last line when the cluster is idle and ready.
set -euo pipefail

install() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null && command -v munged >/dev/null; then
    return 0
  fi
  if [ "$(id -u)" != 0 ]; then echo "setup.sh: slurm is not installed and this is not root" >&2; return 1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends slurm-wlm slurmctld slurmd slurm-client munge >&2 \
    || { apt-get update >&2 && apt-get install -y --no-install-recommends slurm-wlm slurmctld slurmd slurm-client munge >&2; }
}

if [ "${1:-}" = "--install" ]; then install; exit 0; fi
STATE="${1:-/tmp/squadkit-slurm}"
install
if [ "$(id -u)" != 0 ]; then echo "setup.sh: the daemons must run as root" >&2; exit 1; fi

# munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
  [ -f /etc/munge/munge.key ] || { dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key; }
  runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
  munge -n | unmunge >/dev/null
fi

HOST="$(hostname -s)"
CPUS="$(nproc)"
MEM_MB="$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)"
CONF="$STATE/slurm.conf"
export SLURM_CONF="$CONF"

running() { [ -f "$STATE/$1.pid" ] && kill -0 "$(cat "$STATE/$1.pid")" 2>/dev/null; }

if ! (running slurmctld && running slurmd && sinfo -h -o %t 2>/dev/null | grep -qE 'idle|mix|alloc'); then
  for d in slurmctld slurmd; do running "$d" && kill "$(cat "$STATE/$d.pid")" 2>/dev/null || true; done
  sleep 0.5
  rm -rf "$STATE"
  mkdir -p "$STATE/state" "$STATE/spool"
  cat > "$CONF" <<EOF
ClusterName=squadkit
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/state
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
SchedulerParameters=bf_interval=5
ReturnToService=2
EnforcePartLimits=ALL
MailProg=/bin/true
AuthInfo=cred_expire=10
GresTypes=gpu
NodeName=$HOST CPUs=$CPUS RealMemory=$MEM_MB Gres=gpu:a100:1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  echo "NodeName=$HOST Name=gpu Type=a100 File=/dev/null" > "$STATE/gres.conf"
  /usr/sbin/slurmctld -f "$CONF"
  /usr/sbin/slurmd -f "$CONF"
  ok=
  for _ in $(seq 150); do
    if sinfo -h -o %t 2>/dev/null | grep -q idle; then ok=1; break; fi
    sleep 0.2
  done
  if [ -z "$ok" ]; then
    echo "setup.sh: the node did not become idle; sinfo says: $(sinfo -h -o '%t %E' 2>&1)" >&2
    tail -5 "$STATE/slurmctld.log" "$STATE/slurmd.log" >&2 || true
    exit 1
  fi
fi
echo "SLURM_CONF=$CONF"
