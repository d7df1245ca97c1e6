"""Loads the PCA, VarianceThresholdSelector and TargetEncoder stages mlpipe saved (by
tests/pyspark_stages2_roundtrip.rs) in PySpark 4.3: fitted models must transform the rows
to mlpipe's outputs (to 1e-12 of each row's largest value); unfitted ones must fit to
mlpipe's fitted values (PCA's explained variance to 1e-9 relative and its components up to
sign to 1e-7; the selector's features and the encoder's outputs exactly up to 1e-15).
Usage: python check_stage2_roundtrip.py OUT_DIR BC_TRAIN_CSV"""
import json
import sys

import pyspark.ml.feature as feat
from pyspark.ml.feature import VectorAssembler
from pyspark.sql import SparkSession
from pyspark.sql.types import DoubleType, IntegerType, StructField, StructType

out, bc_csv = sys.argv[1], sys.argv[2]
spark = SparkSession.builder.master("local[1]").appName("mlpipe-stages2").getOrCreate()
spark.sparkContext.setLogLevel("ERROR")
bc = spark.read.csv(bc_csv, header=True, inferSchema=True).coalesce(1)
bc = VectorAssembler(inputCols=[f"f{i}" for i in range(30)], outputCol="features").transform(bc)
# The encoder's frames, by the formulas of tests/pyspark/make_stage2_fixtures.py.
schema = StructType([StructField("id", IntegerType()), StructField("c1", IntegerType()),
                     StructField("c2", DoubleType()), StructField("yb", DoubleType()),
                     StructField("yc", DoubleType())])
te = spark.createDataFrame(
    [(i, i % 7, None if i % 11 == 0 else float((i * 3) % 5), 1.0 if (i * 13) % 10 < 4 else 0.0,
      None if i % 50 == 0 else ((i * 37) % 100) / 10.0) for i in range(400)], schema).coalesce(1)
te_test = spark.createDataFrame(
    [(i, i % 9, [0.0, 1.0, None, 7.0][i % 4], 0.0, 0.0) for i in range(36)], schema).coalesce(1)
frames = {"bc": (bc, "row_id"), "te_test": (te_test, "id"), "te": (te, "id")}
manifest = json.load(open(f"{out}/manifest.json"))


def flat(v):
    return [float(x) for x in v.toArray()] if hasattr(v, "toArray") else [float(v)]


def close(rows_got, rows_want, tol, what):
    assert len(rows_got) == len(rows_want), (what, len(rows_got), len(rows_want))
    worst = 0.0
    for g, w in zip(rows_got, rows_want):
        assert len(g) == len(w), (what, g, w)
        scale = max([abs(x) for x in w] + [1e-300])
        worst = max([worst] + [abs(a - b) / scale for a, b in zip(g, w)])
    assert worst <= tol, f"{what}: differs by {worst}"
    return worst


for name, case in manifest.items():
    cls = getattr(feat, case["class"])
    stage = cls.load(f"{out}/{name}")
    df, order = frames[case["frame"]]
    if case["kind"] == "fit":
        stage = stage.fit(df)
        if case["class"] == "PCA":
            want_ev = case["explainedVariance"]
            got_ev = [float(x) for x in stage.explainedVariance]
            assert all(abs(a - b) <= 1e-9 * b for a, b in zip(got_ev, want_ev)), (got_ev, want_ev)
            pc = stage.pc.toArray()
            for c, comp in enumerate(case["pc"]):
                col = [float(x) for x in pc[:, c]]
                s = 1.0 if sum(a * b for a, b in zip(col, comp)) >= 0 else -1.0
                assert all(abs(s * a - b) <= 1e-7 for a, b in zip(col, comp)), (c, col, comp)
            print(f"PySpark {spark.version} fitted mlpipe's PCA: explained variance and components agree")
            continue
        if case["class"] == "VarianceThresholdSelector":
            assert list(stage.selectedFeatures) == case["selectedFeatures"]
            print(f"PySpark {spark.version} fitted mlpipe's VarianceThresholdSelector: selected features agree {case['selectedFeatures']}")
            continue
    rows = stage.transform(df).orderBy(order).collect()
    tol = case.get("tol", 1e-12)
    for col, want in case["outputs"].items():
        worst = close([flat(r[col]) for r in rows], want, tol, f"{name}.{col}")
    print(f"PySpark {spark.version} {case['kind']} mlpipe's {case['class']}: {len(rows)} rows agree, "
          f"max rel diff {worst:.1e}")
spark.stop()
