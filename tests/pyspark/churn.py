"""The churn example's script in PySpark, for tests/churn.rs (mlpipe must give these numbers).

Run: /work/venv/bin/python tests/pyspark/churn.py > tests/fixtures/churn/pyspark_churn.json
(PySpark 4.3.0, Java 17, local[2]). Same pipeline as examples/churn.rs: StringIndexer on the
label and on 15 categorical columns, OneHotEncoder, Imputer(TotalCharges), VectorAssembler,
StandardScaler, LogisticRegression(regParam=0.01), on randomSplit([0.8, 0.2], seed=42).
"""
import json

from pyspark.ml import Pipeline
from pyspark.ml.classification import LogisticRegression
from pyspark.ml.evaluation import BinaryClassificationEvaluator, MulticlassClassificationEvaluator
from pyspark.ml.feature import Imputer, OneHotEncoder, StandardScaler, StringIndexer, VectorAssembler
from pyspark.sql import SparkSession

CATEGORICAL = ["gender", "Partner", "Dependents", "PhoneService", "MultipleLines",
               "InternetService", "OnlineSecurity", "OnlineBackup", "DeviceProtection",
               "TechSupport", "StreamingTV", "StreamingMovies", "Contract", "PaperlessBilling",
               "PaymentMethod"]

spark = SparkSession.builder.master("local[2]").appName("mlpipe-churn").getOrCreate()
spark.sparkContext.setLogLevel("ERROR")
# A blank TotalCharges is a single space: read it as null.
df = spark.read.csv("data/telco_churn/telco_customer_churn.csv", header=True, inferSchema=True,
                    nullValue=" ")
train, test = df.randomSplit([0.8, 0.2], seed=42)
idx = [c + "_idx" for c in CATEGORICAL]
vec = [c + "_vec" for c in CATEGORICAL]
pipeline = Pipeline(stages=[
    StringIndexer(inputCol="Churn", outputCol="label"),
    StringIndexer(inputCols=CATEGORICAL, outputCols=idx),
    OneHotEncoder(inputCols=idx, outputCols=vec),
    Imputer(inputCols=["TotalCharges"], outputCols=["TotalCharges_imputed"]),
    VectorAssembler(inputCols=vec + ["SeniorCitizen", "tenure", "MonthlyCharges",
                                     "TotalCharges_imputed"], outputCol="raw_features"),
    StandardScaler(inputCol="raw_features", outputCol="features"),
    LogisticRegression(regParam=0.01),
])
model = pipeline.fit(train)
scored = model.transform(test)
bin_ev = BinaryClassificationEvaluator()
mc = MulticlassClassificationEvaluator()
out = {
    "made_by": "tests/pyspark/churn.py, PySpark " + spark.version + ", local[2]",
    "input_partitions": df.rdd.getNumPartitions(),
    "train_rows": train.count(),
    "test_rows": test.count(),
    "test_customer_ids": sorted(r.customerID for r in test.select("customerID").collect()),
    "areaUnderROC": bin_ev.evaluate(scored),
    "areaUnderPR": bin_ev.setMetricName("areaUnderPR").evaluate(scored),
    "accuracy": mc.setMetricName("accuracy").evaluate(scored),
    "lr_iterations": model.stages[-1].summary.totalIterations,
}
print(json.dumps(out, indent=1))
spark.stop()
