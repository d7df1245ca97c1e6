"""Spark 4.3 LinearRegression fixtures beyond the shared linreg_enet case.

Run: /work/venv/bin/python tests/pyspark/make_linreg_fixtures.py
Writes tests/fixtures/spark2/linreg_cases.json: for each case the params, Spark's
coefficients, intercept, scale and training summary (objectiveHistory, metrics, and the
coefficient standard errors, t-values and p-values where Spark has them), and the model
saved by Spark under tests/fixtures/spark2/linreg_<case>_model/.
Data: synth_reg_train.csv (the shared linreg_enet training data) coalesced to one
partition, with a weight column w = 1 + 0.5 * (id % 3).
"""
import json
import os
import shutil

from pyspark.ml.feature import VectorAssembler
from pyspark.ml.regression import LinearRegression
from pyspark.sql import SparkSession, functions as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fixtures", "spark2")

spark = SparkSession.builder.master("local[2]").appName("linreg-fixtures").getOrCreate()
df = spark.read.csv(os.path.join(OUT, "synth_reg_train.csv"), header=True, inferSchema=True)
df = df.withColumn("w", 1.0 + 0.5 * (F.col("id") % 3))
df = VectorAssembler(inputCols=["x1", "x2", "x3", "x4", "x5"], outputCol="features").transform(df)
df = df.coalesce(1).cache()

CASES = {
    "normal_weighted": dict(solver="normal", weightCol="w"),
    "normal_plain_noint": dict(solver="normal", fitIntercept=False),
    "normal_ridge": dict(solver="normal", regParam=0.1, standardization=False),
    "normal_enet": dict(solver="normal", regParam=0.05, elasticNetParam=0.3),
    "lbfgs_ridge_weighted": dict(solver="l-bfgs", regParam=0.1, weightCol="w"),
    "lbfgs_lasso_nostd": dict(solver="l-bfgs", regParam=0.05, elasticNetParam=1.0, standardization=False),
}


def attempt(f):
    try:
        return f()
    except Exception as e:  # Spark throws when a statistic is unavailable
        return "unavailable: " + str(e).split("\n")[0][:120]


result = {"spark_version": spark.version, "cases": {}}
for name, params in CASES.items():
    lr = LinearRegression(**params)
    m = lr.fit(df)
    s = m.summary
    path = os.path.join(OUT, f"linreg_{name}_model")
    shutil.rmtree(path, ignore_errors=True)
    m.write().save(path)
    preds = [r.prediction for r in m.transform(df).orderBy("id").select("prediction").collect()]
    result["cases"][name] = {
        "params": params,
        "coefficients": m.coefficients.toArray().tolist(),
        "intercept": m.intercept,
        "scale": m.scale,
        "summary": {
            "objectiveHistory": s.objectiveHistory,
            "totalIterations": s.totalIterations,
            "rootMeanSquaredError": s.rootMeanSquaredError,
            "meanAbsoluteError": s.meanAbsoluteError,
            "r2": s.r2,
            "r2adj": s.r2adj,
            "explainedVariance": s.explainedVariance,
            "devianceResiduals": s.devianceResiduals,
            "coefficientStandardErrors": attempt(lambda: s.coefficientStandardErrors),
            "tValues": attempt(lambda: s.tValues),
            "pValues": attempt(lambda: s.pValues),
        },
        "train_predictions_first5": preds[:5],
    }
    for root, _, files in os.walk(path):
        for f in files:
            if f.endswith(".crc"):
                os.remove(os.path.join(root, f))

with open(os.path.join(OUT, "linreg_cases.json"), "w") as f:
    json.dump(result, f, indent=1)
spark.stop()
