"""Makes tests/fixtures/spark_stages/: QuantileDiscretizer, RobustScaler, Binarizer,
Normalizer, ElementwiseProduct, PolynomialExpansion, DCT, VectorIndexer, VectorSlicer,
VectorSizeHint and Interaction fitted / applied by PySpark 4.3, each saved with Spark's writer, plus their
outputs in expected.json.

Run from the repository root: /work/venv/bin/python tests/pyspark/make_stage_fixtures.py
Data: the breast-cancer training rows of tests/fixtures/spark2/bc_train.csv (one
partition), and a synthetic frame of 120,000 rows computed from the row id alone (so the
Rust tests rebuild it exactly):
    x = ((id * 7919) % 100003) / 7.0
    y = NaN if id % 97 == 0 else ((id * 31) % 1000) / 10.0 - 50.0
in 3 partitions of 40,000 consecutive ids (spark.range), or coalesced to one. The master
is local[1], so partition results merge in partition order, as mlpipe merges them.
"""
import json
import os
import shutil

from pyspark.ml.feature import (DCT, Binarizer, ElementwiseProduct, Interaction, Normalizer,
                                PolynomialExpansion, QuantileDiscretizer, RobustScaler,
                                VectorAssembler, VectorIndexer, VectorIndexerModel,
                                VectorSizeHint, VectorSlicer)
from pyspark.ml.linalg import Vectors
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

OUT = "tests/fixtures/spark_stages"
shutil.rmtree(OUT, ignore_errors=True)
os.makedirs(OUT)
spark = (SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
         .config("spark.sql.shuffle.partitions", "1").getOrCreate())

bc = spark.read.csv("tests/fixtures/spark2/bc_train.csv", header=True,
                    inferSchema=True).coalesce(1)
synth3 = spark.range(0, 120000, 1, numPartitions=3).select(
    "id",
    ((F.col("id") * 7919) % 100003).cast("double") / F.lit(7.0),
    F.when(F.col("id") % 97 == 0, F.lit(float("nan"))).otherwise(
        ((F.col("id") * 31) % 1000).cast("double") / F.lit(10.0) - F.lit(50.0)),
).toDF("id", "x", "y")
synth1 = synth3.coalesce(1)
out = {"made_by": "tests/pyspark/make_stage_fixtures.py", "spark_version": spark.version}


def save(stage, name):
    stage.write().overwrite().save(f"{OUT}/{name}")


def vec(v):
    return None if v is None else [float(x) for x in v.toArray()]


