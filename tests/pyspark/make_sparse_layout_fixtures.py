"""Makes tests/fixtures/spark_sparse_layout/expected.json: which rows Spark 4.3's element-wise
vector stages, HashingTF on non-string lists and VectorAssembler store dense or sparse.

Run from the repository root: /work/venv/bin/python tests/pyspark/make_sparse_layout_fixtures.py

- `input`: the vector column `v` (size 6; dense rows, sparse rows, a sparse row storing an
  explicit 0.0, an all-zero dense row, an empty sparse row), a number `x` and a size-2
  vector `w`, one partition.
- `stages`: for each stage (name -> params), every output row as Spark stores it: type 0
  sparse (size / indices / values) or type 1 dense (values).
- `hashing`: HashingTF on array<int|bigint|smallint|tinyint|double|float|boolean|string>
  columns (numFeatures 2^18 and 16 binary), each row's sparse output.
- `assembler`: VectorAssembler([x, v, w, y]) rows.
"""
import json
import math
import os

from pyspark.ml.feature import (DCT, Binarizer, ElementwiseProduct, HashingTF, Interaction,
                                Normalizer, PolynomialExpansion, RobustScaler, VectorAssembler,
                                VectorIndexer, VectorSlicer)
from pyspark.ml.linalg import DenseVector, SparseVector, Vectors, VectorUDT
from pyspark.sql import SparkSession
from pyspark.sql.types import (ArrayType, BooleanType, ByteType, DoubleType, FloatType,
                               IntegerType, LongType, ShortType, StringType, StructField,
                               StructType)

OUT = "tests/fixtures/spark_sparse_layout"
os.makedirs(OUT, exist_ok=True)
spark = (SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
         .config("spark.sql.shuffle.partitions", "1").getOrCreate())


def enc(v):
    if v is None:
        return None
    f = lambda x: x if math.isfinite(x) else repr(x)
    if isinstance(v, SparseVector):
        return {"type": 0, "size": int(v.size), "indices": [int(i) for i in v.indices],
                "values": [f(float(x)) for x in v.values]}
    return {"type": 1, "values": [f(float(x)) for x in v.toArray()]}


V = [
    Vectors.dense([1.0, 0.0, -2.0, 0.0, 3.5, 0.0]),
    Vectors.sparse(6, [1, 4], [2.0, -1.0]),
    Vectors.sparse(6, [0, 2, 5], [0.0, 4.0, 0.5]),
    Vectors.dense([0.0] * 6),
    Vectors.sparse(6, [], []),
    Vectors.dense([0.5, 1.5, 2.5, -3.5, 4.5, 0.0]),
    Vectors.sparse(6, [0, 1, 2, 3, 4, 5], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
    Vectors.sparse(6, [3], [-3.5]),
]
X = [2.0, 0.0, -1.5, 1.0, 3.0, 0.0, 0.25, 1.0]
W = [Vectors.dense([1.0, 0.0]), Vectors.sparse(2, [1], [3.0]), Vectors.dense([0.0, 0.0]),
     Vectors.sparse(2, [], []), Vectors.dense([-1.0, 2.0]), Vectors.sparse(2, [0], [0.5]),
     Vectors.dense([1.0, 1.0]), Vectors.sparse(2, [0, 1], [0.0, 2.0])]
Y = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 7.0]
schema = StructType([StructField("id", IntegerType()), StructField("v", VectorUDT()),
                     StructField("x", DoubleType()), StructField("w", VectorUDT()),
                     StructField("y", DoubleType())])
df = spark.createDataFrame([(i, V[i], X[i], W[i], Y[i]) for i in range(len(V))], schema).coalesce(1)
# Numeric attributes on the vector columns (Interaction needs them).


def attrs(name, n):
    return {"ml_attr": {"attrs": {"numeric": [{"idx": i, "name": f"{name}_{i}"} for i in range(n)]},
                        "num_attrs": n}}


df = df.select("id", df.v.alias("v", metadata=attrs("v", 6)), "x",
               df.w.alias("w", metadata=attrs("w", 2)), "y")

stages = {}


def run(name, params, stage, col="out", fit=False):
    model = stage.fit(df) if fit else stage
    rows = model.transform(df).orderBy("id").select(col).collect()
    stages[name] = {"params": params, "rows": [enc(r[0]) for r in rows]}
    if fit and hasattr(model, "categoryMaps"):
        stages[name]["categoryMaps"] = {str(k): {repr(float(a)): int(b) for a, b in m.items()}
                                        for k, m in model.categoryMaps.items()}
    if fit and hasattr(model, "median"):
        stages[name]["median"] = [float(x) for x in model.median]
        stages[name]["range"] = [float(x) for x in model.range]


run("binarizer_0.5", {"threshold": 0.5}, Binarizer(threshold=0.5, inputCol="v", outputCol="out"))
run("binarizer_-1", {"threshold": -1.0}, Binarizer(threshold=-1.0, inputCol="v", outputCol="out"))
run("binarizer_0", {"threshold": 0.0}, Binarizer(threshold=0.0, inputCol="v", outputCol="out"))
for p in [1.0, 2.0, float("inf")]:
    run(f"normalizer_{p}", {"p": p if math.isfinite(p) else "inf"},
        Normalizer(p=p, inputCol="v", outputCol="out"))
