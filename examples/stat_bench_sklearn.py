"""numpy's, scipy's and scikit-learn's counterparts of examples/stat_bench.rs on the same
file and rows (the 20 numeric features, rows with a null dropped, row-major float64),
median of 5 runs each, printed as `SK <key> <seconds> <counterpart>` lines that the Rust
benchmark puts in its table: numpy.corrcoef, scipy.stats.spearmanr, numpy's column
statistics, scikit-learn's chi2 on the features binned into 10 quantile buckets each,
scipy.stats.kstest, SelectKBest with f_classif, f_regression and chi2, and its transform.
Usage: python stat_bench_sklearn.py FILE"""
import statistics
import sys
import time

import numpy as np
import pyarrow.parquet as pq
from scipy.stats import kstest, spearmanr
from sklearn.feature_selection import SelectKBest, chi2, f_classif, f_regression
from sklearn.preprocessing import KBinsDiscretizer

t = pq.read_table(sys.argv[1])
cols = [c for c in t.column_names if c not in ("customer_id", "contract", "churn")]
X = np.column_stack([t[c].to_numpy(zero_copy_only=False) for c in cols]).astype(np.float64)
y = t["churn"].to_numpy(zero_copy_only=False)
keep = ~np.isnan(X).any(axis=1)
X, y = np.ascontiguousarray(X[keep]), y[keep]
mc = X[:, cols.index("monthly_charges")].copy()
f0 = X[:, cols.index("f0")].copy()
B = KBinsDiscretizer(n_bins=10, encode="ordinal", strategy="quantile", subsample=None).fit_transform(X)


def med(f, reps=5):
    ts = []
    for _ in range(reps):
        s = time.perf_counter()
        f()
        ts.append(time.perf_counter() - s)
    return statistics.median(ts)


def out(key, what, f, reps=5):
    print(f"SK {key} {med(f, reps):.6f} {what}", flush=True)


def summary():
    return (X.mean(0), X.sum(0), X.var(0, ddof=1), X.std(0, ddof=1), (X != 0).sum(0),
            X.max(0), X.min(0), np.abs(X).sum(0), np.sqrt((X * X).sum(0)))


print(f"numpy / scikit-learn on {X.shape[0]} rows x {X.shape[1]} features (row-major)")
print(f"SK read {med(lambda: X.sum(), 15):.6f} X.sum() (numpy's memory read)")
out("pearson", "numpy.corrcoef(X, rowvar=False)", lambda: np.corrcoef(X, rowvar=False))
out("spearman", "scipy.stats.spearmanr(X)", lambda: spearmanr(X), 3)
out("summarizer", "numpy mean/sum/var/std/nnz/max/min/L1/L2", summary)
out("chi2", "sklearn chi2(binned, y)", lambda: chi2(B, y))
out("ks", "scipy.stats.kstest(f0, 'norm')", lambda: kstest(f0, "norm"))
out("f_classif", "SelectKBest(f_classif, 10) fit", lambda: SelectKBest(f_classif, k=10).fit(X, y))
sk = SelectKBest(f_classif, k=10).fit(X, y)
out("select_transform", "SelectKBest transform", lambda: sk.transform(X))
out("f_regression", "SelectKBest(f_regression, 10) fit", lambda: SelectKBest(f_regression, k=10).fit(X, mc))
out("chi2_select", "SelectKBest(chi2, 10) fit (binned)", lambda: SelectKBest(chi2, k=10).fit(B, y))
