"""The tuning benchmark's three tools in ONE run, one after the other on the same file:
mlpipe's CrossValidator (examples/tuning_bench.rs, release build), scikit-learn's
GridSearchCV (n_jobs 2, bench/tuning_sklearn.py) and Spark's CrossValidator (local[2],
parallelism 2, bench/tuning_spark.py), each over the LR pipeline's 6-point grid with 3
folds. Prints every tool's output, then one table: fit time, peak memory, best params
and avgMetrics; and `uptime` at the start and the end (the machine is shared).

Memory: "tree peak" is the peak over the whole run of the tool's process tree (the JVM
under PySpark, joblib's workers under scikit-learn), polled every 0.1 s by
bench/peak_rss.py, as summed RSS (and PSS, which counts pages shared between processes
once); "before load" is the tree's RSS the tool read itself just before it loaded the
data; "data" is the size of the data set the tool fits on (mlpipe: the Arrow frame handed
to CrossValidator.fit; scikit-learn: X and y; Spark: its cached frame is not measured).
mlpipe also reports its exact peak (VmHWM) during the fits.

Usage (from the repository root, after `cargo build --release --example tuning_bench`):
    /work/venv/bin/python bench/tuning_all.py [DATA] [--bin PATH] [--repeats N] [--only mlpipe,sklearn,spark]

(--only also sets the order; the mlpipe step waits for --bin to exist, so the references
can start while the release build finishes.)
"""
import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run(name, cmd):
    """Runs `cmd` under peak_rss.py; returns its `KEY value` lines and the tree peaks."""
    print(f"=== {name}: {' '.join(cmd)}", flush=True)
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, os.path.join(HERE, "peak_rss.py"), "--", *cmd],
        stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )
    wall = time.perf_counter() - start
    keyed = {}
    for line in out.stdout.splitlines():
        print(line, flush=True)
        k, _, v = line.partition(" ")
        if k.startswith(("mlpipe_", "sklearn_", "spark_", "tree_peak_rss_bytes")):
            keyed[k] = v.strip()
    if out.returncode != 0:
        print(f"=== {name} FAILED (exit {out.returncode})", flush=True)
    keyed["wall"] = f"{wall:.1f}"
    return keyed


def uptime():
    return subprocess.run(["uptime"], stdout=subprocess.PIPE, text=True).stdout.strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data", nargs="?", default="bench_data/churn_1m.parquet")
    ap.add_argument("--bin", default="target/release/examples/tuning_bench")
    ap.add_argument("--repeats", default="3")
    ap.add_argument("--only", default="mlpipe,sklearn,spark",
                    help="the tools to run, in this order")
    a = ap.parse_args()
    tools = a.only.split(",")
    start_up = uptime()
    print(f"start {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC; uptime: {start_up}", flush=True)
    py = sys.executable
    res = {}
    for tool in tools:
        if tool == "mlpipe":
            # The binary may still be building when the run starts with the references.
            while not os.path.exists(os.path.join(ROOT, a.bin)):
                print(f"waiting for {a.bin}", flush=True)
                time.sleep(30)
            res["mlpipe"] = run("mlpipe", [a.bin, a.data, a.repeats])
        elif tool in ("sklearn", "spark"):
            res[tool] = run(tool, [py, os.path.join(HERE, f"tuning_{tool}.py"), a.data])
        else:
            sys.exit(f"unknown tool {tool}; use mlpipe, sklearn, spark")
    end_up = uptime()

    mb = lambda b: f"{int(b) / 1e6:.0f}" if b not in (None, "") else "-"
    print()
    print(f"One run, {a.data}; start uptime: {start_up}")
    print(f"                   end uptime: {end_up}")
    head = ["tool", "rows", "fit s", "tree peak RSS/PSS MB", "before load MB",
            "peak-before MB", "data MB", "(peak-before)/data"]
    print(" | ".join(head))
    for tool, r in res.items():
        peak = r.get("tree_peak_rss_bytes", "0 0").split()
        before = r.get(f"{tool}_rss_before_load_bytes")
        data = r.get(f"{tool}_data_bytes")
        above = int(peak[0]) - int(before) if before else None
        ratio = f"{above / int(data):.2f}x" if above is not None and data else "-"
        print(" | ".join([
            tool, r.get(f"{tool}_rows", "-"), r.get(f"{tool}_seconds", "-"),
            f"{mb(peak[0])}/{mb(peak[1])}", mb(before), mb(above) if above is not None else "-",
            mb(data), ratio,
        ]))
    if "mlpipe" in res:
        r = res["mlpipe"]
        if "mlpipe_fit_peak_rss_bytes" in r:
            fp, b, d = (int(r[k]) for k in ("mlpipe_fit_peak_rss_bytes",
                                            "mlpipe_rss_before_load_bytes", "mlpipe_data_bytes"))
            print(f"mlpipe exact peak during the fits (VmHWM): {fp / 1e6:.1f} MB; minus before load "
                  f"{(fp - b) / 1e6:.1f} MB = {(fp - b) / d:.2f}x the data set ({d / 1e6:.1f} MB)")
    for tool, r in res.items():
        print(f"{tool} best: {r.get(f'{tool}_best', '-')}")
    for tool, r in res.items():
        print(f"{tool} avgMetrics: {r.get(f'{tool}_avg_metrics', '-')}")
    if "mlpipe" in res:
        m = float(res["mlpipe"].get("mlpipe_seconds", "nan"))
        for tool in ("sklearn", "spark"):
            if tool in res and f"{tool}_seconds" in res[tool]:
                s = float(res[tool][f"{tool}_seconds"])
                print(f"{tool} / mlpipe fit time: {s:.1f} s / {m:.2f} s = {s / m:.1f}x")
    print("(scikit-learn fits its own random 80% of the rows, so its avgMetrics are not Spark's; "
          "mlpipe and Spark fit the same rows and folds.)")


if __name__ == "__main__":
    main()
