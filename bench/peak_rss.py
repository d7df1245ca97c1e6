"""Memory of a process tree, read from /proc (Linux only, standard library only).

Shared by the tuning benchmark's scripts: `tree_rss(pid)` is the resident memory of a
process and all its descendants (the JVM under PySpark, joblib's workers under
scikit-learn) as (sum of RSS, sum of PSS) in bytes; PSS splits pages shared between the
processes (a memory-mapped array) so that they are counted once.

Run as a program, it runs a command and polls its tree every 0.1 s:
    python bench/peak_rss.py -- CMD ARGS...
It passes the command's output through and ends with the line
    tree_peak_rss_bytes RSS PSS
(the peaks of the two sums). A poll can miss a peak shorter than 0.1 s; a process's own
VmHWM (what examples/tuning_bench.rs reads) cannot.
"""
import os
import subprocess
import sys
import time


def _children():
    """pid -> list of child pids, for every process."""
    kids = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces; ppid follows it.
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(name))
    return kids


def _mem(pid):
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1]) * 1024
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1]) * 1024
    except OSError:
        pass
    return rss, pss


def tree_rss(pid=None):
    """(RSS, PSS) in bytes of `pid` (default: this process) and its descendants."""
    pid = os.getpid() if pid is None else pid
    kids = _children()
    todo, rss, pss = [pid], 0, 0
    while todo:
        p = todo.pop()
        r, s = _mem(p)
        rss += r
        pss += s
        todo.extend(kids.get(p, []))
    return rss, pss


def main():
    args = sys.argv[1:]
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        sys.exit("usage: python bench/peak_rss.py -- CMD ARGS...")
    proc = subprocess.Popen(args)
    peak_rss = peak_pss = 0
    while proc.poll() is None:
        r, s = tree_rss(proc.pid)
        peak_rss, peak_pss = max(peak_rss, r), max(peak_pss, s)
        time.sleep(0.1)
    print(f"tree_peak_rss_bytes {peak_rss} {peak_pss}", flush=True)
    sys.exit(proc.returncode)


if __name__ == "__main__":
    main()
