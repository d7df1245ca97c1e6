"""scikit-learn's GridSearchCV (n_jobs=2) on the tuning benchmark's data, for
examples/tuning_bench.rs (which runs this script with --sklearn).

Same rows as the Rust run: the 20 numeric features and `churn` of the 1M-row churn data,
rows with a null dropped, and 80% of them (sklearn's own random 80%: the timing, not the
rows, is compared). Same grid: Spark's regParam {0.001, 0.01, 0.1} as C = 1 / (regParam * n)
and elasticNetParam {0, 0.5} as l1_ratio, StandardScaler + LogisticRegression(saga: the
solver that takes an elastic net), 3 folds, areaUnderROC. One run (it is the slow side).

Usage: /work/venv/bin/python bench/tuning_sklearn.py bench_data/churn_1m.parquet
"""
import os
import resource
import sys
import time

import numpy as np
import pyarrow.parquet as pq
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peak_rss import tree_rss  # noqa: E402

path = sys.argv[1] if len(sys.argv) > 1 else "bench_data/churn_1m.parquet"
rss_before_load = tree_rss()[0]
t = pq.read_table(path).to_pandas()
cols = [c for c in t.columns if c not in ("customer_id", "contract", "churn")]
t = t.dropna(subset=cols + ["churn"])
X, y = t[cols].to_numpy(dtype=np.float64), t["churn"].to_numpy()
X, _, y, _ = train_test_split(X, y, train_size=0.8, random_state=42)
n_fit = len(y) * 2 // 3  # rows each fold trains on
grid = {
    "lr__C": [1.0 / (r * n_fit) for r in (0.001, 0.01, 0.1)],
    "lr__l1_ratio": [0.0, 0.5],
}
pipe = Pipeline([("scale", StandardScaler()),
                 ("lr", LogisticRegression(solver="saga", penalty="elasticnet", max_iter=100, tol=1e-4))])
search = GridSearchCV(pipe, grid, cv=3, scoring="roc_auc", n_jobs=2, refit=True)
start = time.perf_counter()
search.fit(X, y)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(f"sklearn GridSearchCV(n_jobs=2): {len(y)} rows x {len(cols)} features, {seconds:.2f} s; "
      f"mean test AUC {np.round(search.cv_results_['mean_test_score'], 5).tolist()}; "
      f"peak RSS (self + largest child) {peak / 1024:.0f} MB; data {X.nbytes / 1e6:.0f} MB")
print(f"sklearn_seconds {seconds:.3f}")
# Spark's names for the best point: regParam = 1 / (C * n_fit), elasticNetParam = l1_ratio.
best = search.best_params_
reg = min((0.001, 0.01, 0.1), key=lambda r: abs(1.0 / (r * n_fit) - best["lr__C"]))
print(f"sklearn_best {{regParam={reg}, elasticNetParam={best['lr__l1_ratio']}}}")
print(f"sklearn_avg_metrics {[float(m) for m in search.cv_results_['mean_test_score']]}")
print(f"sklearn_rss_before_load_bytes {rss_before_load}")
print(f"sklearn_data_bytes {X.nbytes + y.nbytes}")
print(f"sklearn_rows {len(y)}")
