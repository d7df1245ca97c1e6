"""Makes tests/fixtures/pca_svd/dgesdd.json: the SVD that Spark's PCA takes of a covariance
matrix, computed by the very routine Spark calls, for the Rust port in src/lapack.rs.

Spark's `RowMatrix.computePrincipalComponentsAndExplainedVariance` (n <= 65535) computes the
covariance and takes Breeze's `svd(Cov)`, which calls LAPACK `dgesdd` with JOBZ = 'A' through
`dev.ludovic.netlib.lapack.LAPACK.getInstance()`. Without a native LAPACK on the machine (the
PySpark pip install) that instance is the Java translation of reference LAPACK 3.1.1 (f2j,
`org.netlib.lapack` in arpack_combined_all-0.1.jar). This script calls that same instance
through the PySpark 4.3 JVM (py4j), with Breeze's workspace sizes, and records U and S.

Run from the repository root: /work/venv/bin/python tests/pyspark/make_pca_svd_fixtures.py
(and again with `--large` for tests/fixtures/pca_svd/dgesdd_large.json: n = 33, 64, 100,
161, where LAPACK's blocked dormqr (n > 32) and dgebrd (n > 128) take over, plus a
rank-deficient n = 100), and with `--fits` for tests/fixtures/pca_svd/spark_pca_fits.json:
Spark's PCA (k = n, every component) fitted on small synthetic frames (rows recorded; n = 1,
3, 12, 26, 40 and a rank-deficient 12 x 30), the end-to-end check of the signs.
`--stress COUNT SEED OUT` writes the same record for COUNT structured matrices (block
diagonal, low rank, integer data, repeated spectra, diagonals with duplicates, sparse binary
features, scales 1e-12..1e12, constant features; n = 2..69) drawn with SEED to OUT: the
PySpark-gated test `lapack::oracle::stress_matches_spark_dgesdd` runs it.
Matrices (numpy seed 20261130): for n = 1..40 the sample covariance of (n + 5) x n normal data
with per-column scales; rank-deficient covariances (fewer rows than features); repeated
eigenvalues (Q diag(..) Q^T with repeated entries, multiples of the identity, diagonals);
a matrix with zero-variance features; the all-zero matrix; the covariance of the 30
breast-cancer features of tests/fixtures/spark2/bc_train.csv (numpy's np.cov: the input is
recorded, so how it was computed does not matter). Each matrix is recorded exactly (Python's
float repr round-trips), column-major, with the U (column-major n x n) and S dgesdd returns.
"""
import json
import os
import struct
import sys

import numpy as np
from py4j.java_gateway import get_field
from pyspark.sql import SparkSession

OUT = "tests/fixtures/pca_svd"
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(20261130)


def spd_from_data(m, n, scales=None):
    x = rng.standard_normal((m, n))
    if scales is not None:
        x = x * scales
    return np.cov(x, rowvar=False).reshape(n, n)


def with_spectrum(ev):
    n = len(ev)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    a = q @ np.diag(ev) @ q.T
    return (a + a.T) / 2.0


cases = []
for n in range(1, 41):
    scales = np.exp(rng.uniform(-2, 2, n))
    cases.append((f"random_n{n}", spd_from_data(n + 5, n, scales)))
