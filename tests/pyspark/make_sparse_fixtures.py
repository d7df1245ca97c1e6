"""Makes tests/fixtures/spark_sparse/: sparse vectors written and read by PySpark 4.3.

Run from the repository root: /work/venv/bin/python tests/pyspark/make_sparse_fixtures.py

- input.csv: 240 rows (numpy default_rng([2026, 16])): a category `cat` (8 values, uneven
  frequencies), two numbers `x1` / `x2` that are mostly 0, a binary `label`, a number `y`.
- pipeline/: a fitted PipelineModel saved by Spark: StringIndexer(cat, alphabetAsc) ->
  OneHotEncoder -> VectorAssembler([cat_vec, x1, x2]) -> StandardScaler(withMean=false)
  -> MinMaxScaler -> LogisticRegression(regParam=0.01, tol=1e-12), trained on one
  partition.
- transformed.json: every vector of the pipeline's output per row (Spark's own storage:
  type 0 sparse with size / indices / values, type 1 dense), and the LR coefficients.
- transformed.parquet/: the same output written by `df.write.parquet` (VectorUDT columns).
- linreg_l1/: LinearRegression(elasticNetParam=1, regParam=0.5) on `features` -> `y`, whose
  saved coefficients are a sparse vector (Spark's `.compressed`), with its predictions in
  transformed.json.
"""
import json
import os
import shutil

import numpy as np
from pyspark.ml import Pipeline
from pyspark.ml.classification import LogisticRegression
from pyspark.ml.feature import (MinMaxScaler, OneHotEncoder, StandardScaler, StringIndexer,
                                VectorAssembler)
from pyspark.ml.linalg import DenseVector, SparseVector
from pyspark.ml.regression import LinearRegression
from pyspark.sql import SparkSession

OUT = "tests/fixtures/spark_sparse"
os.makedirs(OUT, exist_ok=True)
spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
         .config("spark.sql.shuffle.partitions", "2").getOrCreate())
rng = np.random.default_rng([2026, 16])

cats = [f"c{i}" for i in range(8)]
probs = np.array([30, 20, 15, 10, 10, 8, 4, 3], dtype=float)
probs /= probs.sum()
rows = []
for i in range(240):
    c = int(rng.choice(8, p=probs))
    x1 = float(np.round(rng.normal(2.0, 1.5), 6)) if rng.random() < 0.3 else 0.0
    x2 = float(np.round(rng.normal(-1.0, 3.0), 6)) if rng.random() < 0.5 else 0.0
    m = [-1.0, 0.5, 1.2, -0.3, 0.8, -1.5, 2.0, 0.1][c] + 0.6 * x1 - 0.2 * x2
    label = int(rng.random() < 1.0 / (1.0 + np.exp(-m)))
    y = float(np.round(3.0 * (c == 2) - 2.0 * (c == 5) + 1.5 * x1 + rng.normal(0, 0.5), 6))
    rows.append((i, cats[c], x1, x2, label, y))
with open(f"{OUT}/input.csv", "w") as f:
    f.write("id,cat,x1,x2,label,y\n")
    for r in rows:
        f.write(f"{r[0]},{r[1]},{r[2]!r},{r[3]!r},{r[4]},{r[5]!r}\n")

df = spark.read.csv(f"{OUT}/input.csv", header=True, inferSchema=True).coalesce(1)
pipe = Pipeline(stages=[
    StringIndexer(inputCol="cat", outputCol="cat_idx", stringOrderType="alphabetAsc"),
    OneHotEncoder(inputCol="cat_idx", outputCol="cat_vec"),
    VectorAssembler(inputCols=["cat_vec", "x1", "x2"], outputCol="features"),
    StandardScaler(inputCol="features", outputCol="scaled"),
    MinMaxScaler(inputCol="features", outputCol="mm"),
    LogisticRegression(featuresCol="features", labelCol="label", regParam=0.01, tol=1e-12,
                       maxIter=500),
])
model = pipe.fit(df)
shutil.rmtree(f"{OUT}/pipeline", ignore_errors=True)
model.write().overwrite().save(f"{OUT}/pipeline")
out = model.transform(df)

lin = LinearRegression(featuresCol="features", labelCol="y", elasticNetParam=1.0, regParam=0.5,
                       tol=1e-12, maxIter=500, predictionCol="y_pred")
lin_model = lin.fit(out.select("id", "features", "y"))
shutil.rmtree(f"{OUT}/linreg_l1", ignore_errors=True)
lin_model.write().overwrite().save(f"{OUT}/linreg_l1")
out = lin_model.transform(out)


def vec(v):
    if isinstance(v, SparseVector):
        return {"type": 0, "size": int(v.size), "indices": [int(i) for i in v.indices],
                "values": [float(x) for x in v.values]}
    assert isinstance(v, DenseVector)
    return {"type": 1, "values": [float(x) for x in v.values]}


cols = ["cat_vec", "features", "scaled", "mm", "rawPrediction", "probability"]
res = {
    "made_by": "tests/pyspark/make_sparse_fixtures.py",
    "spark_version": spark.version,
    "lr_coefficients": [float(x) for x in model.stages[-1].coefficients.toArray()],
    "lr_intercept": float(model.stages[-1].intercept),
    "linreg_coefficients": vec(lin_model.coefficients),
    "linreg_intercept": float(lin_model.intercept),
    "rows": [],
}
for r in out.orderBy("id").collect():
    row = {"id": r["id"], "prediction": float(r["prediction"]), "y_pred": float(r["y_pred"])}
    for c in cols:
        row[c] = vec(r[c])
    res["rows"].append(row)
with open(f"{OUT}/transformed.json", "w") as f:
    json.dump(res, f, indent=0)
shutil.rmtree(f"{OUT}/transformed.parquet", ignore_errors=True)
out.select("id", *cols).coalesce(1).write.parquet(f"{OUT}/transformed.parquet")
spark.stop()
