"""Makes tests/fixtures/spark_stat/: the statistics package (Summarizer, Correlation,
ChiSquareTest, ANOVATest, FValueTest, KolmogorovSmirnovTest) and the selectors
(ChiSqSelector, UnivariateFeatureSelector) run by PySpark 4.3, their outputs in
expected.json, and the selectors saved with Spark's writer.

Run from the repository root: /work/venv/bin/python tests/pyspark/make_stat_fixtures.py
Data: data.csv (60 rows) and ks_big.csv (300 rows) drawn here from numpy's PCG64 with a
fixed seed and written first, then read back by Spark, so the Rust tests read the very
same values. master local[1], one partition: partial results merge in row order.
ANOVATest and FValueTest are `private[ml]` in Scala, public in the JVM: called through py4j.
"""
import json
import os
import shutil

import numpy as np
from pyspark.ml.feature import (ChiSqSelector, UnivariateFeatureSelector, VectorAssembler)
from pyspark.ml.stat import ChiSquareTest, Correlation, KolmogorovSmirnovTest, Summarizer
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

OUT = "tests/fixtures/spark_stat"
shutil.rmtree(OUT, ignore_errors=True)
os.makedirs(OUT)

rng = np.random.default_rng(20261130)
n = 60
label = rng.integers(0, 3, n)
cols = {
    "id": np.arange(n),
    "c0": rng.integers(0, 3, n),
    "c1": np.where(rng.random(n) < 0.7, label, rng.integers(0, 4, n)),
    "c2": rng.integers(0, 2, n),
    "c3": np.zeros(n, dtype=int),  # one category: degrees of freedom 0, p-value 1
    "c4": np.where(rng.random(n) < 0.9, label * 2, 5),
    "x0": np.round(rng.normal(0, 1, n), 6),
    "x1": np.round(label + rng.normal(0, 0.8, n), 6),
    "x2": np.round(rng.normal(3, 2, n), 6),
    "x3": np.round(rng.normal(0, 1, n), 1),  # ties for spearman's average ranks
    "x4": np.where(rng.random(n) < 0.5, 0.0, np.round(rng.normal(1, 1, n), 6)),  # zeros
    "k": np.full(n, 2.5),  # constant: correlation NaN
    "label": label,
    "w": np.where(rng.random(n) < 0.1, 0.0, np.round(rng.uniform(0.1, 2.0, n), 3)),
    "s": np.round(rng.normal(0.3, 1.2, n), 6),
}
cols["y"] = np.round(2 * cols["x0"] - cols["x2"] + rng.normal(0, 1, n), 6)
names = list(cols)
with open(f"{OUT}/data.csv", "w") as f:
    f.write(",".join(names) + "\n")
    for i in range(n):
        f.write(",".join(repr(float(cols[c][i])) if c not in ("id",) else str(int(cols[c][i]))
                         for c in names) + "\n")
big = np.round(rng.standard_t(5, 300), 6)
with open(f"{OUT}/ks_big.csv", "w") as f:
    f.write("s\n")
    for v in big:
        f.write(repr(float(v)) + "\n")

spark = (SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
         .config("spark.sql.shuffle.partitions", "1").getOrCreate())
df = spark.read.csv(f"{OUT}/data.csv", header=True, inferSchema=True).coalesce(1)
big_df = spark.read.csv(f"{OUT}/ks_big.csv", header=True, inferSchema=True).coalesce(1)
cat = VectorAssembler(inputCols=["c0", "c1", "c2", "c3", "c4"], outputCol="cat").transform(df)
cont = VectorAssembler(inputCols=["x0", "x1", "x2", "x3", "x4"], outputCol="cont").transform(cat)
full = VectorAssembler(inputCols=["x0", "x1", "x2", "x3", "x4", "k"], outputCol="full").transform(cont)
data = full.cache()
out = {"made_by": "tests/pyspark/make_stat_fixtures.py", "spark_version": spark.version}


