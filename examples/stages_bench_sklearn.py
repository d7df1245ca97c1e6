"""scikit-learn's (numpy's, scipy's) counterparts of examples/stages_bench.rs on the same
file, median of 5 runs each, printed as `SK <key> <seconds> <counterpart>` lines that the
Rust benchmark puts in its table. X is the 20 numeric features (rows with a null dropped)
as a row-major float64 matrix, its first 80% of rows (the Rust side times its seeded 80%
split: the same work per row); the TargetEncoder and RFormula counterparts use every row.
Usage: python stages_bench_sklearn.py FILE"""
import statistics
import sys
import time

import numpy as np
import pyarrow.parquet as pq
import scipy.fft
from sklearn.decomposition import PCA
from sklearn.feature_selection import VarianceThreshold
from sklearn.preprocessing import (
    Binarizer,
    KBinsDiscretizer,
    Normalizer,
    OneHotEncoder,
    PolynomialFeatures,
    RobustScaler,
    TargetEncoder,
)

t = pq.read_table(sys.argv[1])
cols = [c for c in t.column_names if c not in ("customer_id", "contract", "churn")]
X = np.column_stack([t[c].to_numpy(zero_copy_only=False) for c in cols]).astype(np.float64)
X = X[~np.isnan(X).any(axis=1)]
X = np.ascontiguousarray(X[: int(len(X) * 0.8)])


def med(f, reps=5):
    ts = []
    for _ in range(reps):
        s = time.perf_counter()
        f()
        ts.append(time.perf_counter() - s)
    return statistics.median(ts)


def out(key, what, f):
    print(f"SK {key} {med(f):.6f} {what}", flush=True)


print(f"scikit-learn on {X.shape[0]} rows x {X.shape[1]} features (row-major)")
print(f"SK read {med(lambda: X.sum(), 15):.6f} X.sum() (numpy's memory read)")
kb = KBinsDiscretizer(n_bins=10, encode="ordinal", strategy="quantile", subsample=None)
out("qd_fit", "KBinsDiscretizer(10, quantile) fit", lambda: kb.fit(X))
kb.fit(X)
out("bucketizer", "KBinsDiscretizer transform", lambda: kb.transform(X))
rs = RobustScaler(with_centering=True)
out("rs_fit", "RobustScaler fit", lambda: rs.fit(X))
rs.fit(X)
out("rs_transform", "RobustScaler transform", lambda: rs.transform(X))
out("binarizer", "Binarizer(0.0) transform", lambda: Binarizer(threshold=0.0).transform(X))
out("normalizer_l1", "Normalizer(l1) transform", lambda: Normalizer(norm="l1").transform(X))
out("normalizer_l2", "Normalizer(l2) transform", lambda: Normalizer(norm="l2").transform(X))
w = np.full(20, 0.5)
out("ep", "X * w (numpy)", lambda: X * w)
pf = PolynomialFeatures(degree=2, include_bias=False)
pf.fit(X)
out("poly", "PolynomialFeatures(2) transform", lambda: pf.transform(X))
out("dct", "scipy.fft.dct(type 2, ortho, axis 1)", lambda: scipy.fft.dct(X, type=2, norm="ortho", axis=1))
idx = np.arange(0, 20, 2)
out("slicer", "X[:, idx] (numpy)", lambda: X[:, idx])
pca = PCA(n_components=5, svd_solver="covariance_eigh")
out("pca_fit", "PCA(5, covariance_eigh) fit", lambda: pca.fit(X))
pca.fit(X)
out("pca_transform", "PCA transform", lambda: pca.transform(X))
vt = VarianceThreshold(1.0)
out("vt_fit", "VarianceThreshold fit", lambda: vt.fit(X))
vt.fit(X)
out("vt_transform", "VarianceThreshold transform", lambda: vt.transform(X))

keep = ~np.isnan(
    np.column_stack([t[c].to_numpy(zero_copy_only=False) for c in cols]).astype(np.float64)
).any(axis=1)
calls = t["num_support_calls"].to_numpy()[keep]
Xa = np.column_stack([t[c].to_numpy(zero_copy_only=False) for c in cols]).astype(np.float64)[keep]
out("interaction", "X * calls[:, None] (numpy)", lambda: Xa * calls[:, None])
C = np.column_stack([t["tenure"].to_numpy(), t["num_support_calls"].to_numpy()])[keep]
y = t["churn"].to_numpy()[keep]
te = TargetEncoder(categories="auto", target_type="binary", smooth=1.0)
out("te_fit", "TargetEncoder(binary, smooth 1) fit", lambda: te.fit(C, y))
te.fit(C, y)
out("te_transform", "TargetEncoder transform", lambda: te.transform(C))
contract = t["contract"].to_numpy(zero_copy_only=False)[keep].reshape(-1, 1)
num = np.column_stack(
    [t[c].to_numpy(zero_copy_only=False) for c in ("tenure", "monthly_charges", "num_support_calls")]
).astype(np.float64)[keep]
oh = OneHotEncoder(drop="first", sparse_output=False)
out("rformula_fit", "OneHotEncoder(contract) fit", lambda: oh.fit(contract))
oh.fit(contract)
out(
    "rformula_transform",
    "OneHotEncoder transform + hstack numerics",
    lambda: np.hstack([oh.transform(contract), num]),
)
