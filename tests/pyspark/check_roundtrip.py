"""Loads an mlpipe-saved PipelineModel in PySpark and checks that Spark predicts what mlpipe
predicted (1e-9). Usage: python check_roundtrip.py OUT_DIR INPUTS_CSV
(OUT_DIR as written by tests/pyspark_roundtrip.rs: `model/` and `predictions.csv`)."""
import csv
import sys

from pyspark.ml import PipelineModel
from pyspark.sql import SparkSession

out, inputs = sys.argv[1], sys.argv[2]
spark = SparkSession.builder.master("local[1]").appName("mlpipe-roundtrip").getOrCreate()
spark.sparkContext.setLogLevel("ERROR")
model = PipelineModel.load(f"{out}/model")
lr = model.stages[-1]
# The bounds mlpipe wrote parse as Spark's own Matrix and Vector params.
ub = lr.getUpperBoundsOnCoefficients()
assert (ub.numRows, ub.numCols) == (1, 20) and set(ub.toArray().ravel()) == {0.5}, ub
assert list(lr.getLowerBoundsOnIntercepts()) == [-5.0], lr.getLowerBoundsOnIntercepts()
assert list(lr.getUpperBoundsOnIntercepts()) == [5.0], lr.getUpperBoundsOnIntercepts()
df = spark.read.csv(inputs, header=True, inferSchema=True)
rows = model.transform(df).select("customer_id", "probability", "prediction").collect()
spark_pred = {r["customer_id"]: (float(r["probability"][1]), float(r["prediction"])) for r in rows}
mine = {int(r["customer_id"]): (float(r["probability_1"]), float(r["prediction"])) for r in csv.DictReader(open(f"{out}/predictions.csv"))}
assert set(spark_pred) == set(mine), f"different rows: {len(spark_pred)} vs {len(mine)}"
worst = max(abs(spark_pred[k][0] - mine[k][0]) for k in mine)
assert worst <= 1e-9, f"probability differs by {worst}"
assert all(spark_pred[k][1] == mine[k][1] for k in mine), "predictions differ"
print(f"PySpark {spark.version} loaded the mlpipe model: {len(mine)} rows, max |dp| = {worst:.2e}")
spark.stop()
