"""scikit-learn's counterparts of examples/stages_bench.rs on the same file and the same 80%
of rows (every row, here: the split only changes which 80% are timed, not the work per row),
median of 5 runs each: KBinsDiscretizer(10, quantile) fit and transform, RobustScaler fit
and transform, Normalizer(l1) transform, PCA(5) fit and transform (full SVD solver, as
Spark's), VarianceThreshold(1.0) fit and transform, and TargetEncoder (binary target
`churn`, categories `tenure` and `num_support_calls`, all rows) fit and transform. Usage: python stages_bench_sklearn.py FILE"""
import statistics
import sys
import time

import numpy as np
import pyarrow.parquet as pq
from sklearn.decomposition import PCA
from sklearn.feature_selection import VarianceThreshold
from sklearn.preprocessing import KBinsDiscretizer, Normalizer, RobustScaler, TargetEncoder

t = pq.read_table(sys.argv[1])
cols = [c for c in t.column_names if c not in ("customer_id", "contract", "churn")]
X = np.column_stack([t[c].to_numpy(zero_copy_only=False) for c in cols]).astype(np.float64)
X = X[~np.isnan(X).any(axis=1)]
X = X[: int(len(X) * 0.8)]


def med(f):
    ts = []
    for _ in range(5):
        s = time.perf_counter()
        f()
        ts.append(time.perf_counter() - s)
    return statistics.median(ts)


print(f"scikit-learn on {X.shape[0]} rows x {X.shape[1]} features:")
kb = KBinsDiscretizer(n_bins=10, encode="ordinal", strategy="quantile", subsample=None)
print(f"{'  KBinsDiscretizer(quantile) fit':<44} {med(lambda: kb.fit(X)):>8.4f} s")
kb.fit(X)
print(f"{'  KBinsDiscretizer transform':<44} {med(lambda: kb.transform(X)):>8.4f} s")
rs = RobustScaler(with_centering=True)
print(f"{'  RobustScaler fit':<44} {med(lambda: rs.fit(X)):>8.4f} s")
rs.fit(X)
print(f"{'  RobustScaler transform':<44} {med(lambda: rs.transform(X)):>8.4f} s")
nm = Normalizer(norm="l1")
print(f"{'  Normalizer(l1) transform':<44} {med(lambda: nm.transform(X)):>8.4f} s")
pca = PCA(n_components=5, svd_solver="covariance_eigh")
print(f"{'  PCA(5, covariance_eigh) fit':<44} {med(lambda: pca.fit(X)):>8.4f} s")
pca.fit(X)
print(f"{'  PCA transform':<44} {med(lambda: pca.transform(X)):>8.4f} s")
vt = VarianceThreshold(1.0)
print(f"{'  VarianceThreshold fit':<44} {med(lambda: vt.fit(X)):>8.4f} s")
vt.fit(X)
print(f"{'  VarianceThreshold transform':<44} {med(lambda: vt.transform(X)):>8.4f} s")
C = np.column_stack([t["tenure"].to_numpy(), t["num_support_calls"].to_numpy()])
y = t["churn"].to_numpy()
te = TargetEncoder(categories="auto", target_type="binary", smooth=1.0)
print(f"{'  TargetEncoder fit (%d rows x 2 cols)' % len(y):<44} {med(lambda: te.fit(C, y)):>8.4f} s")
te.fit(C, y)
print(f"{'  TargetEncoder transform':<44} {med(lambda: te.transform(C)):>8.4f} s")
