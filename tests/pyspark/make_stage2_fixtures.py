"""Makes tests/fixtures/spark_stages2/: PCA, VarianceThresholdSelector and TargetEncoder
fitted / applied by PySpark 4.3, each saved with Spark's writer, plus their outputs in
expected.json.

Run from the repository root: /work/venv/bin/python tests/pyspark/make_stage2_fixtures.py
Data (master local[1], one partition unless said):
- the breast-cancer training rows of tests/fixtures/spark2/bc_train.csv, features f0..f29
  assembled into the dense vector column `features`;
- `sp`: 60 sparse rows of 6 features computed from the row id alone (so the Rust tests
  rebuild them exactly): feature j of row i is stored when (i * (j + 3)) % 4 == 0, with
  value ((i * 7 + j * 13) % 11) - 4.0 (the stored value may be 0.0); feature 5 is
  stored as 2.5 in every row (a constant feature);
- `te`: 400 rows: c1 = i % 7 (int), c2 = (i * 3) % 5 as double, null when i % 11 == 0,
  yb = 1.0 when (i * 13) % 10 < 4 else 0.0, yc = ((i * 37) % 100) / 10.0, null when
  i % 50 == 0; `te_test`: c1 in 0..=8 (7 and 8 unseen), c2 in {0, 1, null, 7 (unseen)}.
expected.json also holds numpy's LAPACK SVD (dgesdd, the routine Breeze calls) of each
PCA case's covariance, to compare the sign convention.
"""
import json
import os
import shutil

import numpy as np
from pyspark.ml.feature import (PCA, TargetEncoder, VarianceThresholdSelector,
                                VectorAssembler)
from pyspark.ml.linalg import Vectors, VectorUDT
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import (DoubleType, IntegerType, StructField, StructType)

