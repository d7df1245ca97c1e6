"""Why Spark's (and mlpipe's) tree AUCs differ from scikit-learn's and LightGBM's on the tree
benchmark: two experiments on tree_bench's split (bench_data/churn_1m_{train,test}.parquet),
whose output is committed beside this script (tree_auc_why.out.txt).

1. RandomForest: Spark's default pruneTree = true merges two sibling leaves whenever they
   predict the same CLASS (recursively), whatever their class distributions. With ~25%
   positives most depth-5 leaves predict 0, so whole subtrees collapse into one leaf and the
   forest's averaged probabilities lose their ranking. This script fits scikit-learn's
   RandomForestClassifier with Spark's settings (20 trees, depth 5, 5 = ceil(sqrt(20))
   features per node, bootstrap) and scores it twice: as is, and with Spark's pruning
   applied to each fitted tree (leaf probabilities replaced by those of the highest ancestor
   that Spark's rule turns into a leaf). If pruning is the cause, the pruned AUC falls to
   about Spark's 0.752 and the unpruned one stays near Spark's pruneTree=false 0.783.
2. GBT: Spark's logistic GBT fits each tree to the residual 4(y - p) by its mean
   (no Newton step) on a margin F with p = 1/(1 + exp(-2F)), and its first tree has weight
   1.0: per tree it moves the log-odds 2 x 0.1 x 4(q - p) = 0.8(q - p), where LightGBM's
   Newton step moves them 0.1 (q - p) / (p(1 - p)), about 0.53(q - p) at p = 0.25, from a
   start at the prior. After 20 trees Spark's model is further along, so its AUC is higher
   than LightGBM's at the same settings; LightGBM with a larger learning rate or more trees
   should close the gap.

Usage: /work/venv/bin/python bench/anchors/tree_auc_why.py [bench_data]
"""
import os
import sys
import time

import numpy as np
import pyarrow.parquet as pq
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score

d = sys.argv[1] if len(sys.argv) > 1 else "bench_data"
tr, te = (pq.read_table(os.path.join(d, f"churn_1m_{k}.parquet")).to_pandas()
          for k in ("train", "test"))
feats = [c for c in tr.columns if c not in ("customer_id", "churn")]
Xtr, ytr = tr[feats].to_numpy(np.float64), tr["churn"].to_numpy(np.float64)
Xte, yte = te[feats].to_numpy(np.float64), te["churn"].to_numpy(np.float64)
print(f"tree_bench's split: train {len(ytr)} rows, test {len(yte)} rows, {len(feats)} features")


def spark_pruned_leaf_proba(tree):
    """P(class 1) of every node after Spark's pruning: a node whose two children are
    (after pruning) leaves with the same predicted class becomes a leaf with its own class
    distribution; returns, per original node, the probability of the pruned leaf it falls in."""
    t = tree.tree_
    left, right = t.children_left, t.children_right
    dist = t.value[:, 0, :]  # class weights or fractions, by scikit-learn version
    dist = dist / dist.sum(axis=1, keepdims=True)
    pred = dist.argmax(axis=1)
    is_leaf = left == -1  # after pruning
    # Children have larger ids than their parent in scikit-learn's trees: bottom-up pass.
    for n in range(t.node_count - 1, -1, -1):
        if left[n] != -1 and is_leaf[left[n]] and is_leaf[right[n]] \
                and pred[left[n]] == pred[right[n]]:
            is_leaf[n] = True
    # Top-down: owner = the highest ancestor-or-self that pruning made a leaf (else self).
    owner = np.arange(t.node_count)
    for n in range(t.node_count):
        if left[n] != -1:
            for c in (left[n], right[n]):
                owner[c] = owner[n] if is_leaf[owner[n]] else c
    kept_leaves = int(np.sum(is_leaf & (owner == np.arange(t.node_count))))
    return dist[owner, 1], kept_leaves, int((left == -1).sum())


t0 = time.perf_counter()
rf = RandomForestClassifier(n_estimators=20, max_depth=5, max_features=5, bootstrap=True,
                            n_jobs=2, random_state=0).fit(Xtr, ytr)
print(f"scikit-learn RandomForest (20 trees, depth 5, 5 features per node, bootstrap): "
      f"fit {time.perf_counter() - t0:.1f} s")
p_plain = rf.predict_proba(Xte)[:, 1]
p_pruned = np.zeros(len(yte))
leaves_pruned = leaves = 0
for est in rf.estimators_:
    node_p, lp, l0 = spark_pruned_leaf_proba(est)
    p_pruned += node_p[est.apply(Xte)]
    leaves_pruned += lp
    leaves += l0
p_pruned /= len(rf.estimators_)
print(f"  test AUC as fitted (no pruning):        {roc_auc_score(yte, p_plain):.4f}  "
      f"({leaves} leaves, {len(np.unique(p_plain))} distinct test scores)")
print(f"  test AUC with Spark's pruning applied:  {roc_auc_score(yte, p_pruned):.4f}  "
      f"({leaves_pruned} leaves, {len(np.unique(p_pruned))} distinct test scores)")

import lightgbm as lgb  # noqa: E402

base = dict(max_depth=5, num_leaves=32, max_bin=32, min_child_samples=1, min_child_weight=0,
            reg_lambda=0, n_jobs=2, verbose=-1)
for n, lr in ((20, 0.1), (20, 0.2), (40, 0.1)):
    m = lgb.LGBMClassifier(n_estimators=n, learning_rate=lr, **base).fit(Xtr, ytr)
    print(f"LightGBM GBT {n} trees, learning rate {lr}: test AUC "
          f"{roc_auc_score(yte, m.predict_proba(Xte)[:, 1]):.4f}")
