"""PySpark's own CrossValidator and TrainValidationSplit run over Spark Connect, on the
same Parquet file, pipeline, grid, seeds and evaluator as tests/connect.rs's remote
tuning test, so that mlpipe's client-driven loop can be compared with PySpark's.

Usage: python connect_tuning.py SC_URL PARQUET [SAVED_CV_MODEL]
Prints one JSON line: {"cv": {"avgMetrics", "stdMetrics", "bestIndex"},
"cv_fold": {...} (foldCol "fold"), "tvs": {"validationMetrics", "bestIndex"},
"saved": {"avgMetrics", "bestRegParam"} (when SAVED_CV_MODEL is given: the
CrossValidatorModel mlpipe had Spark save, loaded by PySpark; {"unavailable", "pyspark"}
with PySpark 4.0, whose client cannot load one over Spark Connect)}.

Keep the pipeline, grid, seeds and evaluator in step with `remote_tuning_pipeline` and
the test in tests/connect.rs.
"""
import json
import sys

import numpy as np
from pyspark.ml import Pipeline
from pyspark.ml.classification import LogisticRegression
from pyspark.ml.evaluation import BinaryClassificationEvaluator
from pyspark.ml.feature import OneHotEncoder, StandardScaler, StringIndexer, VectorAssembler
from pyspark.ml.tuning import CrossValidator, CrossValidatorModel, ParamGridBuilder
from pyspark.ml.tuning import TrainValidationSplit
from pyspark.sql import SparkSession

url, path = sys.argv[1], sys.argv[2]
saved = sys.argv[3] if len(sys.argv) > 3 else None
spark = SparkSession.builder.remote(url).getOrCreate()
df = spark.read.parquet(path)

lr = LogisticRegression(labelCol="churn", tol=1e-10, maxIter=200)
pipeline = Pipeline(
    stages=[
        StringIndexer(inputCol="contract", outputCol="contract_idx"),
        OneHotEncoder(inputCols=["contract_idx"], outputCols=["contract_vec"]),
        VectorAssembler(inputCols=["tenure", "charges", "contract_vec"], outputCol="raw"),
        StandardScaler(inputCol="raw", outputCol="features", withMean=True),
        lr,
    ]
)
grid = (
    ParamGridBuilder()
    .addGrid(lr.regParam, [0.001, 0.05, 0.3])
    .addGrid(lr.elasticNetParam, [0.0, 0.5])
    .build()
)
evaluator = BinaryClassificationEvaluator(labelCol="churn", numBins=0)

out = {}
cv = CrossValidator(estimator=pipeline, estimatorParamMaps=grid, evaluator=evaluator,
                    numFolds=3, seed=17, parallelism=2)
m = cv.fit(df)
out["cv"] = {"avgMetrics": [float(x) for x in m.avgMetrics],
             "stdMetrics": [float(x) for x in m.stdMetrics],
             "bestIndex": int(np.argmax(m.avgMetrics))}

cvf = CrossValidator(estimator=pipeline, estimatorParamMaps=grid, evaluator=evaluator,
                     numFolds=3, foldCol="fold")
m = cvf.fit(df)
out["cv_fold"] = {"avgMetrics": [float(x) for x in m.avgMetrics],
                  "stdMetrics": [float(x) for x in m.stdMetrics],
                  "bestIndex": int(np.argmax(m.avgMetrics))}

tvs = TrainValidationSplit(estimator=pipeline, estimatorParamMaps=grid, evaluator=evaluator,
                           trainRatio=0.7, seed=23)
m = tvs.fit(df)
out["tvs"] = {"validationMetrics": [float(x) for x in m.validationMetrics],
              "bestIndex": int(np.argmax(m.validationMetrics))}

if saved:
    import pyspark
    try:
        loaded = CrossValidatorModel.load(saved)
        best_lr = loaded.bestModel.stages[-1]
        out["saved"] = {"avgMetrics": [float(x) for x in loaded.avgMetrics],
                        "bestRegParam": float(best_lr.getRegParam())}
    except AttributeError as e:
        # PySpark 4.0's client cannot load any CrossValidatorModel over Spark Connect (its
        # reader asks for a local JVM); reported, and the Rust test accepts it only there.
        out["saved"] = {"unavailable": str(e), "pyspark": pyspark.__version__}

print(json.dumps(out))
spark.stop()