OUT = "tests/fixtures/spark_stages2"
shutil.rmtree(OUT, ignore_errors=True)
os.makedirs(OUT)
spark = (SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
         .config("spark.sql.shuffle.partitions", "1").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")

bc = spark.read.csv("tests/fixtures/spark2/bc_train.csv", header=True,
                    inferSchema=True).coalesce(1)
feat30 = [f"f{i}" for i in range(30)]
bc = VectorAssembler(inputCols=feat30, outputCol="features").transform(bc)
out = {"made_by": "tests/pyspark/make_stage2_fixtures.py", "spark_version": spark.version}


def save(stage, name):
    stage.write().overwrite().save(f"{OUT}/{name}")


def vec(v):
    return None if v is None else [float(x) for x in v.toArray()]


def sparse_rows():
    rows = []
    for i in range(60):
        idx, val = [], []
        for j in range(6):
            if j == 5:
                idx.append(5)
                val.append(2.5)
            elif (i * (j + 3)) % 4 == 0:
                idx.append(j)
                val.append(float((i * 7 + j * 13) % 11) - 4.0)
        rows.append((i, Vectors.sparse(6, idx, val)))
    return rows


sp = spark.createDataFrame(sparse_rows(), ["id", "v"]).coalesce(1)


def matrix(m):
    return {"numRows": m.numRows, "numCols": m.numCols,
            "values": [float(x) for x in m.toArray().flatten(order="F")]}


# ---- PCA ----
pca_cases = {
    "pca_bc": (bc, "features", 5, "row_id"),
    "pca_bc_full": (VectorAssembler(inputCols=["f0", "f1", "f2", "f3"], outputCol="f4v")
                    .transform(bc).select("row_id", "f4v"), "f4v", 4, "row_id"),
    "pca_sparse": (sp, "v", 3, "id"),
}
for name, (df, col, k, order) in pca_cases.items():
    pca = PCA(k=k, inputCol=col, outputCol="pca")
    save(pca, f"{name}_unfitted")
    m = pca.fit(df)
    save(m, name)
    t = m.transform(df).orderBy(order)
    rows = t.collect()
    x = np.array([r[col].toArray() for r in rows])
    cov = np.cov(x, rowvar=False)
    u, s, _ = np.linalg.svd(cov)
    out[name] = {"k": k, "inputCol": col, "pc": matrix(m.pc),
                 "explainedVariance": vec(m.explainedVariance),
                 "output": [vec(r["pca"]) for r in rows],
                 "metadata": t.schema["pca"].metadata,
                 "numpy_svd_u": [float(v) for v in u[:, :k].flatten(order="F")],
                 "numpy_explained": [float(v) for v in (s / s.sum())[:k]]}

# k larger than the number of features: Spark's message
try:
    PCA(k=7, inputCol="v", outputCol="p").fit(sp)
    out["pca_k_too_large_error"] = None
except Exception as e:  # noqa: BLE001
    out["pca_k_too_large_error"] = str(e).splitlines()[0][:400]

# ---- VarianceThresholdSelector ----
vts_cases = {
    "vts_bc": (bc, "features", 8.0, "row_id"),
    "vts_bc_default": (bc, "features", None, "row_id"),
    "vts_sparse": (sp, "v", 1.0, "id"),
}
for name, (df, col, thr, order) in vts_cases.items():
    params = dict(featuresCol=col, outputCol="sel")
    if thr is not None:
        params["varianceThreshold"] = thr
    s = VarianceThresholdSelector(**params)
    save(s, f"{name}_unfitted")
    m = s.fit(df)
    save(m, name)
    t = m.transform(df).orderBy(order)
    rows = t.collect()
    rec = {"params": params, "selectedFeatures": list(m.selectedFeatures),
           "metadata": t.schema["sel"].metadata}
    if name == "vts_sparse":
        rec["output_sparse"] = [{"size": r["sel"].size,
                                 "indices": [int(i) for i in r["sel"].indices],
                                 "values": [float(v) for v in r["sel"].values]} for r in rows]
    else:
        rec["output"] = [vec(r["sel"]) for r in rows]
    out[name] = rec

# ---- TargetEncoder ----
te_schema = StructType([StructField("id", IntegerType()), StructField("c1", IntegerType()),
                        StructField("c2", DoubleType()), StructField("yb", DoubleType()),
                        StructField("yc", DoubleType())])
te_rows = [(i, i % 7, None if i % 11 == 0 else float((i * 3) % 5),
            1.0 if (i * 13) % 10 < 4 else 0.0,
            None if i % 50 == 0 else ((i * 37) % 100) / 10.0) for i in range(400)]
te = spark.createDataFrame(te_rows, te_schema).coalesce(1)
te_test_rows = [(i, i % 9, [0.0, 1.0, None, 7.0][i % 4], 0.0, 0.0) for i in range(36)]
te_test = spark.createDataFrame(te_test_rows, te_schema).coalesce(1)

te_cases = {
    "te_binary": dict(inputCols=["c1", "c2"], outputCols=["e1", "e2"], labelCol="yb",
                      handleInvalid="keep", smoothing=2.0),
    "te_binary_nosmooth": dict(inputCols=["c1", "c2"], outputCols=["e1", "e2"],
                               labelCol="yb", handleInvalid="keep"),
    "te_cont": dict(inputCol="c1", outputCol="e1", labelCol="yc", targetType="continuous",
                    smoothing=5.0),
}
for name, params in te_cases.items():
    enc = TargetEncoder(**params)
    save(enc, f"{name}_unfitted")
    m = enc.fit(te)
    save(m, name)
    outs = params.get("outputCols") or [params["outputCol"]]
    rec = {"params": params}
    for test_name, df in (("train", te), ("test", te_test)):
        if name == "te_cont" and test_name == "test":
            df = df.where("c1 < 7")  # handleInvalid=error: only seen categories
        t = m.transform(df).orderBy("id")
        rows = t.collect()
        rec[f"output_{test_name}"] = {o: [r[o] for r in rows] for o in outs}
        rec[f"metadata_{test_name}"] = {o: t.schema[o].metadata for o in outs}
    out[name] = rec

# Spark's errors: a binary label that is not 0/1, a category that is not an index, an
# unseen category under handleInvalid=error.
errs = {}
bad_label = te.withColumn("yb", F.when(F.col("id") == 5, F.lit(2.0)).otherwise(F.col("yb")))
for key, thunk in {
    "binary_label_2": lambda: TargetEncoder(inputCol="c1", outputCol="e", labelCol="yb")
    .fit(bad_label),
    "negative_category": lambda: TargetEncoder(inputCol="c2", outputCol="e", labelCol="yb")
    .fit(te.withColumn("c2", F.lit(-1.0))),
    "fractional_category": lambda: TargetEncoder(inputCol="c2", outputCol="e", labelCol="yb")
    .fit(te.withColumn("c2", F.lit(1.5))),
    "unseen_error": lambda: TargetEncoder(inputCol="c1", outputCol="e", labelCol="yb")
    .fit(te).transform(te_test).collect(),
}.items():
    try:
        thunk()
        errs[key] = None
    except Exception as e:  # noqa: BLE001
        msg = str(e)
        errs[key] = next((ln.strip() for ln in msg.splitlines() if "must" in ln.lower()
                          or "unseen" in ln.lower()), msg.splitlines()[0])[:400]
out["te_errors"] = errs

with open(f"{OUT}/expected.json", "w") as f:
    json.dump(out, f, indent=1, sort_keys=True)
# Spark writes .crc files beside its parquet and metadata; they add nothing here.
for root, _, files in os.walk(OUT):
    for fn in files:
        if fn.endswith(".crc") or fn == "_SUCCESS":
            os.remove(os.path.join(root, fn))
spark.stop()
print("wrote", OUT)
