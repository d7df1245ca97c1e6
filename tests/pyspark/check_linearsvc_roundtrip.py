"""Loads an mlpipe-saved PipelineModel (VectorAssembler -> LinearSVCModel) in PySpark and
checks its params and that Spark scores what mlpipe scored (rawPrediction to 1e-9 relative,
identical predictions). Usage: python check_linearsvc_roundtrip.py OUT_DIR INPUTS_CSV
(OUT_DIR as written by tests/spark_linear_svc.rs: `model/` and `predictions.csv`)."""
import csv
import sys

from pyspark.ml import PipelineModel
from pyspark.sql import SparkSession

out, inputs = sys.argv[1], sys.argv[2]
spark = SparkSession.builder.master("local[1]").appName("mlpipe-linearsvc-roundtrip").getOrCreate()
spark.sparkContext.setLogLevel("ERROR")
model = PipelineModel.load(f"{out}/model")
svc = model.stages[-1]
assert type(svc).__name__ == "LinearSVCModel", type(svc)
assert svc.getOrDefault("threshold") == 0.25 and svc.getOrDefault("regParam") == 0.05
assert svc.numFeatures == 30 and svc.numClasses == 2
df = spark.read.csv(inputs, header=True, inferSchema=True)
rows = model.transform(df).select("row_id", "rawPrediction", "prediction").collect()
spark_out = {r["row_id"]: (float(r["rawPrediction"][1]), float(r["prediction"])) for r in rows}
mine = {int(r["row_id"]): (float(r["margin"]), float(r["prediction"])) for r in csv.DictReader(open(f"{out}/predictions.csv"))}
assert set(spark_out) == set(mine), f"different rows: {len(spark_out)} vs {len(mine)}"
worst = max(abs(spark_out[k][0] - mine[k][0]) / max(1.0, abs(mine[k][0])) for k in mine)
assert worst <= 1e-9, f"margin differs by {worst}"
bad = [k for k in mine if spark_out[k][1] != mine[k][1]]
assert not bad, f"predictions differ on rows {bad[:5]}"
print(f"PySpark {spark.version} loaded the mlpipe LinearSVCModel: {len(mine)} rows, max rel diff {worst:.2e}")
spark.stop()
