"""Spark 4.3 evaluator numbers with an uneven weight column, for the CLI's `evaluate --weight`.

Reads tests/fixtures/spark_cli/test.csv, adds a weight column `w` cycling through
0.25, 1, 2.5, 4 by row (so a weighted metric differs from the unweighted one), writes it as
test_weighted.csv, scores it with the Spark-fitted `fitted_pipeline`, and writes Spark's
BinaryClassificationEvaluator / MulticlassClassificationEvaluator numbers with weightCol "w"
to weighted_metrics.json.

Run: python tests/pyspark/make_cli_weighted_metrics.py   (PySpark 4.3.0, Java 17)
"""
import json
import os

import pandas as pd
from pyspark.ml import PipelineModel
from pyspark.ml.evaluation import (BinaryClassificationEvaluator,
                                   MulticlassClassificationEvaluator)
from pyspark.sql import SparkSession

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "spark_cli")
WEIGHTS = [0.25, 1.0, 2.5, 4.0]

test = pd.read_csv(os.path.join(OUT, "test.csv"), dtype=str, keep_default_na=False)
test["w"] = [repr(WEIGHTS[i % len(WEIGHTS)]) for i in range(len(test))]
path = os.path.join(OUT, "test_weighted.csv")
test.to_csv(path, index=False)

spark = SparkSession.builder.master("local[1]").appName("cli-weighted").getOrCreate()
df = spark.read.csv(path, header=True, inferSchema=True)
scored = PipelineModel.load(os.path.join(OUT, "fitted_pipeline")).transform(df)
metrics = {}
for m in ["areaUnderROC", "areaUnderPR"]:
    metrics[m] = BinaryClassificationEvaluator(
        labelCol="label", weightCol="w", metricName=m).evaluate(scored)
for m in ["f1", "accuracy", "weightedPrecision", "weightedRecall", "logLoss"]:
    metrics[m] = MulticlassClassificationEvaluator(
        labelCol="label", weightCol="w", metricName=m).evaluate(scored)
with open(os.path.join(OUT, "weighted_metrics.json"), "w") as f:
    json.dump({"spark_version": spark.version, "weights": WEIGHTS, "metrics": metrics}, f, indent=1)
print(json.dumps(metrics))
spark.stop()
