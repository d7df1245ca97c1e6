"""Reference timings for the tree benchmark (examples/tree_bench.rs), on the same file.

Runs LightGBM (GBT, and random-forest mode) and scikit-learn (HistGradientBoosting,
RandomForest n_jobs=2) with the settings equivalent to Spark's defaults used by
tree_bench: GBT 20 iterations, depth 5, 32 bins, learning rate 0.1; RF 20 trees, depth 5,
sqrt features, bootstrap. Binning is included in every fit time.

Same rows as tree_bench: tree_bench writes its train/test split (Spark's randomSplit with
seed 42 of the rows without a null) beside the data file, as <stem>_train.parquet and
<stem>_test.parquet; when both exist (and are newer than the data file) this script trains
and scores on exactly those rows.
Otherwise (tree_bench not run yet) it falls back to its own 80/20 numpy split of the rows
without a null, and says so: AUCs are then on different test rows than tree_bench's.
PySpark's own trees on the same split: bench/anchors/tree_spark.py.

Usage: /work/venv/bin/python bench/anchors/tree_anchors.py [bench_data/churn_1m.parquet] [repeats]
(needs `pip install lightgbm scikit-learn pyarrow`).
"""
import os
import sys
import time

import numpy as np
import pyarrow.parquet as pq
from sklearn.metrics import roc_auc_score

path = sys.argv[1] if len(sys.argv) > 1 else "bench_data/churn_1m.parquet"
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
stem = os.path.splitext(path)[0]
split = [f"{stem}_train.parquet", f"{stem}_test.parquet"]
if all(os.path.exists(p) and os.path.getmtime(p) >= os.path.getmtime(path) for p in split):
    tr, te = (pq.read_table(p).to_pandas() for p in split)
    feats = [c for c in tr.columns if c not in ("customer_id", "contract", "churn")]
    Xtr, ytr = tr[feats].to_numpy(dtype=np.float64), tr["churn"].to_numpy(dtype=np.float64)
    Xte, yte = te[feats].to_numpy(dtype=np.float64), te["churn"].to_numpy(dtype=np.float64)
    print(f"split: tree_bench's {split[0]} / {split[1]} (the same rows as tree_bench)")
else:
    t = pq.read_table(path).to_pandas()
    feats = [c for c in t.columns if c not in ("customer_id", "contract", "churn")]
    t = t.dropna(subset=feats)
    X = t[feats].to_numpy(dtype=np.float64)
    y = t["churn"].to_numpy(dtype=np.float64)
    rng = np.random.default_rng(42)
    test = rng.random(len(y)) < 0.2
    Xtr, ytr, Xte, yte = X[~test], y[~test], X[test], y[test]
    print(f"split: numpy's (NOT tree_bench's rows: run tree_bench first to write {split[0]})")
print(f"train {len(ytr)} rows x {Xtr.shape[1]} features, test {len(yte)} rows")


def bench(name, make, score):
    times = []
    for _ in range(repeats):
        m = make()
        t0 = time.perf_counter()
        m.fit(Xtr, ytr)
        times.append(time.perf_counter() - t0)
    print(f"{name}: median {np.median(times):.3f} s of {repeats} {[round(x, 3) for x in times]}; "
          f"test AUC {roc_auc_score(yte, score(m)):.4f}")


import lightgbm as lgb  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier  # noqa: E402

bench("LightGBM GBT", lambda: lgb.LGBMClassifier(
    n_estimators=20, max_depth=5, num_leaves=32, max_bin=32, learning_rate=0.1,
    min_child_samples=1, min_child_weight=0, reg_lambda=0, n_jobs=2, verbose=-1),
    lambda m: m.predict_proba(Xte)[:, 1])
bench("LightGBM random forest", lambda: lgb.LGBMClassifier(
    boosting_type="rf", n_estimators=20, max_depth=5, num_leaves=32, max_bin=32,
    bagging_freq=1, bagging_fraction=0.632, feature_fraction_bynode=0.25,
    min_child_samples=1, n_jobs=2, verbose=-1),
    lambda m: m.predict_proba(Xte)[:, 1])
bench("scikit-learn HistGradientBoosting", lambda: HistGradientBoostingClassifier(
    max_iter=20, max_depth=5, max_bins=32, learning_rate=0.1, early_stopping=False),
    lambda m: m.predict_proba(Xte)[:, 1])
bench("scikit-learn RandomForest (n_jobs 2)", lambda: RandomForestClassifier(
    n_estimators=20, max_depth=5, max_features="sqrt", bootstrap=True, n_jobs=2, random_state=0),
    lambda m: m.predict_proba(Xte)[:, 1])
