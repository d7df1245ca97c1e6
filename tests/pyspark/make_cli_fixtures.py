"""Makes tests/fixtures/spark_cli/ with PySpark 4.3 (Java 17), for the `mlpipe fit` and
`mlpipe evaluate` tests in cli/tests/. Usage (from the repository root):

    python tests/pyspark/make_cli_fixtures.py

Data: a fixed subset of the bundled Telco churn data (data/telco_churn/telco_customer_churn.csv,
IBM sample data set, see data/telco_churn/), 1200 training and 400 held-out rows chosen with a
fixed seed, only the columns the pipeline reads plus customerID. TotalCharges is cast to double
(its 11 blank fields become nulls), as a PySpark churn script does. The rows are written to
train.csv / test.csv first and Spark fits on those very files, so mlpipe can fit on the same rows.

Writes:
- train.csv, test.csv: the rows.
- unfitted_pipeline/: `Pipeline(...).write().save(dir)` of a typical churn pipeline:
  StringIndexer(Churn -> label), StringIndexer + OneHotEncoder for five categoricals,
  Imputer(TotalCharges), VectorAssembler, StandardScaler, LogisticRegression(regParam=0.01).
- fitted_pipeline/: the PipelineModel Spark fitted from it on train.csv.
- predictions.csv: that model's output on test.csv (customerID, prediction, probability_i,
  rawPrediction_i).
- metrics.json: Spark's BinaryClassificationEvaluator and MulticlassClassificationEvaluator
  numbers on the transformed test.csv (labelCol "label", made inside the pipeline).
- unknown_stage_pipeline/: an unfitted Pipeline holding a stage mlpipe does not have (Word2Vec;
  written by make_unknown_stage_fixture.py).
"""
import csv
import json
import os
import shutil

import pandas as pd
from pyspark.ml import Pipeline
from pyspark.ml.classification import LogisticRegression
from pyspark.ml.evaluation import (BinaryClassificationEvaluator,
                                   MulticlassClassificationEvaluator)
from pyspark.ml.feature import (Imputer, OneHotEncoder, StandardScaler,
                                StringIndexer, VectorAssembler)
from pyspark.sql import SparkSession

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "fixtures", "spark_cli")
CATEGORICAL = ["gender", "Partner", "Contract", "InternetService", "PaymentMethod"]
NUMERIC = ["SeniorCitizen", "tenure", "MonthlyCharges", "TotalCharges"]
COLUMNS = ["customerID"] + CATEGORICAL + NUMERIC + ["Churn"]

shutil.rmtree(OUT, ignore_errors=True)
os.makedirs(OUT)

raw = pd.read_csv(os.path.join(ROOT, "data", "telco_churn", "telco_customer_churn.csv"),
                  dtype=str, keep_default_na=False)[COLUMNS]
raw["TotalCharges"] = pd.to_numeric(raw["TotalCharges"].str.strip().replace("", None))
# Keep every row with a blank TotalCharges (so the Imputer has work), fill up with a fixed sample.
blank = raw[raw["TotalCharges"].isna()]
rest = raw[raw["TotalCharges"].notna()].sample(n=1600 - len(blank), random_state=7)
rows = pd.concat([blank, rest]).sample(frac=1.0, random_state=11).reset_index(drop=True)
train, test = rows.iloc[:1200], rows.iloc[1200:]
# repr-exact doubles; nulls as empty fields
train.to_csv(os.path.join(OUT, "train.csv"), index=False, na_rep="", float_format="%.17g")
test.to_csv(os.path.join(OUT, "test.csv"), index=False, na_rep="", float_format="%.17g")

spark = (SparkSession.builder.master("local[1]").appName("mlpipe-cli-fixtures")
         .config("spark.sql.shuffle.partitions", "1").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
train_df = spark.read.csv(os.path.join(OUT, "train.csv"), header=True, inferSchema=True)
test_df = spark.read.csv(os.path.join(OUT, "test.csv"), header=True, inferSchema=True)
assert dict(train_df.dtypes)["TotalCharges"] == "double", train_df.dtypes

idx = [c + "_idx" for c in CATEGORICAL]
vec = [c + "_vec" for c in CATEGORICAL]
pipeline = Pipeline(stages=[
    StringIndexer(inputCol="Churn", outputCol="label"),
    StringIndexer(inputCols=CATEGORICAL, outputCols=idx, handleInvalid="keep"),
    OneHotEncoder(inputCols=idx, outputCols=vec),
    Imputer(inputCols=["TotalCharges"], outputCols=["TotalCharges_imp"]),
    VectorAssembler(inputCols=vec + ["SeniorCitizen", "tenure", "MonthlyCharges",
                                     "TotalCharges_imp"], outputCol="raw_features"),
    StandardScaler(inputCol="raw_features", outputCol="features"),
    LogisticRegression(featuresCol="features", labelCol="label", maxIter=100, regParam=0.01),
])
pipeline.write().save(os.path.join(OUT, "unfitted_pipeline"))
model = pipeline.fit(train_df)
model.write().save(os.path.join(OUT, "fitted_pipeline"))
lr = model.stages[-1]

scored = model.transform(test_df)
with open(os.path.join(OUT, "predictions.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["customerID", "prediction", "probability_0", "probability_1",
                "rawPrediction_0", "rawPrediction_1"])
    for r in scored.select("customerID", "prediction", "probability", "rawPrediction").collect():
        w.writerow([r["customerID"], repr(float(r["prediction"]))]
                   + [repr(float(x)) for x in r["probability"]]
                   + [repr(float(x)) for x in r["rawPrediction"]])

metrics = {}
for m in ["areaUnderROC", "areaUnderPR"]:
    metrics[m] = BinaryClassificationEvaluator(labelCol="label", metricName=m).evaluate(scored)
for m in ["f1", "accuracy", "weightedPrecision", "weightedRecall", "weightedTruePositiveRate",
          "weightedFalsePositiveRate", "weightedFMeasure", "logLoss", "hammingLoss"]:
    metrics[m] = MulticlassClassificationEvaluator(labelCol="label", metricName=m).evaluate(scored)
summary = {
    "spark_version": spark.version,
    "train_rows": train_df.count(),
    "test_rows": test_df.count(),
    "label_mapping": model.stages[0].labels,
    "total_iterations": lr.summary.totalIterations,
    "objective_history": lr.summary.objectiveHistory,
    "coefficients": lr.coefficients.toArray().tolist(),
    "intercept": lr.intercept,
    "metrics": metrics,
}
with open(os.path.join(OUT, "metrics.json"), "w") as f:
    json.dump(summary, f, indent=1)

print(json.dumps(metrics), lr.summary.totalIterations)
spark.stop()

# unknown_stage_pipeline/ (a Word2Vec stage, which mlpipe does not have).
import runpy  # noqa: E402
runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            "make_unknown_stage_fixture.py"))
