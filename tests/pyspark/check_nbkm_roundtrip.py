"""Loads KMeansModel, NaiveBayesModel and OneVsRestModel that mlpipe saved (by
tests/pyspark_nbkm_roundtrip.rs) in PySpark and checks that Spark predicts what mlpipe
predicted: same cluster / class, rawPrediction and probability within 1e-9.
Usage: python check_nbkm_roundtrip.py OUT_DIR SPARK2_FIXTURE_DIR"""
import csv
import sys

from pyspark.ml.classification import NaiveBayesModel, OneVsRestModel
from pyspark.ml.clustering import KMeansModel
from pyspark.ml.feature import VectorAssembler
from pyspark.sql import SparkSession

out, s2 = sys.argv[1], sys.argv[2]
spark = SparkSession.builder.master("local[1]").appName("mlpipe-nbkm").getOrCreate()
spark.sparkContext.setLogLevel("ERROR")
cases = [
    ("kmeans", KMeansModel, "synth_blobs_train.csv", ["x1", "x2", "x3"]),
    ("nb", NaiveBayesModel, "synth_counts_train.csv", ["c1", "c2", "c3", "c4", "c5", "c6"]),
    ("ovr", OneVsRestModel, "synth_gauss3_train.csv", ["x1", "x2", "x3", "x4"]),
]
for name, cls, data, cols in cases:
    model = cls.load(f"{out}/{name}")
    df = spark.read.csv(f"{s2}/{data}", header=True, inferSchema=True)
    df = VectorAssembler(inputCols=cols, outputCol="features").transform(df)
    got = {r["id"]: r for r in model.transform(df).collect()}
    worst = 0.0
    n = 0
    for r in csv.DictReader(open(f"{out}/{name}.csv")):
        g = got[int(r["id"])]
        assert float(g["prediction"]) == float(r["prediction"]), (name, r["id"], g["prediction"], r["prediction"])
        for col in ["rawPrediction", "probability"]:
            if col in r:
                mine = [float(v) for v in r[col].split(";")]
                theirs = g[col].toArray().tolist()
                worst = max([worst] + [abs(a - b) / (1 + abs(b)) for a, b in zip(mine, theirs)])
        n += 1
    assert worst <= 1e-9, f"{name}: values differ by {worst}"
    print(f"PySpark {spark.version} loaded mlpipe's {cls.__name__}: {n} rows agree, max rel diff {worst:.2e}")
spark.stop()
