#!/usr/bin/env bash
# test_slurm.sh HSWEEP - the Slurm batch scripts against a real single-node Slurm started here
# (private munge socket and key, private ports, state under a temp dir; as root). A sweep longer
# than its one-minute allocation is submitted with slurm/submit.sh: Slurm's USR1 warning (or, if
# Slurm's ~30 s limit check never fires it, scancel --signal=USR1) reaches the batch script, which
# drains hsweep, sees runs left and requeues the job; the requeued job resumes and completes, then
# the dependent analysis job runs. Checks: status 0, every run done exactly once in the log, at
# least two allocations, the analysis written. SKIPs (exit 0) when Slurm cannot be installed.
# Run from the source tree root (ctest sets the working directory). HSWEEP_SLURM_LAUNCHER=srun
# tests srun --mpi=pmix instead of mpirun.
set -u
HS=$(realpath "$1")
. "$(dirname "$0")/../cli/lib.sh"
SRC=$PWD
LAUNCHER=${HSWEEP_SLURM_LAUNCHER:-mpirun}
T0=$(date +%s)
el() { echo $(( $(date +%s) - T0 )); }

skip() { echo "SKIP: test_slurm: $*"; echo "test_slurm: skipped ($*)"; exit 0; }
[ "$(id -u)" = 0 ] || skip "needs root to start slurmctld/slurmd/munged"
if ! command -v slurmctld > /dev/null || ! command -v slurmd > /dev/null || ! command -v munged > /dev/null \
   || ! command -v sbatch > /dev/null; then
  echo "installing munge slurmctld slurmd slurm-client (apt-get)"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq munge slurmctld slurmd slurm-client > /tmp/test_slurm_apt.$$ 2>&1; then
    why=$(tail -3 /tmp/test_slurm_apt.$$ | tr '\n' ' '); rm -f /tmp/test_slurm_apt.$$
    skip "Slurm is not installed and apt-get install failed: $why"
  fi
  rm -f /tmp/test_slurm_apt.$$
fi
for c in slurmctld slurmd munged mungekey sbatch squeue scontrol sinfo; do
  command -v $c > /dev/null || skip "$c not found after install"
done

T=$(mktemp -d /tmp/hsweep-slurm.XXXXXX)
chmod 755 "$T"
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2> /dev/null || break; sleep 0.1; done
    kill -9 "$p" 2> /dev/null
  done
  # jobs' own processes (slurmstepd, mpirun) exit with slurmd; make sure none are left in $T
  rm -rf "$T"
}
trap cleanup EXIT

# ---------------------------------------------------------------- munge + slurm
mkdir -p "$T/munge" "$T/state" "$T/spool" "$T/log" "$T/run" "$T/work"
chmod 755 "$T/munge"
mungekey -c -k "$T/munge/munge.key" > /dev/null 2>&1 || skip "mungekey -c failed"
chmod 600 "$T/munge/munge.key"
SOCK=$T/munge/munge.socket
munged --force --socket="$SOCK" --key-file="$T/munge/munge.key" --pid-file="$T/munge/munged.pid" \
       --log-file="$T/munge/munged.log" --seed-file="$T/munge/munged.seed" \
  || skip "munged did not start: $(tail -2 "$T/munge/munged.log" 2>/dev/null)"
for _ in $(seq 50); do [ -s "$T/munge/munged.pid" ] && break; sleep 0.1; done
PIDS+=("$(cat "$T/munge/munged.pid")")

