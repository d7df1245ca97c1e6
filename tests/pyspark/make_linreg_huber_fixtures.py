"""Spark 4.3 LinearRegression fixtures with loss = huber.

Run: /work/venv/bin/python tests/pyspark/make_linreg_huber_fixtures.py
Writes tests/fixtures/spark2/linreg_huber.json: for each case the params, Spark's
coefficients, intercept, scale (Huber's sigma), objectiveHistory and totalIterations.
Data: synth_reg_train.csv (the shared linreg_enet training data) coalesced to one
partition, with a weight column w = 1 + 0.5 * (id % 3) (as make_linreg_fixtures.py).
"""
import json
import os

from pyspark.ml.feature import VectorAssembler
from pyspark.ml.regression import LinearRegression
from pyspark.sql import SparkSession, functions as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fixtures", "spark2")

spark = SparkSession.builder.master("local[2]").appName("linreg-huber-fixtures").getOrCreate()
df = spark.read.csv(os.path.join(OUT, "synth_reg_train.csv"), header=True, inferSchema=True)
df = df.withColumn("w", 1.0 + 0.5 * (F.col("id") % 3))
df = VectorAssembler(inputCols=["x1", "x2", "x3", "x4", "x5"], outputCol="features").transform(df)
df = df.coalesce(1).cache()

CASES = {
    "huber_default": dict(loss="huber"),
    "huber_ridge_eps": dict(loss="huber", regParam=0.1, epsilon=1.6),
    "huber_weighted_noint_nostd": dict(loss="huber", regParam=0.05, weightCol="w", fitIntercept=False, standardization=False),
}

result = {"spark_version": spark.version, "made_by": "tests/pyspark/make_linreg_huber_fixtures.py", "cases": {}}
for name, params in CASES.items():
    m = LinearRegression(**params).fit(df)
    s = m.summary
    result["cases"][name] = {
        "params": params,
        "coefficients": m.coefficients.toArray().tolist(),
        "intercept": m.intercept,
        "scale": m.scale,
        "objectiveHistory": s.objectiveHistory,
        "totalIterations": s.totalIterations,
    }
with open(os.path.join(OUT, "linreg_huber.json"), "w") as f:
    json.dump(result, f, indent=1)
print("wrote", len(CASES), "cases")
spark.stop()
