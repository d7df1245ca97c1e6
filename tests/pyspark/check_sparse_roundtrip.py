"""Loads the PipelineModel and LinearRegressionModel that mlpipe fitted on sparse features
(by tests/pyspark_sparse_roundtrip.rs) in PySpark and checks that Spark scores what mlpipe
scored: cat_vec / features / scaled stored identically (sparse or dense per row, indices
exactly, values within 1e-12 relative), predictions equal, probabilities within 1e-12.
Usage: python check_sparse_roundtrip.py OUT_DIR INPUT_CSV"""
import csv
import sys

from pyspark.ml import PipelineModel
from pyspark.ml.linalg import SparseVector
from pyspark.ml.regression import LinearRegressionModel
from pyspark.sql import SparkSession

out, data = sys.argv[1], sys.argv[2]
spark = SparkSession.builder.master("local[1]").appName("mlpipe-sparse").getOrCreate()
spark.sparkContext.setLogLevel("ERROR")
pipe = PipelineModel.load(f"{out}/pipeline")
lin = LinearRegressionModel.load(f"{out}/linreg_l1")
df = spark.read.csv(data, header=True, inferSchema=True)
got = {r["id"]: r for r in lin.transform(pipe.transform(df)).collect()}


def close(a, b, rtol):
    return a == b or abs(a - b) <= rtol * max(abs(a), abs(b))


def stored(v):
    if isinstance(v, SparseVector):
        return 0, [int(i) for i in v.indices], [float(x) for x in v.values]
    return 1, [], [float(x) for x in v.toArray()]


n = 0
for r in csv.DictReader(open(f"{out}/mlpipe.csv")):
    g = got[int(r["id"])]
    assert float(g["prediction"]) == float(r["prediction"]), (r["id"], g["prediction"], r["prediction"])
    assert close(float(g["y_pred"]), float(r["y_pred"]), 1e-12), (r["id"], g["y_pred"], r["y_pred"])
    mine = [float(v) for v in r["probability"].split(";")]
    assert all(close(a, b, 1e-12) for a, b in zip(mine, g["probability"].toArray())), r["id"]
    for col in ["cat_vec", "features", "scaled"]:
        t, idx, vals = r[col].split("|")
        t = int(t)
        idx = [int(i) for i in idx.split(";")] if idx else []
        vals = [float(x) for x in vals.split(";")] if vals else []
        st, sidx, svals = stored(g[col])
        assert (t, idx) == (st, sidx), (col, r["id"], (t, idx), (st, sidx))
        assert len(vals) == len(svals) and all(close(a, b, 1e-12) for a, b in zip(vals, svals)), (col, r["id"])
    n += 1
print(f"PySpark {spark.version} loaded mlpipe's sparse-feature pipeline and LinearRegression "
      f"(coefficients stored {type(lin.coefficients).__name__}): {n} rows agree")
spark.stop()
