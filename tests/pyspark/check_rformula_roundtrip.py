"""Loads the RFormulaModels mlpipe saved (tests/spark_rformula.rs, pyspark_loads_mlpipe_models)
with PySpark 4.3 and checks that each transforms its case's frame as the fixture's Spark
run did (tests/fixtures/spark_rformula/expected.json): feature values within 1e-12,
attribute names, label values, output columns and the resolved formula.

Usage: python check_rformula_roundtrip.py <dir of saved models> <expected.json>
"""
import json
import sys

from pyspark.ml.feature import RFormulaModel
from pyspark.ml.linalg import Vectors, VectorUDT
from pyspark.sql import SparkSession
from pyspark.sql.types import (BooleanType, DoubleType, IntegerType, StringType, StructField,
                               StructType)

models, expected_path = sys.argv[1], sys.argv[2]
exp = json.load(open(expected_path))
spark = (SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
         .config("spark.sql.shuffle.partitions", "1").getOrCreate())
SCHEMA = StructType([
    StructField("y", DoubleType(), False),
    StructField("ys", StringType(), True),
    StructField("a", StringType(), True),
    StructField("b", StringType(), True),
    StructField("x", DoubleType(), False),
    StructField("n", IntegerType(), False),
    StructField("flag", BooleanType(), False),
    StructField("v", VectorUDT(), False),
])
frames = {k: spark.createDataFrame([tuple(r[:7]) + (Vectors.dense(r[7]),) for r in rows],
                                   SCHEMA).coalesce(1)
          for k, rows in exp["frames"].items()}


def attr_names(df, col):
    md = df.schema[col].metadata.get("ml_attr", {})
    names = {}
    for group in md.get("attrs", {}).values():
        for a in group:
            names[a["idx"]] = a.get("name")
    return [names.get(i) for i in range(md.get("num_attrs", len(names)))]


bad = []
for name, case in exp["cases"].items():
    m = RFormulaModel.load(f"{models}/{name}")
    res = m.transform(frames[case["transform_on"]])
    fcol = case["params"].get("featuresCol", "features")
    lcol = case["params"].get("labelCol", "label")
    rows = res.collect()
    feats = [[float(x) for x in r[fcol].toArray()] for r in rows]
    ok = len(feats) == len(case["features"]) and all(
        len(g) == len(w) and all(abs(a - b) <= 1e-12 for a, b in zip(g, w))
        for g, w in zip(feats, case["features"]))
    ok = ok and attr_names(res, fcol) == case["attr_names"]
    ok = ok and res.columns == case["columns"]
    ok = ok and m._call_java("resolvedFormulaString") == case["resolved"]
    if case["label"] is not None:
        ok = ok and [r[lcol] for r in rows] == case["label"]
    print(name, "ok" if ok else "DIFFERS")
    if not ok:
        bad.append(name)
spark.stop()
if bad:
    sys.exit(f"differ: {bad}")
print("all RFormula models match")
