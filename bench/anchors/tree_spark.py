"""PySpark 4.3 on the tree benchmark's split: RandomForestClassifier and GBTClassifier with
Spark's defaults, fitted on the same training rows as examples/tree_bench.rs and scored on
the same test rows, so that mlpipe's trees can be compared with Spark's node for node
(examples/tree_spark_check.rs) and Spark's test AUC stands beside the other libraries'.

Input: the split files examples/tree_bench.rs writes beside the data file,
bench_data/churn_1m_train.parquet and bench_data/churn_1m_test.parquet (customer_id, the 20
feature columns, churn). The training rows are read as ONE partition, in file order (Spark's
bootstrap and split-finding sample are seeded per partition, so the partitioning is part of
the input; tree_spark_check.rs fits mlpipe on the same single partition).

Params: RandomForestClassifier(numTrees 20, maxDepth 5, maxBins 32, featureSubsetStrategy
auto = sqrt, bootstrap, subsamplingRate 1, seed 207336481 = the Scala default
"org.apache.spark.ml.classification.RandomForestClassifier".hashCode) and
GBTClassifier(maxIter 20, maxDepth 5, maxBins 32, stepSize 0.1, seed -1287390502, the Scala
default for GBTClassifier). Seeds are set explicitly: PySpark's own default seed is
randomised per Python process.

Output (to OUT_DIR, default bench_data/spark_trees/): the fitted models saved in Spark's
format (rf/, rf_unpruned/, gbt/) and the test rows' P(churn = 1) of each
(test_scores.parquet: customer_id, rf, rf_unpruned, gbt); rf_unpruned is the same forest
with pruneTree=false. Test AUC is computed exactly with scikit-learn's roc_auc_score
(Spark's BinaryClassificationEvaluator would down-sample the curve to 1000 bins).

Usage: /work/venv/bin/python bench/anchors/tree_spark.py [DATA_DIR [OUT_DIR]]
The output of one run on this machine is committed beside this script (tree_spark.out.txt).
"""
import os
import sys
import time

import numpy as np
import pyarrow.parquet as pq
from sklearn.metrics import roc_auc_score

data_dir = sys.argv[1] if len(sys.argv) > 1 else "bench_data"
out_dir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(data_dir, "spark_trees")
train_path = os.path.join(data_dir, "churn_1m_train.parquet")
test_path = os.path.join(data_dir, "churn_1m_test.parquet")
for p in (train_path, test_path):
    if not os.path.exists(p):
        sys.exit(f"{p} is missing: run `cargo run --release --example tree_bench` first (it writes the split)")

from pyspark.ml.classification import GBTClassifier, RandomForestClassifier  # noqa: E402
from pyspark.ml.feature import VectorAssembler  # noqa: E402
from pyspark.sql import SparkSession  # noqa: E402

spark = (SparkSession.builder.master("local[2]")
         .config("spark.driver.memory", "6g")
         # One partition for the whole training file: no file split below 4 GB.
         .config("spark.sql.files.maxPartitionBytes", str(4 << 30))
         .config("spark.sql.shuffle.partitions", "2")
         .config("spark.ui.enabled", "false")
         .config("spark.ui.showConsoleProgress", "false")
         .getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
print(f"PySpark {spark.version}, {spark.sparkContext.master}")

names = pq.read_schema(train_path).names
feats = [c for c in names if c not in ("customer_id", "churn")]
asm = VectorAssembler(inputCols=feats, outputCol="features")
train = asm.transform(spark.read.parquet(train_path)).select("features", "churn")
if train.rdd.getNumPartitions() != 1:
    # coalesce keeps the partitions' order: the rows stay in file order.
    train = train.coalesce(1)
train = train.cache()
n_train = train.count()
print(f"train {n_train} rows x {len(feats)} features in {train.rdd.getNumPartitions()} partition(s)")

test_pd = pq.read_table(test_path).to_pandas()
test = asm.transform(spark.createDataFrame(test_pd)).select("customer_id", "features", "churn")
print(f"test {len(test_pd)} rows")

rf = RandomForestClassifier(featuresCol="features", labelCol="churn", numTrees=20, maxDepth=5,
                            maxBins=32, featureSubsetStrategy="auto", bootstrap=True,
                            subsamplingRate=1.0, seed=207336481)
# The same forest without pruning (pruneTree, new in Spark 4.3; default true merges sibling
# leaves that predict the same class, whatever their class distributions).
rf_unpruned = RandomForestClassifier(featuresCol="features", labelCol="churn", numTrees=20,
                                     maxDepth=5, maxBins=32, featureSubsetStrategy="auto",
                                     bootstrap=True, subsamplingRate=1.0, seed=207336481,
                                     pruneTree=False)
gbt = GBTClassifier(featuresCol="features", labelCol="churn", maxIter=20, maxDepth=5, maxBins=32,
                    stepSize=0.1, seed=-1287390502)

os.makedirs(out_dir, exist_ok=True)
scores = {"customer_id": test_pd["customer_id"].to_numpy()}
y = test_pd["churn"].to_numpy(dtype=np.float64)
for name, est in (("rf", rf), ("rf_unpruned", rf_unpruned), ("gbt", gbt)):
    t0 = time.perf_counter()
    model = est.fit(train)
    secs = time.perf_counter() - t0
    model.write().overwrite().save(os.path.join(out_dir, name))
    pred = model.transform(test).select("customer_id", "probability").toPandas()
    pred = pred.set_index("customer_id").loc[scores["customer_id"]]
    p1 = np.array([v[1] for v in pred["probability"]])
    scores[name] = p1
    label = type(est).__name__ + (" pruneTree=false" if name == "rf_unpruned" else "")
    print(f"PySpark {label}: fit {secs:.1f} s; test AUC {roc_auc_score(y, p1):.4f}")
    lines = model.trees[0].toDebugString.splitlines()
    print(f"  tree 0: {model.trees[0].numNodes} nodes; first lines of its debug string:")
    for line in lines[1:9]:
        print("  " + line)

import pandas as pd  # noqa: E402

tmp = os.path.join(out_dir, f"test_scores.parquet.tmp{os.getpid()}")
pd.DataFrame(scores).to_parquet(tmp, index=False)
os.replace(tmp, os.path.join(out_dir, "test_scores.parquet"))
print(f"models and test scores written to {out_dir}")
spark.stop()
