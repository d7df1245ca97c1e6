"""Writes tests/fixtures/spark_cli/unknown_stage_pipeline/: an unfitted PySpark 4.3
Pipeline holding a stage mlpipe does not have (Word2Vec), for the CLI's unknown-stage
error. Run: /work/venv/bin/python tests/pyspark/make_unknown_stage_fixture.py
(make_cli_fixtures.py runs it too, after clearing the directory.)"""
import os
import shutil

from pyspark.ml import Pipeline
from pyspark.ml.classification import LogisticRegression
from pyspark.ml.feature import Tokenizer, Word2Vec
from pyspark.sql import SparkSession

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "fixtures", "spark_cli", "unknown_stage_pipeline")

spark = (SparkSession.builder.master("local[1]").appName("mlpipe-unknown-stage")
         .getOrCreate())
shutil.rmtree(OUT, ignore_errors=True)
Pipeline(stages=[
    Tokenizer(inputCol="PaymentMethod", outputCol="words"),
    Word2Vec(vectorSize=3, minCount=1, inputCol="words", outputCol="features"),
    LogisticRegression(labelCol="SeniorCitizen"),
]).write().save(OUT)
print(sorted(os.listdir(os.path.join(OUT, "stages"))))
spark.stop()
