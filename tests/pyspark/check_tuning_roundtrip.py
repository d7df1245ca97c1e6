"""Loads the CrossValidatorModel, TrainValidationSplitModel and CrossValidator that mlpipe
saved in PySpark 4.3 and checks them against what mlpipe wrote beside them: the metrics,
the param maps, and the best model's predictions on the test CSV (1e-9).
Usage: python check_tuning_roundtrip.py OUT_DIR TEST_CSV
(OUT_DIR as written by tests/pyspark_tuning_roundtrip.rs: `cvm/`, `tvsm/`, `cv/`,
`expected.json` and `predictions.csv`)."""
import csv
import json
import sys

from pyspark.ml.tuning import CrossValidator, CrossValidatorModel, TrainValidationSplitModel
from pyspark.sql import SparkSession

out, test_csv = sys.argv[1], sys.argv[2]
spark = SparkSession.builder.master("local[1]").appName("mlpipe-tuning-roundtrip").getOrCreate()
spark.sparkContext.setLogLevel("ERROR")
exp = json.load(open(f"{out}/expected.json"))

cvm = CrossValidatorModel.load(f"{out}/cvm")
assert max(abs(a - b) for a, b in zip(cvm.avgMetrics, exp["avgMetrics"])) == 0.0, cvm.avgMetrics
maps = [{p.name: v for p, v in m.items()} for m in cvm.getEstimatorParamMaps()]
assert maps == exp["maps"], maps
assert cvm.getNumFolds() == 2 and cvm.getSeed() == 13, (cvm.getNumFolds(), cvm.getSeed())
assert cvm.getEvaluator().getMetricName() == "areaUnderPR"
assert len(cvm.subModels) == 2 and len(cvm.subModels[0]) == 4

df = spark.read.csv(test_csv, header=True, inferSchema=True)
rows = cvm.transform(df).select("id", "probability", "prediction").collect()
spark_pred = {int(r["id"]): (float(r["probability"][1]), float(r["prediction"])) for r in rows}
mine = {int(r["id"]): (float(r["probability_1"]), float(r["prediction"])) for r in csv.DictReader(open(f"{out}/predictions.csv"))}
assert set(spark_pred) == set(mine), f"different rows: {len(spark_pred)} vs {len(mine)}"
worst = max(abs(spark_pred[k][0] - mine[k][0]) for k in mine)
assert worst <= 1e-9, f"probability differs by {worst}"
assert all(spark_pred[k][1] == mine[k][1] for k in mine), "predictions differ"

tvsm = TrainValidationSplitModel.load(f"{out}/tvsm")
assert list(tvsm.validationMetrics) == exp["validationMetrics"], tvsm.validationMetrics
assert tvsm.getTrainRatio() == 0.75
rows = tvsm.transform(df).select("id", "prediction").collect()
assert len(rows) == len(mine)

cv = CrossValidator.load(f"{out}/cv")
assert cv.getNumFolds() == 2 and len(cv.getEstimatorParamMaps()) == 4
print(f"PySpark {spark.version} loaded mlpipe's CrossValidatorModel ({len(mine)} rows, max |dp| = {worst:.2e}), TrainValidationSplitModel and CrossValidator")
spark.stop()
