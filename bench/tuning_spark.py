"""Spark's CrossValidator (PySpark 4.3, local[2]) on the tuning benchmark's data, for
examples/tuning_bench.rs (which runs this script with --spark, in the same run as
mlpipe's and scikit-learn's figures).

The same rows as the Rust run: the churn file read by Spark (mlpipe's default
`Partitioning::Spark` with 2 cores cuts the file the same way), the 20 numeric features
assembled with handleInvalid="skip", `randomSplit([0.8, 0.2], 42)`'s training side. The
same estimator and grid: StandardScaler -> LogisticRegression(maxIter 100, tol 1e-6) over
regParam {0.001, 0.01, 0.1} x elasticNetParam {0, 0.5}; 3 folds, seed 7, parallelism 2,
areaUnderROC. The training split is cached and counted before the clock starts (mlpipe's
is in memory too). One run: it is the slow side.

Usage: /work/venv/bin/python bench/tuning_spark.py bench_data/churn_1m.parquet
Prints `spark_seconds S` and `spark_avg_metrics [..]` lines for the Rust side to read.
"""
import os
import sys
import time

from pyspark.ml import Pipeline
from pyspark.ml.classification import LogisticRegression
from pyspark.ml.evaluation import BinaryClassificationEvaluator
from pyspark.ml.feature import StandardScaler, VectorAssembler
from pyspark.ml.tuning import CrossValidator, ParamGridBuilder
from pyspark.sql import SparkSession

path = sys.argv[1] if len(sys.argv) > 1 else "bench_data/churn_1m.parquet"
spark = (
    SparkSession.builder.master("local[2]")
    .appName("mlpipe-tuning-bench")
    .config("spark.driver.memory", "6g")
    .config("spark.ui.enabled", "false")
    .config("spark.ui.showConsoleProgress", "false")
    .getOrCreate()
)
spark.sparkContext.setLogLevel("ERROR")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peak_rss import tree_rss  # noqa: E402

rss_before_load = tree_rss()[0]  # this process and the JVM it started
df = spark.read.parquet(path)
cols = [c for c in df.columns if c not in ("customer_id", "contract", "churn")]
assembled = (
    VectorAssembler(inputCols=cols, outputCol="features", handleInvalid="skip")
    .transform(df)
    .select("features", "churn")
)
train, _ = assembled.randomSplit([0.8, 0.2], 42)
train = train.cache()
rows = train.count()

lr = LogisticRegression(featuresCol="scaled", labelCol="churn", maxIter=100, tol=1e-6)
pipe = Pipeline(stages=[StandardScaler(inputCol="features", outputCol="scaled"), lr])
grid = (
    ParamGridBuilder()
    .addGrid(lr.regParam, [0.001, 0.01, 0.1])
    .addGrid(lr.elasticNetParam, [0.0, 0.5])
    .build()
)
cv = CrossValidator(
    estimator=pipe,
    estimatorParamMaps=grid,
    evaluator=BinaryClassificationEvaluator(labelCol="churn"),
    numFolds=3,
    seed=7,
    parallelism=2,
)
start = time.perf_counter()
model = cv.fit(train)
seconds = time.perf_counter() - start
avg = [round(float(m), 5) for m in model.avgMetrics]
print(f"spark CrossValidator (local[2], parallelism 2): {rows} rows x {len(cols)} features, "
      f"{train.rdd.getNumPartitions()} partitions, {seconds:.2f} s; avgMetrics {avg}")
print(f"spark_avg_metrics {[float(m) for m in model.avgMetrics]}")
print(f"spark_seconds {seconds:.3f}")
best = model.getEstimatorParamMaps()[max(range(len(avg)), key=lambda i: (model.avgMetrics[i], -i))]
print("spark_best {" + ", ".join(f"{p.name}={v}" for p, v in best.items()) + "}")
print(f"spark_rss_before_load_bytes {rss_before_load}")
print(f"spark_rows {rows}")
spark.stop()
