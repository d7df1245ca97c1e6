"""scikit-learn's counterparts of examples/stages_bench.rs on the same file and the same 80%
of rows (every row, here: the split only changes which 80% are timed, not the work per row),
median of 5 runs each: KBinsDiscretizer(10, quantile) fit and transform, RobustScaler fit
and transform, Normalizer(l1) transform. Usage: python stages_bench_sklearn.py FILE"""
import statistics
import sys
import time

import numpy as np
import pyarrow.parquet as pq
from sklearn.preprocessing import KBinsDiscretizer, Normalizer, RobustScaler

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
