"""Loads the selectors mlpipe saved (by tests/pyspark_stat_roundtrip.rs) in PySpark: the
models must transform data.csv to mlpipe's rows (exactly) with mlpipe's `ml_attr` metadata,
the estimators must fit to mlpipe's selected features.
Usage: python check_stat_roundtrip.py OUT_DIR DATA_CSV"""
import json
import sys

import pyspark.ml.feature as feat
from pyspark.ml.feature import VectorAssembler
from pyspark.sql import SparkSession

out, data_csv = sys.argv[1], sys.argv[2]
spark = SparkSession.builder.master("local[1]").appName("mlpipe-stat").getOrCreate()
spark.sparkContext.setLogLevel("ERROR")
df = spark.read.csv(data_csv, header=True, inferSchema=True).coalesce(1)
df = VectorAssembler(inputCols=["c0", "c1", "c2", "c3", "c4"], outputCol="cat").transform(df)
df = VectorAssembler(inputCols=["x0", "x1", "x2", "x3", "x4"], outputCol="cont").transform(df)
manifest = json.load(open(f"{out}/manifest.json"))

for name, case in manifest.items():
    stage = getattr(feat, case["class"]).load(f"{out}/{name}")
    if "selected" in case:
        got = list(stage.fit(df).selectedFeatures)
        assert got == case["selected"], f"{name}: {got} vs mlpipe's {case['selected']}"
        print(f"PySpark {spark.version} fitted mlpipe's {case['class']}: selectedFeatures agree")
        continue
    t = stage.transform(df)
    rows = [[float(x) for x in r.sel.toArray()] for r in t.orderBy("id").select("sel").collect()]
    assert rows == case["rows"], f"{name}: rows differ"
    md = t.schema["sel"].metadata["ml_attr"]
    assert md == case["ml_attr"], f"{name}: metadata {md} vs mlpipe's {case['ml_attr']}"
    print(f"PySpark {spark.version} transformed with mlpipe's {case['class']}: rows and metadata agree")
