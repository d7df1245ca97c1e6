"""Makes tests/fixtures/spark_rformula/: RFormula fitted by PySpark 4.3 on a small mixed
frame, for several formulas and params, each RFormulaModel saved with Spark's writer, and
every case's output (features as dense arrays, the label column, the features column's ML
attribute names and the resolved formula) in expected.json.

Run from the repository root: /work/venv/bin/python tests/pyspark/make_rformula_fixtures.py
The input frames are written into expected.json too ("frames"), so the Rust tests rebuild
them exactly. One partition (local[1]).
"""
import json
import os
import shutil

from pyspark.ml.feature import RFormula
from pyspark.ml.linalg import Vectors, VectorUDT
from pyspark.sql import SparkSession
from pyspark.sql.types import (BooleanType, DoubleType, IntegerType, StringType, StructField,
                               StructType)

OUT = "tests/fixtures/spark_rformula"
shutil.rmtree(OUT, ignore_errors=True)
os.makedirs(OUT)
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
# y, ys, a, b, x, n, flag, v
TRAIN = [
    (1.0, "yes", "red", "s", 0.5, 3, True, [1.0, 0.0]),
    (0.0, "no", "blue", "m", 1.5, 1, False, [0.0, 2.0]),
    (1.0, "yes", "red", "l", -2.0, 4, True, [3.0, -1.0]),
    (2.0, "maybe", "green", "s", 3.25, 0, False, [0.5, 0.5]),
    (0.0, "no", "red", "m", 0.0, 2, True, [-1.0, 4.0]),
    (1.0, "yes", "blue", "s", 7.0, 5, False, [2.0, 2.0]),
    (2.0, "no", "green", "l", -0.75, 1, True, [0.0, 0.0]),
    (0.0, "maybe", "red", "s", 2.5, 3, False, [1.5, -2.5]),
]
# Rows for the handleInvalid cases: a null `a`, and an unseen `b` ("xl").
INVALID = TRAIN + [
    (1.0, "yes", None, "m", 1.0, 2, True, [1.0, 1.0]),
    (0.0, "no", "blue", "xl", 4.0, 0, False, [0.0, 1.0]),
]


def frame(rows):
    return spark.createDataFrame(
        [r[:7] + (Vectors.dense(r[7]),) for r in rows], SCHEMA).coalesce(1)


train = frame(TRAIN)
invalid = frame(INVALID)

CASES = [
    # name, formula, params, fit frame, transform frame
    ("basic", "y ~ a + x", {}, "train", "train"),
    ("dot", "y ~ .", {}, "train", "train"),
    ("dot_minus", "y ~ . - ys - flag - v", {}, "train", "train"),
    ("str_num_inter", "y ~ a:x + b", {}, "train", "train"),
    ("str_str_inter", "y ~ a:b", {}, "train", "train"),
    ("num_num_inter", "y ~ x:n + x", {}, "train", "train"),
    ("no_intercept", "y ~ a + b - 1", {}, "train", "train"),
    ("plus_zero", "y ~ x + b + a + 0", {}, "train", "train"),
    ("plus_one", "y ~ a + 1", {}, "train", "train"),
    ("string_label", "ys ~ x + a", {}, "train", "train"),
    ("force_index", "y ~ x + b", {"forceIndexLabel": True}, "train", "train"),
    ("bool_vec", "y ~ flag + v + n", {}, "train", "train"),
    ("star", "y ~ a * x", {}, "train", "train"),
    ("power", "y ~ (b + x + n)^2", {}, "train", "train"),
    ("order_freq_asc", "y ~ a + b", {"stringIndexerOrderType": "frequencyAsc"}, "train", "train"),
    ("order_alpha_desc", "y ~ a + b", {"stringIndexerOrderType": "alphabetDesc"}, "train", "train"),
    ("order_alpha_asc", "y ~ a + b", {"stringIndexerOrderType": "alphabetAsc"}, "train", "train"),
    ("cols", "ys ~ a + x", {"featuresCol": "f", "labelCol": "lab"}, "train", "train"),
    ("keep", "ys ~ a + b + x", {"handleInvalid": "keep"}, "invalid", "invalid"),
    ("skip", "y ~ a + b + x", {"handleInvalid": "skip"}, "invalid", "invalid"),
    ("keep_unseen", "y ~ b + x", {"handleInvalid": "keep"}, "train", "invalid"),
    ("no_label", "~ a + x", {}, "train", "train"),
    ("bool_label", "flag ~ x + a", {}, "train", "train"),
    ("int_label_dot", "n ~ . - v", {}, "train", "train"),
    ("keep_interaction", "y ~ a:b + x", {"handleInvalid": "keep"}, "invalid", "invalid"),
]


def vec(v):
    return None if v is None else [float(x) for x in v.toArray()]


def attr_names(df, col):
    md = df.schema[col].metadata.get("ml_attr", {})
    names = {}
    for group in md.get("attrs", {}).values():
        for a in group:
            names[a["idx"]] = a.get("name")
    return [names.get(i) for i in range(md.get("num_attrs", len(names)))]


frames = {"train": train, "invalid": invalid}
out = {"made_by": "tests/pyspark/make_rformula_fixtures.py", "spark_version": spark.version,
       "frames": {"train": TRAIN, "invalid": INVALID}, "cases": {}}
for name, formula, params, fit_on, apply_on in CASES:
    rf = RFormula(formula=formula, **params)
    model = rf.fit(frames[fit_on])
    model.write().overwrite().save(f"{OUT}/{name}")
    res = model.transform(frames[apply_on])
    fcol = params.get("featuresCol", "features")
    lcol = params.get("labelCol", "label")
    rows = res.collect()
    case = {
        "formula": formula,
        "params": params,
        "fit_on": fit_on,
        "transform_on": apply_on,
        "resolved": model._call_java("resolvedFormulaString"),
        "columns": res.columns,
        "features": [vec(r[fcol]) for r in rows],
        "attr_names": attr_names(res, fcol),
        "ml_attr": res.schema[fcol].metadata.get("ml_attr"),
        "label": [r[lcol] for r in rows] if lcol in res.columns else None,
        "label_meta": res.schema[lcol].metadata if lcol in res.columns else None,
    }
    jpm = model._java_obj.pipelineModel()
    case["stages"] = [jpm.stages()[i].getClass().getSimpleName() for i in range(len(jpm.stages()))]
    out["cases"][name] = case
    print(name, case["resolved"], case["attr_names"])

with open(f"{OUT}/expected.json", "w") as f:
    json.dump(out, f, indent=1)
spark.stop()
