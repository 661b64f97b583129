"""How many intra-op threads a CPU training process should use, from the CPUs it may run on and
how busy they are right now.

Two OpenMP threads spinning against a third CPU-bound process on two cores slowed an asr epoch
5-10x (42 s alone, 135-236 s beside one other job): a thread that loses its core stalls every
parallel region of the other. So the trainer asks before each epoch: of the CPUs this process
may use (its affinity mask, or cgroup quota), how many are idle? It takes that many threads,
at least one. `train.num_threads: N`, or OMP_NUM_THREADS in the environment, fixes the number
instead; do that when a resumed run must match an uninterrupted one bit for bit, since the
thread count can change the order of floating-point sums.
"""
import math
import os
import time


def usable_cpus():
    """CPUs this process may run on: the affinity mask, capped by a cgroup v2 CPU quota."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        quota, period = open("/sys/fs/cgroup/cpu.max").read().split()
        if quota != "max":
            cpus = min(cpus, max(1, math.floor(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cpus or 1)


def _busy_ticks():
    """(busy, total) jiffies over all CPUs since boot, from /proc/stat.

    Time of niced processes (the `nice` column) counts as free when this process is not niced
    itself: the scheduler gives such a process the CPU first, so its threads do not stall.
    """
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    if os.getpriority(os.PRIO_PROCESS, 0) <= 0:
        idle += fields[1]
    return sum(fields) - idle, sum(fields)


def busy_cpus(interval=0.2):
    """How many CPUs' worth of work other processes are doing (this one is idle meanwhile)."""
    try:
        b0, t0 = _busy_ticks()
        time.sleep(interval)
        b1, t1 = _busy_ticks()
    except (OSError, ValueError, IndexError):
        return 0.0
    if t1 <= t0:
        return 0.0
    return (b1 - b0) / (t1 - t0) * (os.cpu_count() or 1)


def choose_threads(setting="auto"):
    """`setting` as an int, or for 'auto': OMP_NUM_THREADS if set, else the usable CPUs not busy
    with other work (>= 1)."""
    if setting != "auto":
        return int(setting)
    if os.environ.get("OMP_NUM_THREADS", "").isdigit():
        return max(1, int(os.environ["OMP_NUM_THREADS"]))
    cpus = usable_cpus()
    return max(1, min(cpus, round(cpus - busy_cpus())))
