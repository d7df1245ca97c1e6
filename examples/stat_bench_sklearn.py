"""numpy's and scikit-learn's counterparts of examples/stat_bench.rs on the same file and
rows (the 20 numeric features, rows with a null dropped), median of 5 runs each: one read
of the feature matrix (its sum), numpy.corrcoef, scipy.stats.spearmanr, and
SelectKBest(f_classif, k=10) fit. Usage: python stat_bench_sklearn.py FILE"""
import statistics
import sys
import time

import numpy as np
import pyarrow.parquet as pq
from scipy.stats import spearmanr
from sklearn.feature_selection import SelectKBest, f_classif

t = pq.read_table(sys.argv[1])
cols = [c for c in t.column_names if c not in ("customer_id", "contract", "churn")]
X = np.column_stack([t[c].to_numpy(zero_copy_only=False) for c in cols]).astype(np.float64)
y = t["churn"].to_numpy(zero_copy_only=False)
keep = ~np.isnan(X).any(axis=1)
X, y = np.ascontiguousarray(X[keep]), y[keep]


def med(f, reps=5):
    ts = []
    for _ in range(reps):
        s = time.perf_counter()
        f()
        ts.append(time.perf_counter() - s)
    return statistics.median(ts)


print(f"numpy / scikit-learn on {X.shape[0]} rows x {X.shape[1]} features (row-major):")
print(f"{'  memory read (X.sum())':<52} {med(lambda: X.sum(), 15):>8.4f} s")
print(f"{'  numpy.corrcoef(X, rowvar=False)':<52} {med(lambda: np.corrcoef(X, rowvar=False)):>8.4f} s")
print(f"{'  scipy.stats.spearmanr(X)':<52} {med(lambda: spearmanr(X), 3):>8.4f} s")
sk = SelectKBest(f_classif, k=10)
print(f"{'  SelectKBest(f_classif, k=10) fit':<52} {med(lambda: sk.fit(X, y)):>8.4f} s")
sk.fit(X, y)
print(f"  selected: {sorted(np.argsort(-sk.scores_, kind='stable')[:10].tolist())}")