def finite(o):
    """JSON has no NaN or infinity: they are written as "NaN", "Infinity", "-Infinity"."""
    if isinstance(o, float) and (o != o or o in (float("inf"), float("-inf"))):
        return "NaN" if o != o else ("Infinity" if o > 0 else "-Infinity")
    if isinstance(o, dict):
        return {k: finite(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [finite(v) for v in o]
    return o


def meta(df, col):
    return df.schema[col].metadata


# ---- QuantileDiscretizer: splits from Spark's approxQuantile ----
qd_cases = {
    "qd_x_3parts": (synth3, dict(inputCol="x", outputCol="xb", numBuckets=10,
                                 relativeError=0.01)),
    "qd_x_exact": (synth1, dict(inputCol="x", outputCol="xb", numBuckets=7, relativeError=0.0)),
    "qd_multi": (synth1, dict(inputCols=["x", "y"], outputCols=["xb", "yb"],
                              numBucketsArray=[4, 7], relativeError=0.05,
                              handleInvalid="keep")),
    "qd_multi_same": (synth3, dict(inputCols=["y", "x"], outputCols=["yb", "xb"],
                                   numBuckets=5, relativeError=0.001, handleInvalid="skip")),
    "qd_bc": (bc, dict(inputCol="f3", outputCol="f3b", numBuckets=6)),
}
for name, (df, params) in qd_cases.items():
    qd = QuantileDiscretizer(**params)
    save(qd, f"{name}_unfitted")
    b = qd.fit(df)
    save(b, name)
    rec = {"params": params,
           "splits": b.getSplits() if b.isSet("splits") else None,
           "splitsArray": b.getSplitsArray() if b.isSet("splitsArray") else None}
    if name == "qd_bc":
        t = b.transform(df)
        rec["output"] = [r["f3b"] for r in t.orderBy("row_id").collect()]
        rec["metadata"] = meta(t, "f3b")
    out[name] = rec

# ---- RobustScaler ----
feat30 = [f"f{i}" for i in range(30)]
bcv = VectorAssembler(inputCols=feat30, outputCol="v").transform(bc)
s3v = VectorAssembler(inputCols=["x", "y"], outputCol="v", handleInvalid="keep").transform(synth3)
rs_cases = {
    "rs_bc": (bcv, dict(inputCol="v", outputCol="s", withCentering=True)),
    "rs_synth": (s3v, dict(inputCol="v", outputCol="s", lower=0.1, upper=0.9,
                           relativeError=0.01, withCentering=True, withScaling=False)),
}
for name, (df, params) in rs_cases.items():
    rs = RobustScaler(**params)
    save(rs, f"{name}_unfitted")
    m = rs.fit(df)
    save(m, name)
    t = m.transform(df).limit(25).collect()
    out[name] = {"params": params, "range": vec(m.range), "median": vec(m.median),
                 "output": [vec(r["s"]) for r in t]}


# ---- transformers on the breast-cancer rows ----
def apply(name, stage, df, cols):
    save(stage, name)
    t = stage.transform(df).orderBy("row_id")
    rows = t.collect()
    out[name] = {"params": {k.name: v for k, v in stage.extractParamMap().items()
                            if not isinstance(v, type(Vectors.dense([0.0])))},
                 "metadata": {c: meta(t, c) for c in cols},
                 "output": {c: [vec(r[c]) if hasattr(r[c], "toArray") else r[c] for r in rows]
                            for c in cols}}


bc5 = VectorAssembler(inputCols=["f0", "f1", "f4", "f9", "f20"], outputCol="v5").transform(bc)
apply("bin_scalar", Binarizer(inputCol="f0", outputCol="b", threshold=15.0), bc5, ["b"])
apply("bin_multi", Binarizer(inputCols=["f0", "f1", "v5"], outputCols=["b0", "b1", "bv"],
                             thresholds=[14.0, 20.0, 0.1]), bc5, ["b0", "b1", "bv"])
apply("bin_vector", Binarizer(inputCol="v5", outputCol="bv", threshold=1.0), bc5, ["bv"])
apply("norm_p1", Normalizer(inputCol="v5", outputCol="n", p=1.0), bc5, ["n"])
apply("norm_p3", Normalizer(inputCol="v5", outputCol="n", p=3.0), bc5, ["n"])
apply("norm_inf", Normalizer(inputCol="v5", outputCol="n", p=float("inf")), bc5, ["n"])
apply("elemprod", ElementwiseProduct(inputCol="v5", outputCol="e",
                                     scalingVec=Vectors.dense([2.0, -0.5, 0.0, 1e3, 0.1])),
      bc5, ["e"])
bc3 = VectorAssembler(inputCols=["f0", "f4", "f9"], outputCol="v3").transform(bc)
apply("poly3", PolynomialExpansion(inputCol="v3", outputCol="p", degree=3), bc3, ["p"])
bc8 = VectorAssembler(inputCols=[f"f{i}" for i in range(8)], outputCol="v8").transform(bc)
apply("dct", DCT(inputCol="v8", outputCol="d"), bc8, ["d"])
apply("dct_inverse", DCT(inputCol="v8", outputCol="d", inverse=True), bc8, ["d"])
apply("slicer", VectorSlicer(inputCol="v5", outputCol="s", indices=[3, 0], names=["f20"]), bc5,
      ["s"])
apply("size_hint", VectorSizeHint(inputCol="v5", size=5, handleInvalid="skip"), bc5, ["v5"])

# ---- VectorIndexer: discrete columns derived from the breast-cancer features ----
def discrete(df):
    return VectorAssembler(inputCols=["f0", "d1", "d2", "d3"], outputCol="v").transform(
        df.withColumn("d1", F.round(F.col("f1") / 10))
          .withColumn("d2", (F.col("f4") > 0.1).cast("double"))
          .withColumn("d3", F.floor(F.col("f9") * 100) - 6))


bc_test = spark.read.csv("tests/fixtures/spark2/bc_test.csv", header=True,
                         inferSchema=True).coalesce(1)
for name, params, test in [
    ("vi_keep", dict(inputCol="v", outputCol="idx", maxCategories=5, handleInvalid="keep"), True),
    ("vi_default", dict(inputCol="v", outputCol="idx", maxCategories=6), False),
]:
    vi = VectorIndexer(**params)
    save(vi, f"{name}_unfitted")
    m = vi.fit(discrete(bc))
    save(m, name)
    t = m.transform(discrete(bc_test if test else bc)).orderBy("row_id")
    out[name] = {"params": params, "numFeatures": m.numFeatures,
                 "categoryMaps": {str(k): {repr(float(v)): i for v, i in mp.items()}
                                  for k, mp in m.categoryMaps.items()},
                 "metadata": meta(t, "idx"),
                 "output": [vec(r["idx"]) for r in t.collect()]}

# ---- Interaction: a numeric column, VectorIndexer's output (nominal and binary
# elements), another numeric column ----
indexed = VectorIndexerModel.load(f"{OUT}/vi_default").transform(discrete(bc))
apply("interaction", Interaction(inputCols=["f3", "idx", "f1"], outputCol="inter"), indexed,
      ["inter"])

with open(f"{OUT}/expected.json", "w") as f:
    json.dump(finite(out), f, indent=None, allow_nan=False)
spark.stop()
