"""scikit-learn's LinearRegression and LinearSVC (liblinear, primal: dual=False, which needs
liblinear's squared hinge; C = 1/(n·0.01), the scale of mlpipe's regParam 0.01) on the same data as examples/linear_bench.rs: the 20
numeric features of the churn file, rows with a null dropped, 80% of the rows (random, seed
42), label `churn`. Prints the median fit time of REPEATS fits.
Usage: python examples/linear_bench_sklearn.py [PATH [REPEATS]]"""
import statistics
import sys
import time

import numpy as np
import pyarrow.parquet as pq
from sklearn.linear_model import LinearRegression
from sklearn.svm import LinearSVC

path = sys.argv[1] if len(sys.argv) > 1 else "bench_data/churn_1m.parquet"
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
t = pq.read_table(path)
cols = [c for c in t.column_names if c not in ("customer_id", "contract", "churn")]
X = np.column_stack([t.column(c).to_numpy(zero_copy_only=False).astype(float) for c in cols])
y = t.column("churn").to_numpy(zero_copy_only=False).astype(float)
keep = ~np.isnan(X).any(axis=1)
X, y = X[keep], y[keep]
rows = np.random.default_rng(42).random(len(y)) < 0.8
X, y = np.ascontiguousarray(X[rows]), y[rows]
times = []
for _ in range(repeats):
    t0 = time.perf_counter()
    LinearRegression().fit(X, y)
    times.append(time.perf_counter() - t0)
print(f"scikit-learn LinearRegression: {X.shape[0]} rows x {X.shape[1]} features, median fit {statistics.median(times) * 1e3:.1f} ms")
times = []
for _ in range(repeats):
    t0 = time.perf_counter()
    LinearSVC(dual=False, C=1.0 / (0.01 * len(y))).fit(X, y)
    times.append(time.perf_counter() - t0)
print(f"scikit-learn LinearSVC (primal, squared hinge): median fit {statistics.median(times) * 1e3:.1f} ms")