HOST=$(hostname -s)
CPUS=$(nproc); [ "$CPUS" -lt 2 ] && CPUS=2
# the node's memory as a cluster declares it, and a default per CPU (100 MB) below what a task of
# the test's sweep needs, so that submit.sh must ask for more
MEM_MB=$(awk '/^MemTotal:/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
cat > "$T/slurm.conf" <<EOF
ClusterName=hsweeptest
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$SOCK
CredType=cred/munge
SlurmctldPort=16817
SlurmdPort=16818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
SwitchType=switch/none
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldLogFile=$T/log/slurmctld.log
SlurmdLogFile=$T/log/slurmd.log
SlurmctldPidFile=$T/run/slurmctld.pid
SlurmdPidFile=$T/run/slurmd.pid
SlurmdParameters=config_overrides
ReturnToService=2
JobRequeue=1
KillWait=10
MinJobAge=600
InactiveLimit=0
MailProg=/bin/true
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
PlugStackConfig=$T/plugstack.conf
DefMemPerCPU=100
NodeName=$HOST CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
: > "$T/plugstack.conf"
export SLURM_CONF=$T/slurm.conf
# the job's environment comes from here (sbatch exports it): no inherited SLURM_* from a caller
unset $(env | sed -n 's/^\(SLURM_[A-Z_]*\)=.*/\1/p' | grep -v '^SLURM_CONF$') 2> /dev/null
slurmctld -D -i > "$T/log/slurmctld.out" 2>&1 & PIDS+=($!)
slurmd -D > "$T/log/slurmd.out" 2>&1 & PIDS+=($!)
idle=0
for _ in $(seq 150); do
  if sinfo -h -o '%T' 2> /dev/null | grep -q idle; then idle=1; break; fi
  sleep 0.2
done
if [ $idle = 1 ]; then ok "single-node Slurm up, node idle after $(el) s"
else
  bad "Slurm node not idle after 30 s" "$(sinfo 2>&1; tail -5 "$T/log/slurmctld.log" "$T/log/slurmd.log" 2>&1)"
  finish; exit 1
fi

# ---------------------------------------------------------------- the sweep
# 80 runs with the separation measured (so the analysis has data): ~55 s on 2 quiet ranks of an
# AVX-512 core (at 20 epochs they took 27 s, and the sweep could end before USR1 came), longer than
# the first allocation can last (60 s) with --time=1 --signal=B:USR1@50 (USR1 arrives when Slurm's
# ~30 s check sees fewer than 50 s left, i.e. some 10-40 s after the start).
SPEC=$T/work/slurm-sweep.yaml
cat > "$SPEC" <<EOF
name: slurm-test
base:
  data: {kind: gaussian, classes: 4, dim: 32, per_class: 1500}
  model: {width: 256, depth: 2}
  train: {opt: sgd, lr: 0.02, epochs: 40, batch: 32}
  record: {every: 10, separation: final}
product:
  seed: [$(seq -s ', ' 1 80)]
EOF
OUTF=$T/work/sweep.h5
NRUNS=$("$HS" plan "$SPEC" --format tsv | tail -n +2 | wc -l)
[ "$NRUNS" = 80 ] && ok "spec expands to 80 runs" || bad "spec expands to $NRUNS runs"

cd "$T/work" || exit 1   # job output files land here
check "submit.sh submits the sweep and the analysis" 0 \
  env HSWEEP="$HS" LAUNCHER="$LAUNCHER" SBATCH_EXTRA="--signal=B:USR1@50 --output=$T/work/sweep-%j.out" \
      SBATCH_ANALYZE_EXTRA="--output=$T/work/analyze-%j.out" \
      bash "$SRC/slurm/submit.sh" "$SPEC" "$OUTF" 2 1
echo "$OUT" | sed 's/^/       /'
JID=$(echo "$OUT" | sed -n 's/^sweep job: *\([0-9]*\).*/\1/p')
AJID=$(echo "$OUT" | sed -n 's/^analysis job: *\([0-9]*\).*/\1/p')
if [ -z "$JID" ] || [ -z "$AJID" ]; then finish; exit 1; fi

jobfield() { scontrol show job "$1" 2> /dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1; }
asked=$(echo "$OUT" | sed -n 's/.*asking --mem-per-cpu=\([0-9]*M\).*/\1/p')
got=$(jobfield "$JID" MinMemoryCPU)
[ -n "$asked" ] && [ "$got" = "$asked" ] && ok "memory per CPU above the default: asked $asked, the job has $got" \
  || bad "memory per CPU: asked '$asked', the job has '$got'" "$OUT"
released=-1 forced=0 t_start= t_pend=
deadline=$(( $(date +%s) + 360 ))
while [ "$(date +%s)" -lt $deadline ]; do
  st=$(jobfield "$JID" JobState) rs=$(jobfield "$JID" Restarts) ast=$(jobfield "$AJID" JobState)
  case "$ast" in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL) break ;; esac
  if [ "$st" = RUNNING ] && [ "${rs:-0}" = 0 ]; then
    [ -z "$t_start" ] && t_start=$(date +%s) && echo "  .. sweep job $JID running at $(el) s"
    # fallback: the time-limit warning did not come within 75 s of the start
    if [ $forced = 0 ] && [ $(( $(date +%s) - t_start )) -ge 75 ] && ! grep -q 'caught' sweep-"$JID".out 2> /dev/null; then
      echo "  .. no USR1 from the time limit after 75 s: scancel --signal=USR1 --batch $JID"
      scancel --signal=USR1 --batch "$JID"; forced=1
    fi
  fi
  # A requeued job waits ~2 min (BeginTime) because slurmd revokes the old allocation's
  # credential and compares whole seconds: a start in the same second as the revocation is killed
  # as "Job credential revoked". Release it a few seconds after it turned pending and had no
  # allocation left (not COMPLETING), with room to finish this time.
  if [ "$st" = PENDING ] && [ "${rs:-0}" -gt 0 ] && [ "$released" != "$rs" ]; then
    if ! scontrol show job "$JID" 2> /dev/null | grep -q 'COMPLETING'; then
      [ -z "$t_pend" ] && t_pend=$(date +%s)
      if [ $(( $(date +%s) - t_pend )) -ge 3 ]; then
        echo "  .. sweep job requeued (restart $rs) at $(el) s: releasing it"
        scontrol update JobId="$JID" StartTime=now TimeLimit=10 && released=$rs t_pend=
      fi
    fi
  fi
  sleep 1