for n in [3, 6, 12, 20, 25, 26, 27, 31, 40]:
    cases.append((f"rank_deficient_n{n}", spd_from_data(max(2, n // 3), n)))
for n in [4, 9, 25, 26, 33]:
    ev = [3.0] * (n // 3) + [1.0] * (n - n // 3 - 1) + [0.25]
    cases.append((f"repeated_n{n}", with_spectrum(ev)))
for n in [1, 2, 5, 26, 30]:
    cases.append((f"identity2_n{n}", 2.0 * np.eye(n)))
for n in [5, 28]:
    cases.append((f"diagonal_n{n}", np.diag(rng.uniform(0.5, 4.0, n))))
z = spd_from_data(12, 8)
for j in [2, 5]:
    z[j, :] = 0.0
    z[:, j] = 0.0
cases.append(("zero_variance_n8", z))
cases.append(("zeros_n4", np.zeros((4, 4))))
cases.append(("tiny_scale_n6", spd_from_data(9, 6) * 1e-160))
cases.append(("huge_scale_n6", spd_from_data(9, 6) * 1e160))
def stress_cases(count, seed):
    r = np.random.default_rng(seed)
    out = []
    for t in range(count):
        n = int(r.integers(2, 70))
        kind = t % 8
        if kind == 0:  # block diagonal, maybe permuted
            a = np.zeros((n, n))
            i = 0
            while i < n:
                b = min(int(r.integers(1, 6)), n - i)
                a[i:i + b, i:i + b] = (np.cov(r.standard_normal((b + 3, b)), rowvar=False)
                                       if b > 1 else r.uniform(0, 3))
                i += b
            p = r.permutation(n) if r.uniform() < 0.5 else np.arange(n)
            a = a[p][:, p]
        elif kind == 1:  # rank 1..3
            a = np.cov(r.standard_normal((int(r.integers(2, 5)), n)), rowvar=False)
        elif kind == 2:  # integer data
            a = np.cov(r.integers(-3, 4, (n + 2, n)).astype(float), rowvar=False)
        elif kind == 3:  # repeated spectrum
            q, _ = np.linalg.qr(r.standard_normal((n, n)))
            a = q @ np.diag(r.choice([0.0, 1.0, 2.0, 5.0], n)) @ q.T
            a = (a + a.T) / 2.0
        elif kind == 4:  # diagonal with duplicates
            a = np.diag(r.choice([0.0, 1.0, 3.0, 3.0], n))
        elif kind == 5:  # sparse binary features
            a = np.cov((r.uniform(size=(n + 10, n)) < 0.1).astype(float), rowvar=False)
        elif kind == 6:  # wildly different scales
            a = np.cov(r.standard_normal((n + 4, n)) * np.exp(r.uniform(-12, 12, n)),
                       rowvar=False)
        else:  # constant features mixed in
            x = r.standard_normal((n + 3, n))
            x[:, r.uniform(size=n) < 0.3] = 1.0
            a = np.cov(x, rowvar=False)
        out.append((f"stress{t}_kind{kind}_n{n}", np.asarray(a).reshape(n, n)))
    return out


OUT_FILE = f"{OUT}/dgesdd.json"
if "--stress" in sys.argv:
    at = sys.argv.index("--stress")
    cases = stress_cases(int(sys.argv[at + 1]), int(sys.argv[at + 2]))
    OUT_FILE = sys.argv[at + 3]
if "--large" in sys.argv:
    OUT_FILE = f"{OUT}/dgesdd_large.json"
    cases = []
    for n in [33, 64, 100, 161]:
        cases.append((f"random_n{n}", spd_from_data(n + 5, n, np.exp(rng.uniform(-2, 2, n)))))
    cases.append(("rank_deficient_n100", spd_from_data(40, 100)))
bc = np.genfromtxt("tests/fixtures/spark2/bc_train.csv", delimiter=",", names=True)
bcx = np.column_stack([bc[f"f{i}"] for i in range(30)])
if "--large" not in sys.argv and "--stress" not in sys.argv:
    cases.append(("breast_cancer_n30", np.cov(bcx, rowvar=False)))
    cases.append(("breast_cancer_f0_f3_n4", np.cov(bcx[:, :4], rowvar=False)))

if "--fits" in sys.argv:
    from pyspark.ml.feature import PCA
    from pyspark.ml.linalg import Vectors
    spark = (SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
             .getOrCreate())
    fits = {"made_by": "tests/pyspark/make_pca_svd_fixtures.py --fits",
            "spark_version": spark.version, "cases": []}
    for name, m, n in [("fit_n1", 20, 1), ("fit_n3", 40, 3), ("fit_n12", 60, 12),
                       ("fit_n26", 80, 26), ("fit_n40", 90, 40),
                       ("fit_rank_deficient_n30", 12, 30)]:
        mix = rng.standard_normal((n, n)) * np.exp(rng.uniform(-1, 1, n))
        x = rng.standard_normal((m, n)) @ mix + rng.uniform(-5, 5, n)
        rows = [[float(v) for v in r] for r in x]
        df = spark.createDataFrame([(Vectors.dense(r),) for r in rows], ["features"]).coalesce(1)
        model = PCA(k=n, inputCol="features", outputCol="pca").fit(df)
        fits["cases"].append({
            "name": name, "n": n, "rows": rows,
            "pc": [float(v) for v in model.pc.toArray().flatten(order="F")],
            "explainedVariance": [float(v) for v in model.explainedVariance.toArray()]})
        print(name)
    with open(f"{OUT}/spark_pca_fits.json", "w") as f:
        json.dump(fits, f)
    sys.exit(0)

spark = (SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
         .getOrCreate())
jvm = spark._jvm
lapack = jvm.dev.ludovic.netlib.lapack.LAPACK.getInstance()
ByteBuffer = jvm.java.nio.ByteBuffer


def to_java(values):
    arr = spark.sparkContext._gateway.new_array(jvm.double, len(values))
    buf = ByteBuffer.wrap(bytearray(struct.pack(f">{len(values)}d", *values)))
    buf.asDoubleBuffer().get(arr)
    return arr


def from_java(arr, n):
    buf = ByteBuffer.allocate(8 * n)
    buf.asDoubleBuffer().put(arr)
    return list(struct.unpack(f">{n}d", bytes(buf.array())))


out = {"made_by": "tests/pyspark/make_pca_svd_fixtures.py", "spark_version": spark.version,
       "lapack": lapack.getClass().getName(), "cases": []}
for name, a in cases:
    n = a.shape[0]
    acol = [float(v) for v in a.flatten(order="F")]
    ja = to_java(acol)
    s = spark.sparkContext._gateway.new_array(jvm.double, n)
    u = spark.sparkContext._gateway.new_array(jvm.double, n * n)
    vt = spark.sparkContext._gateway.new_array(jvm.double, n * n)
    # Breeze's svd workspace: 3 min² + max(max(m, n), 4 min² + 4 min), iwork 8 min.
    lwork = 3 * n * n + max(n, 4 * n * n + 4 * n)
    work = spark.sparkContext._gateway.new_array(jvm.double, lwork)
    iwork = spark.sparkContext._gateway.new_array(jvm.int, 8 * n)
    info = jvm.org.netlib.util.intW(0)
    lapack.dgesdd("A", n, n, ja, n, s, u, n, vt, n, work, lwork, iwork, info)
    assert get_field(info, "val") == 0, (name, get_field(info, "val"))
    out["cases"].append({"name": name, "n": n, "a": acol, "u": from_java(u, n * n),
                         "s": from_java(s, n)})
    print(name, n)

with open(OUT_FILE, "w") as f:
    json.dump(out, f)
print("lapack instance:", out["lapack"])
