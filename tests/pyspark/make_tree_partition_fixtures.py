"""Spark 4.3 tree fixtures at the size and partitioning of the benchmark's tree fits:
tests/fixtures/spark_tree_parts/ (read by tests/spark_tree_partitions.rs).

What it pins that tests/fixtures/spark2 (one partition, <= 30 000 rows) does not:
- TWO partitions: Spark's per-partition streams (bootstrap Poisson reseeded with
  seed + partition + 1, subsampling XORShift(seed + partition + 1), the split-finding
  sample's per-partition XORShift seeds drawn from java.util.Random) with the partition
  boundary where Spark's parallelize puts it (recorded per row in `part`);
- split finding from a gap-sampled subset (30 000 rows: fraction 1/3 < 0.4);
- an imbalanced label (~25% positives, as the churn benchmark), so that pruning merges
  many sibling leaves: a forest with pruneTree=true (Spark's default) and the same forest
  with pruneTree=false, whose AUCs differ;
- 20 trees (CHAMP iteration order of 20 tree indices decides the feature-subset draws).

Data: numpy default_rng(13), 30 000 rows x 6 features rounded to 3 decimals (written with
repr, so the CSV text is the exact double): two integer-valued features (like tenure and
support calls, with many zeros), four continuous ones; label ~ Bernoulli(sigmoid(logit)).

Cases (saved with model.write().save, Spark's own layout):
- rfc_pruned:   RandomForestClassifier(numTrees=20, maxDepth=5, seed=207336481) (Spark's
                defaults otherwise: auto = sqrt, bootstrap, maxBins 32, pruneTree true)
- rfc_unpruned: the same with pruneTree=False
- gbtc_sub:     GBTClassifier(maxIter=5, maxDepth=3, subsamplingRate=0.8,
                featureSubsetStrategy="sqrt", seed=-1287390502)
expected.json: per case Spark's P(label = 1) on every 10th training row (rows 0, 10, ...
in CSV order) from its transform, and the training AUC over all rows, exact (scikit-learn's
roc_auc_score).

Run: MLPIPE_PYSPARK=/work/venv/bin/python; $MLPIPE_PYSPARK tests/pyspark/make_tree_partition_fixtures.py
"""
import json
import os
import shutil

import numpy as np
from pyspark.ml.classification import GBTClassifier, RandomForestClassifier
from pyspark.ml.feature import VectorAssembler
from pyspark.sql import SparkSession
from pyspark.sql.functions import spark_partition_id
from sklearn.metrics import roc_auc_score

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "spark_tree_parts")
N = 30_000
EVERY = 10  # expected.json keeps P(1) of every 10th training row (size)

rng = np.random.default_rng(13)
tenure = rng.integers(0, 73, N).astype(float)
calls = rng.poisson(1.5, N).astype(float)
x2 = np.round(rng.normal(50.0, 20.0, N), 3)
x3 = np.round(rng.lognormal(0.0, 1.0, N), 3)
x4 = np.round(rng.uniform(-1.0, 1.0, N), 3)
x5 = np.round(rng.normal(0.0, 1.0, N), 3)  # irrelevant
logit = (-1.3 - 0.04 * (tenure - 36) + 0.5 * (calls - 1.5) + 0.02 * (x2 - 50)
         + 0.3 * np.log(x3) - 0.8 * x4)
label = (rng.random(N) < 1 / (1 + np.exp(-logit))).astype(float)
cols = ["tenure", "calls", "x2", "x3", "x4", "x5"]
data = np.column_stack([tenure, calls, x2, x3, x4, x5])

spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
         .getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
rows = [tuple(float(v) for v in r) + (float(y),) for r, y in zip(data, label)]
df = spark.createDataFrame(spark.sparkContext.parallelize(rows, 2), cols + ["label"])
assert df.rdd.getNumPartitions() == 2
df = VectorAssembler(inputCols=cols, outputCol="features").transform(df).cache()
parts = [r["part"] for r in df.select(spark_partition_id().alias("part")).collect()]
back = df.select(*cols, "label").collect()
assert [tuple(r) for r in back] == rows, "collect() returns the rows in input order"

if os.path.exists(OUT):
    shutil.rmtree(OUT)
os.makedirs(OUT)
with open(os.path.join(OUT, "train.csv"), "w") as f:
    f.write(",".join(["part"] + cols + ["label"]) + "\n")
    for p, r in zip(parts, rows):
        f.write(",".join([str(p)] + [repr(v) for v in r]) + "\n")

cases = {
    "rfc_pruned": RandomForestClassifier(numTrees=20, maxDepth=5, seed=207336481),
    "rfc_unpruned": RandomForestClassifier(numTrees=20, maxDepth=5, seed=207336481,
                                           pruneTree=False),
    "gbtc_sub": GBTClassifier(maxIter=5, maxDepth=3, subsamplingRate=0.8,
                              featureSubsetStrategy="sqrt", seed=-1287390502),
}
expected = {"spark_version": spark.version, "rows": N,
            "partition_sizes": [parts.count(0), parts.count(1)], "cases": {}}
for name, est in cases.items():
    model = est.fit(df)
    model.write().save(os.path.join(OUT, name))
    p1 = [float(r["probability"][1]) for r in model.transform(df).select("probability").collect()]
    expected["cases"][name] = {
        "params": {k.name: v for k, v in est.extractParamMap().items()
                   if est.isSet(k)},
        "totalNumNodes": model.totalNumNodes,
        "train_auc": roc_auc_score(label, p1),
        "probability_1": p1[::EVERY],
    }
    print(f"{name}: {model.totalNumNodes} nodes, train AUC {roc_auc_score(label, p1):.6f}")
with open(os.path.join(OUT, "expected.json"), "w") as f:
    json.dump(expected, f)
print(f"partition sizes {expected['partition_sizes']}; written to {os.path.normpath(OUT)}")
spark.stop()