done
echo "  .. jobs finished at $(el) s: sweep $(jobfield "$JID" JobState) (restarts $(jobfield "$JID" Restarts)), analysis $(jobfield "$AJID" JobState)"
echo "  ---- sweep job output"; sed 's/^/       /' sweep-"$JID".out 2> /dev/null | grep -v '^ *$' | tail -40
echo "  ---- analysis job output"; sed 's/^/       /' analyze-"$AJID".out 2> /dev/null | tail -15

# ---------------------------------------------------------------- checks
[ "$(jobfield "$JID" JobState)" = COMPLETED ] && ok "sweep job completed" || bad "sweep job: $(jobfield "$JID" JobState)"
[ "$(jobfield "$AJID" JobState)" = COMPLETED ] && ok "analysis job completed" \
  || bad "analysis job: $(jobfield "$AJID" JobState)" "$(tail -5 "$T/log/slurmctld.log")"
check "hsweep status: complete" 0 "$HS" status "$OUTF"
ids=$("$HS" plan "$SPEC" --format tsv | tail -n +2 | cut -f1)
n1=0 nbad=0
for id in $ids; do
  c=$(grep -c " $id done " "$OUTF.log" 2> /dev/null)
  if [ "$c" = 1 ]; then n1=$((n1 + 1)); else nbad=$((nbad + 1)); [ $nbad -le 3 ] && echo "       $id done $c times"; fi
done
[ $nbad = 0 ] && [ $n1 = 80 ] && ok "every run done exactly once in the log" || bad "$nbad runs not done exactly once"
allocs=$(grep -c 'allocation [0-9]* (SLURM_RESTART_COUNT' sweep-"$JID".out 2> /dev/null)
[ "${allocs:-0}" -ge 2 ] && ok "$allocs allocations (requeued)" || bad "only ${allocs:-0} allocation(s): no requeue"
contains "2nd allocation has SLURM_RESTART_COUNT=1" "$(cat sweep-"$JID".out 2>/dev/null)" "SLURM_RESTART_COUNT=1)"
contains "the batch script caught USR1" "$(cat sweep-"$JID".out 2>/dev/null)" "caught USR1"
contains "runs left, requeued" "$(cat sweep-"$JID".out 2>/dev/null)" "requeued job $JID"
# mpirun lingers 2 x odls_base_sigkill_timeout (50 s) after the ranks' exit 3; the script goes on
contains "went on once the lock was released" "$(cat sweep-"$JID".out 2>/dev/null)" "released its lock after USR1"
contains "resumed with --resume" "$(cat sweep-"$JID".out 2>/dev/null)" "-o $OUTF --resume"
if [ $forced = 0 ]; then ok "the time-limit warning (--signal=B:USR1@50) fired by itself"
else echo "  note: USR1 was sent with scancel (the time limit did not fire within 75 s)"; fi
[ -s "$T/work/sweep.equisep.csv" ] && ok "analysis table sweep.equisep.csv written" \
  || bad "no sweep.equisep.csv" "$(ls "$T/work")"
echo "test_slurm: wall time $(el) s"
finish
