"""Loads an mlpipe-saved PipelineModel (VectorAssembler -> LinearRegression) in PySpark and
checks that Spark predicts what mlpipe predicted (1e-9 relative). Usage:
python check_linreg_roundtrip.py OUT_DIR INPUTS_CSV (OUT_DIR as written by
tests/spark_linreg.rs: `model/` and `predictions.csv`)."""
import csv
import sys

from pyspark.ml import PipelineModel
from pyspark.sql import SparkSession

out, inputs = sys.argv[1], sys.argv[2]
spark = SparkSession.builder.master("local[1]").appName("mlpipe-linreg-roundtrip").getOrCreate()
spark.sparkContext.setLogLevel("ERROR")
model = PipelineModel.load(f"{out}/model")
lr = model.stages[-1]
assert type(lr).__name__ == "LinearRegressionModel", type(lr)
assert lr.getOrDefault("weightCol") == "w" and lr.getOrDefault("solver") == "normal"
df = spark.read.csv(inputs, header=True, inferSchema=True)
spark_pred = {r["id"]: float(r["prediction"]) for r in model.transform(df).select("id", "prediction").collect()}
mine = {int(r["id"]): float(r["prediction"]) for r in csv.DictReader(open(f"{out}/predictions.csv"))}
assert set(spark_pred) == set(mine), f"different rows: {len(spark_pred)} vs {len(mine)}"
worst = max(abs(spark_pred[k] - mine[k]) / max(1.0, abs(mine[k])) for k in mine)
assert worst <= 1e-9, f"prediction differs by {worst}"
print(f"PySpark {spark.version} loaded the mlpipe LinearRegressionModel: {len(mine)} rows, max rel diff {worst:.2e}")
spark.stop()
