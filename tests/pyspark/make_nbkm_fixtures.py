"""Makes tests/fixtures/pyspark_nbkm/: NaiveBayes bernoulli and complement fits, a weighted
random-init KMeans, a cosine k-means|| KMeans and weighted silhouettes, all by PySpark 4.3.

Run from the repository root: /work/venv/bin/python tests/pyspark/make_nbkm_fixtures.py
Data come from numpy default_rng([2026, 14]) and the spark2 fixture CSVs; every training
DataFrame is coalesced to one partition (as the spark2 fixtures are), so a re-fit in file
order reproduces Spark's random streams.
"""
import json
import os

import numpy as np
from pyspark.ml.classification import NaiveBayes
from pyspark.ml.clustering import KMeans
from pyspark.ml.evaluation import ClusteringEvaluator
from pyspark.ml.feature import VectorAssembler
from pyspark.sql import SparkSession

OUT = "tests/fixtures/pyspark_nbkm"
S2 = "tests/fixtures/spark2"
os.makedirs(OUT, exist_ok=True)
spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
         .config("spark.sql.shuffle.partitions", "2").getOrCreate())
rng = np.random.default_rng([2026, 14])


def write_csv(path, header, rows):
    with open(path, "w") as f:
        f.write(",".join(header) + "\n")
        for r in rows:
            f.write(",".join(repr(v) if isinstance(v, float) else str(v) for v in r) + "\n")


def read(path):
    return spark.read.csv(path, header=True, inferSchema=True).coalesce(1)


# Binary features, labels {0, 2, 3} (class 1 absent), weights 0.5 / 1 / 2.
rows = []
for i in range(300):
    y = int(rng.choice([0, 2, 3], p=[0.4, 0.35, 0.25]))
    p = {0: [0.8, 0.2, 0.5, 0.1, 0.6], 2: [0.3, 0.7, 0.5, 0.4, 0.2], 3: [0.1, 0.3, 0.9, 0.8, 0.5]}[y]
    x = [int(rng.random() < q) for q in p]
    w = float(rng.choice([0.5, 1.0, 2.0]))
    rows.append([i] + x + [w, y])
write_csv(f"{OUT}/binary.csv", ["id", "b1", "b2", "b3", "b4", "b5", "w", "label"], rows)

# Blobs with a weight column, for weighted KMeans and silhouettes.
blobs = [l.strip().split(",") for l in open(f"{S2}/synth_blobs_train.csv")][1:]
brow = [[int(r[0]), float(r[1]), float(r[2]), float(r[3]), float(rng.choice([0.5, 1.0, 3.0]))]
        for r in blobs]
write_csv(f"{OUT}/blobs_weighted.csv", ["id", "x1", "x2", "x3", "w"], brow)

out = {"made_by": "tests/pyspark/make_nbkm_fixtures.py", "spark_version": spark.version}


def nb_case(name, csv, cols, **params):
    df = VectorAssembler(inputCols=cols, outputCol="features").transform(read(csv))
    m = NaiveBayes(weightCol="w", **params).fit(df)
    pred = m.transform(df).orderBy("id").collect()
    out[name] = {
        "csv": os.path.basename(csv), "features": cols, "params": params,
        "pi": m.pi.toArray().tolist(), "theta": m.theta.toArray().tolist(),
        "rows": [{"id": r["id"], "raw": r["rawPrediction"].toArray().tolist(),
                  "probability": r["probability"].toArray().tolist(),
                  "prediction": r["prediction"]} for r in pred[:40]],
    }


nb_case("nb_bernoulli", f"{OUT}/binary.csv", ["b1", "b2", "b3", "b4", "b5"],
        modelType="bernoulli", smoothing=0.5)
nb_case("nb_complement", f"{S2}/synth_counts_train.csv", ["c1", "c2", "c3", "c4", "c5", "c6"],
        modelType="complement", smoothing=0.3)
# Thresholds must have one entry per class and labels must lie below their count, so this
# case uses the 0/1/2 counts (labels {0, 2, 3} with 3 thresholds fail Spark's label check).
nb_case("nb_multinomial_thresholds", f"{S2}/synth_counts_train.csv",
        ["c1", "c2", "c3", "c4", "c5", "c6"], modelType="multinomial", thresholds=[0.5, 0.2, 0.3])


def km_case(name, **params):
    df = VectorAssembler(inputCols=["x1", "x2", "x3"], outputCol="features").transform(
        read(f"{OUT}/blobs_weighted.csv"))
    m = KMeans(**params).fit(df)
    s = m.summary
    pred = m.transform(df)
    sil = {}
    for measure in ["squaredEuclidean", "cosine"]:
        for wcol in [None, "w"]:
            e = ClusteringEvaluator(distanceMeasure=measure)
            if wcol:
                e.setWeightCol(wcol)
            sil[f"{measure}{'_weighted' if wcol else ''}"] = e.evaluate(pred)
    out[name] = {"params": params, "clusterCenters": [c.tolist() for c in m.clusterCenters()],
                 "trainingCost": s.trainingCost, "numIter": s.numIter,
                 "clusterSizes": list(s.clusterSizes), "silhouettes": sil}


km_case("kmeans_weighted_random", k=3, seed=11, initMode="random", weightCol="w", maxIter=30)
km_case("kmeans_cosine", k=4, seed=5, distanceMeasure="cosine", tol=1e-6)
km_case("kmeans_weighted_parallel", k=5, seed=-7, weightCol="w", initSteps=3)

with open(f"{OUT}/expected.json", "w") as f:
    json.dump(out, f, indent=1)
spark.stop()