sv = [1.0, 0.0, 2.0, -1.0, 0.5, 3.0]
run("elementwise_product", {"scalingVec": sv},
    ElementwiseProduct(scalingVec=Vectors.dense(sv), inputCol="v", outputCol="out"))
run("polynomial_expansion_2", {"degree": 2},
    PolynomialExpansion(degree=2, inputCol="v", outputCol="out"))
run("polynomial_expansion_3_w", {"degree": 3, "inputCol": "w"},
    PolynomialExpansion(degree=3, inputCol="w", outputCol="out"))
run("vector_slicer", {"indices": [4, 1, 5]}, VectorSlicer(indices=[4, 1, 5], inputCol="v", outputCol="out"))
run("vector_slicer_sorted", {"indices": [0, 2, 3]}, VectorSlicer(indices=[0, 2, 3], inputCol="v", outputCol="out"))
run("vector_slicer_unsorted0", {"indices": [5, 0, 2]}, VectorSlicer(indices=[5, 0, 2], inputCol="v", outputCol="out"))
run("vector_slicer_one", {"indices": [0]}, VectorSlicer(indices=[0], inputCol="v", outputCol="out"))
run("interaction_x_v", {"inputCols": ["x", "v"]}, Interaction(inputCols=["x", "v"], outputCol="out"))
run("interaction_v_w", {"inputCols": ["v", "w"]}, Interaction(inputCols=["v", "w"], outputCol="out"))
run("interaction_x_y", {"inputCols": ["x", "y"]}, Interaction(inputCols=["x", "y"], outputCol="out"))
run("vector_indexer_3", {"maxCategories": 3}, VectorIndexer(maxCategories=3, inputCol="v", outputCol="out"), fit=True)
run("robust_scaler_scale", {"withCentering": False, "withScaling": True},
    RobustScaler(inputCol="v", outputCol="out"), fit=True)
run("robust_scaler_center", {"withCentering": True, "withScaling": True},
    RobustScaler(inputCol="v", outputCol="out", withCentering=True), fit=True)
run("robust_scaler_center_only", {"withCentering": True, "withScaling": False},
    RobustScaler(inputCol="v", outputCol="out", withCentering=True, withScaling=False), fit=True)
run("robust_scaler_none", {"withCentering": False, "withScaling": False},
    RobustScaler(inputCol="v", outputCol="out", withCentering=False, withScaling=False), fit=True)
run("dct", {"inverse": False}, DCT(inputCol="v", outputCol="out"))

asm = VectorAssembler(inputCols=["x", "v", "w", "y"], outputCol="out").transform(df)
assembler = [enc(r[0]) for r in asm.orderBy("id").select("out").collect()]

# HashingTF on lists of each term type Spark's FeatureHasher.murmur3Hash handles.
lists = {
    "ints": (IntegerType(), [[1, 2, 2, -7], [0, 2147483647, -2147483648], [], [5]]),
    "longs": (LongType(), [[1, 2, 2, -7], [0, 9223372036854775807, -9223372036854775808], [], [1 << 40]]),
    "shorts": (ShortType(), [[1, 2, 2, -7], [0, 32767, -32768], [], [5]]),
    "bytes": (ByteType(), [[1, 2, 2, -7], [0, 127, -128], [], [5]]),
    "doubles": (DoubleType(), [[1.0, 2.5, 2.5, -7.0], [0.0, -0.0, float("inf"), float("-inf")], [], [1e300, float("nan")]]),
    "floats": (FloatType(), [[1.0, 2.5, 2.5, -7.0], [0.0, -0.0, float("inf"), float("-inf")], [], [3.25, float("nan")]]),
    "bools": (BooleanType(), [[True, False, True], [False], [], [True]]),
    "strs": (StringType(), [["a", "spark", "a"], ["héllo", "日本語", ""], [], ["hello"]]),
    "ints_null": (IntegerType(), [[1, None, 3], [None], [], [4]]),
}
hashing = {}
for name, (t, rows) in lists.items():
    hs = StructType([StructField("id", IntegerType()), StructField("t", ArrayType(t, True))])
    hdf = spark.createDataFrame([(i, r) for i, r in enumerate(rows)], hs).coalesce(1)
    for nf, binary in [(1 << 18, False), (16, True)]:
        out = HashingTF(inputCol="t", outputCol="out", numFeatures=nf, binary=binary).transform(hdf)
        hashing[f"{name}_{nf}_{binary}"] = {
            "type": name, "numFeatures": nf, "binary": binary,
            "terms": [[x if not (isinstance(x, float) and not math.isfinite(x)) else repr(x) for x in r]
                      for r in rows],
            "rows": [enc(r[0]) for r in out.orderBy("id").select("out").collect()],
        }

with open(f"{OUT}/expected.json", "w") as f:
    json.dump({
        "spark_version": spark.version,
        "input": {"v": [enc(v) for v in V], "x": X, "w": [enc(w) for w in W], "y": Y},
        "stages": stages,
        "assembler": {"inputCols": ["x", "v", "w", "y"], "rows": assembler},
        "hashing": hashing,
    }, f, indent=1, allow_nan=False)
print("wrote", f"{OUT}/expected.json", spark.version)