def finite(o):
    """JSON has no NaN or infinity: they are written as "NaN", "Infinity", "-Infinity"."""
    if isinstance(o, float) and (o != o or o in (float("inf"), float("-inf"))):
        return "NaN" if o != o else ("Infinity" if o > 0 else "-Infinity")
    if isinstance(o, dict):
        return {k: finite(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [finite(v) for v in o]
    return o


def vec(v):
    return [float(x) for x in v.toArray()]


# ---- Summarizer ----
metrics = ["mean", "sum", "variance", "std", "count", "numNonZeros", "max", "min", "normL2",
           "normL1"]
summ = {}
for weighted in (False, True):
    s = Summarizer.metrics(*metrics)
    col = s.summary(F.col("full"), F.col("w")) if weighted else s.summary(F.col("full"))
    row = data.select(col.alias("s")).first()["s"]
    summ["weighted" if weighted else "unweighted"] = {
        m: (int(row[m]) if m == "count" else vec(row[m])) for m in metrics}
out["summarizer"] = summ

# ---- Correlation ----
for method in ("pearson", "spearman"):
    m = Correlation.corr(data, "full", method).first()[0]
    out[f"corr_{method}"] = m.toArray().tolist()

# ---- ChiSquareTest ----
r = ChiSquareTest.test(data, "cat", "label").first()
out["chisq"] = {"pValues": vec(r.pValues), "degreesOfFreedom": list(r.degreesOfFreedom),
                "statistics": vec(r.statistics)}
flat = ChiSquareTest.test(data, "cat", "label", True).orderBy("featureIndex").collect()
out["chisq_flat"] = [[x.featureIndex, x.pValue, x.degreesOfFreedom, x.statistic] for x in flat]

# ---- ANOVA and F-regression (private[ml] objects, through py4j) ----
jvm = spark._jvm
for name, obj, lab in (("anova", jvm.org.apache.spark.ml.stat.ANOVATest, "label"),
                       ("fvalue", jvm.org.apache.spark.ml.stat.FValueTest, "y")):
    jdf = obj.test(data._jdf, "cont", lab, False)
    from pyspark.sql import DataFrame
    r = DataFrame(jdf, spark).first()
    out[name] = {"pValues": vec(r.pValues), "degreesOfFreedom": list(r.degreesOfFreedom),
                 "fValues": vec(r.fValues)}

# ---- KolmogorovSmirnovTest ----
ks = []
for frame, params in ((data, [0.3, 1.2]), (data, []), (big_df, [0.0, 1.0]), (big_df, [0.1, 1.3])):
    r = KolmogorovSmirnovTest.test(frame, "s", "norm", *params).first()
    ks.append({"rows": frame.count(), "params": params, "statistic": r.statistic,
               "pValue": r.pValue})
out["ks"] = ks

# ---- selectors ----
sel = {}
for st, kw in (("numTopFeatures", {"numTopFeatures": 2}), ("percentile", {"percentile": 0.5}),
               ("fpr", {"fpr": 0.05}), ("fdr", {"fdr": 0.1}), ("fwe", {"fwe": 0.05}),
               ("numTopFeatures", {})):
    m = ChiSqSelector(featuresCol="cat", labelCol="label", outputCol="sel", selectorType=st,
                      **kw).fit(data)
    sel[f"{st}{'_default' if not kw else ''}"] = list(m.selectedFeatures)
out["chisq_selector"] = sel

ufs = {}
cases = [("categorical", "categorical", "cat", "label"),
         ("continuous", "categorical", "cont", "label"),
         ("continuous", "continuous", "cont", "y")]
for ft, lt, fc, lc in cases:
    for mode, th in (("numTopFeatures", 2.0), ("percentile", 0.4), ("fpr", 0.01),
                     ("fdr", 0.05), ("fwe", 0.05), ("numTopFeatures", None),
                     ("percentile", None), ("fpr", None)):
        u = UnivariateFeatureSelector(featuresCol=fc, labelCol=lc, outputCol="sel",
                                      selectionMode=mode).setFeatureType(ft).setLabelType(lt)
        if th is not None:
            u.setSelectionThreshold(th)
        m = u.fit(data)
        ufs[f"{ft}/{lt}/{mode}/{th}"] = list(m.selectedFeatures)
out["ufs"] = ufs

# saved stages and transform outputs (metadata) for the persistence tests
cs = ChiSqSelector(featuresCol="cat", labelCol="label", outputCol="sel", numTopFeatures=3)
cs.write().overwrite().save(f"{OUT}/chisq_selector")
csm = cs.fit(data)
csm.write().overwrite().save(f"{OUT}/chisq_selector_model")
u = (UnivariateFeatureSelector(featuresCol="cont", labelCol="label", outputCol="sel",
                               selectionMode="fpr").setFeatureType("continuous")
     .setLabelType("categorical").setSelectionThreshold(0.05))
u.write().overwrite().save(f"{OUT}/ufs")
um = u.fit(data)
um.write().overwrite().save(f"{OUT}/ufs_model")
t = csm.transform(data)
out["chisq_selector_model"] = {
    "selectedFeatures": list(csm.selectedFeatures),
    "ml_attr": t.schema["sel"].metadata,
    "rows": [vec(r.sel) for r in t.select("sel").collect()],
}
t = um.transform(data)
out["ufs_model"] = {
    "selectedFeatures": list(um.selectedFeatures),
    "ml_attr": t.schema["sel"].metadata,
    "rows": [vec(r.sel) for r in t.select("sel").collect()],
}
# input without attributes: Spark's default attributes (nominal for ChiSqSelector, numeric for
# UnivariateFeatureSelector)
from pyspark.ml.functions import array_to_vector
bare = data.select(array_to_vector(F.array("c0", "c1", "c2", "c3", "c4")).alias("cat"), "label")
out["chisq_selector_bare_ml_attr"] = csm.transform(bare).schema["sel"].metadata
bare = data.select(array_to_vector(F.array("x0", "x1", "x2", "x3", "x4")).alias("cont"), "label")
out["ufs_bare_ml_attr"] = um.transform(bare).schema["sel"].metadata

with open(f"{OUT}/expected.json", "w") as f:
    json.dump(finite(out), f, indent=1)
print("done", spark.version)
