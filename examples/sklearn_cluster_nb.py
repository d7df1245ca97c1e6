"""scikit-learn KMeans and GaussianNB timings on the churn benchmark file, for
examples/cluster_nb_bench.rs (which runs this script in the same run when
MLPIPE_SKLEARN_PYTHON is set).

Same rows as the Rust side: the 20 numeric features, rows with a null dropped, a random 80%
(scikit-learn's timings do not depend on which 80%). KMeans: k 8, one k-means++ init,
max_iter 20, tol 0 (all 20 iterations unless the labels stop changing), lloyd.
Usage: python examples/sklearn_cluster_nb.py PATH [REPEATS]
"""
import sys
import time

import numpy as np
import pyarrow.parquet as pq
from sklearn.cluster import KMeans
from sklearn.naive_bayes import GaussianNB

path = sys.argv[1]
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
t = pq.read_table(path)
cols = [c for c in t.column_names if c not in ("customer_id", "contract", "churn")]
X = np.column_stack([t[c].to_numpy(zero_copy_only=False).astype(np.float64) for c in cols])
y = t["churn"].to_numpy(zero_copy_only=False)
keep = ~np.isnan(X).any(axis=1)
X, y = X[keep], y[keep]
rng = np.random.default_rng(42)
train = rng.random(len(X)) < 0.8
X, y = np.ascontiguousarray(X[train]), y[train]


def med(f):
    ts = []
    for _ in range(repeats):
        s = time.perf_counter()
        r = f()
        ts.append(time.perf_counter() - s)
    return sorted(ts)[len(ts) // 2], r


km_t, km = med(lambda: KMeans(n_clusters=8, n_init=1, max_iter=20, tol=0.0,
                               algorithm="lloyd", random_state=1).fit(X))
nb_t, _ = med(lambda: GaussianNB().fit(X, y))
print(f"scikit-learn ({X.shape[0]} rows x {X.shape[1]}): KMeans k=8 fit {km_t * 1e3:.1f} ms "
      f"median of {repeats} ({km.n_iter_} iterations); GaussianNB fit {nb_t * 1e3:.1f} ms")
