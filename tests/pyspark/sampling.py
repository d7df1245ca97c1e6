"""Spark's Dataset.sample rows, for tests/sampling.rs.

Run: /work/venv/bin/python tests/pyspark/sampling.py > tests/fixtures/spark2/sample.json
(PySpark 4.3.0, Java 17, local[2]).
"""
import json

from pyspark.sql import SparkSession

spark = SparkSession.builder.master("local[2]").appName("mlpipe-sample").getOrCreate()
spark.sparkContext.setLogLevel("ERROR")
df = spark.range(0, 40, 1, 2)
cases = []
for with_replacement, fraction, seed in [
    (False, 0.3, 11),
    (False, 0.75, 42),
    (False, 0.0, 5),
    (True, 0.5, 3),
    (True, 2.0, 42),
]:
    rows = df.sample(with_replacement, fraction, seed).collect()
    cases.append({
        "with_replacement": with_replacement,
        "fraction": fraction,
        "seed": seed,
        "ids": [r.id for r in rows],
    })
print(json.dumps({
    "made_by": "tests/pyspark/sampling.py, PySpark " + spark.version + ", local[2]",
    "data": "spark.range(0, 40, 1, 2): ids 0..19 in partition 0, 20..39 in partition 1",
    "cases": cases,
}, indent=1))
spark.stop()
