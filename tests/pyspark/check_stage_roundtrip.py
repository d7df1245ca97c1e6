"""Loads the feature stages mlpipe saved (by tests/pyspark_stages_roundtrip.rs) in PySpark:
fitted ones must transform the breast-cancer rows to mlpipe's outputs (to 1e-12 of each
row's largest value; bit-equal in practice), unfitted ones must fit to mlpipe's fitted
values exactly (QuantileDiscretizer splits, RobustScaler medians and ranges).
Usage: python check_stage_roundtrip.py OUT_DIR BC_TRAIN_CSV"""
import json
import sys

import pyspark.ml.feature as feat
from pyspark.ml.feature import VectorAssembler
from pyspark.sql import SparkSession

out, bc_csv = sys.argv[1], sys.argv[2]
spark = SparkSession.builder.master("local[1]").appName("mlpipe-stages").getOrCreate()
spark.sparkContext.setLogLevel("ERROR")
bc = spark.read.csv(bc_csv, header=True, inferSchema=True).coalesce(1)
bc = VectorAssembler(inputCols=["f0", "f1", "f4", "f9", "f20"], outputCol="v5").transform(bc)
bc = VectorAssembler(inputCols=["f0", "f4", "f9"], outputCol="v3").transform(bc)
manifest = json.load(open(f"{out}/manifest.json"))


def flat(v):
    return [float(x) for x in v.toArray()] if hasattr(v, "toArray") else [float(v)]


for name, case in manifest.items():
    cls = getattr(feat, case["class"])
    stage = cls.load(f"{out}/{name}")
    if case["kind"] == "fit":
        model = stage.fit(bc)
        for key, want in case["fitted"].items():
            got = getattr(model, key)
            got = got() if callable(got) else got
            if key == "getSplitsArray":
                got = [[float(x) for x in s] for s in got]
                want = [[float(x) for x in s] for s in want]  # written as strings, for ±inf
            else:
                got = flat(got)
            assert got == want, f"{name}: {key} {got} vs mlpipe's {want}"
        print(f"PySpark {spark.version} fitted mlpipe's {case['class']}: {list(case['fitted'])} agree")
        continue
    rows = stage.transform(bc).orderBy("row_id").collect()
    worst = 0.0
    for col, want in case["outputs"].items():
        assert len(rows) == len(want), (name, col, len(rows), len(want))
        for r, w in zip(rows, want):
            g = flat(r[col])
            scale = max([abs(x) for x in w] + [1e-300])
            worst = max([worst] + [abs(a - b) / scale for a, b in zip(g, w)])
            assert len(g) == len(w), (name, col, g, w)
    assert worst <= 1e-12, f"{name}: outputs differ by {worst}"
    print(f"PySpark {spark.version} loaded mlpipe's {case['class']}: {len(rows)} rows agree, max rel diff {worst:.1e}")
spark.stop()
