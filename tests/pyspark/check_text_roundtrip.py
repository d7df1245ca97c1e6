"""Loads the text stages that mlpipe saved (by tests/pyspark_text_roundtrip.rs) in PySpark
4.3, runs them on the fixture corpus and checks Spark's output against the Spark outputs
recorded in tests/fixtures/spark_text/expected.json (tokens and indices exactly, values to
1e-12), and that the fitted models hold the same vocabulary / weights.
Usage: python check_text_roundtrip.py OUT_DIR FIXTURE_DIR"""
import json
import sys

from pyspark.ml import PipelineModel
from pyspark.ml.feature import (CountVectorizer, CountVectorizerModel, FeatureHasher, HashingTF,
                                IDF, IDFModel, NGram, RegexTokenizer, StopWordsRemover, Tokenizer)
from pyspark.ml.linalg import DenseVector, SparseVector
from pyspark.sql import SparkSession
from pyspark.sql.types import (BooleanType, DoubleType, IntegerType, LongType, StringType,
                               StructField, StructType)

out, fx = sys.argv[1], sys.argv[2]
spark = SparkSession.builder.master("local[1]").appName("mlpipe-text").getOrCreate()
spark.sparkContext.setLogLevel("ERROR")
e = json.load(open(f"{fx}/expected.json", encoding="utf-8"))
texts = spark.createDataFrame([tuple(t) for t in e["texts"]], ["id", "text"])
words = Tokenizer(inputCol="text", outputCol="words").transform(texts)
LISTS = [
    (0, ["I", "The", "spark", "THE", None, "Don't"], ["a", "b"]),
    (1, ["Ich", "bin", "ein", "Berliner", "und", "DAS"], ["über", "der"]),
    (2, [], ["IS", "is", "Is"]),
    (3, ["İstanbul", "ISTANBUL", "ıi", "istanbul"], ["ve", "VE"]),
    (4, ["straße", "STRASSE", "ΣΑΣ", "σας"], []),
]
lists = spark.createDataFrame(LISTS, ["id", "raw", "raw2"])
fschema = StructType([StructField("id", IntegerType()), StructField("real", DoubleType()),
                      StructField("bool", BooleanType()), StructField("int", IntegerType()),
                      StructField("long", LongType()), StructField("str", StringType())])
fdf = spark.createDataFrame([tuple(r) for r in e["feature_hasher_rows"]], fschema)


def cell(v):
    if isinstance(v, SparseVector):
        return {"size": int(v.size), "indices": [int(i) for i in v.indices],
                "values": [float(x) for x in v.values]}
    if isinstance(v, DenseVector):
        return {"values": [float(x) for x in v.values]}
    return v


def same(a, b):
    if isinstance(a, dict):
        if a.get("size") != b.get("size") or a.get("indices") != b.get("indices"):
            return False
        return len(a["values"]) == len(b["values"]) and all(
            abs(x - y) <= 1e-12 * max(1.0, abs(y)) for x, y in zip(a["values"], b["values"]))
    return a == b


def check(name, stage, df, col, case=None, extra=None):
    res = stage.transform(df).orderBy("id").collect()
    want = e["cases"][case or name]["output"]
    assert len(res) == len(want), name
    for r, w in zip(res, want):
        got = [cell(r[c]) for c in ([col] + (extra or []))]
        assert all(same(g, x) for g, x in zip(got, w[1:])), (name, r["id"], got, w[1:])
    print("ok", name)


check("tokenizer", Tokenizer.load(f"{out}/tokenizer"), texts, "words")
check("regex_words", RegexTokenizer.load(f"{out}/regex_words"), texts, "toks")
check("stop_custom_tr", StopWordsRemover.load(f"{out}/stop_custom_tr"), lists, "filtered")
check("stop_multi", StopWordsRemover.load(f"{out}/stop_multi"), lists, "f1", extra=["f2"])
check("ngram3", NGram.load(f"{out}/ngram3"), words, "grams")
check("hashing_small_binary", HashingTF.load(f"{out}/hashing_small_binary"), words, "tf")
check("fh_small_cat", FeatureHasher.load(f"{out}/fh_small_cat"), fdf, "features")
cv = CountVectorizer.load(f"{out}/cv_vocab5_mindf2")
assert cv.getVocabSize() == 5 and cv.getMinDF() == 2.0
cvm = CountVectorizerModel.load(f"{out}/cv_vocab5_mindf2_model")
assert list(cvm.vocabulary) == e["cases"]["cv_vocab5_mindf2"]["vocabulary"], cvm.vocabulary
check("cv_vocab5_mindf2_model", cvm, words, "counts", case="cv_vocab5_mindf2")
assert cv.fit(words).vocabulary == cvm.vocabulary
idf = IDF.load(f"{out}/idf_mindocfreq")
assert idf.getMinDocFreq() == 2
idfm = IDFModel.load(f"{out}/idf_hashing_model")
c = e["cases"]["idf_hashing"]
assert all(abs(a - b) <= 1e-12 for a, b in zip(idfm.idf.toArray(), c["idf"]))
assert list(idfm.docFreq) == c["docFreq"] and idfm.numDocs == c["numDocs"]
htf = HashingTF(inputCol="words", outputCol="tf", numFeatures=64).transform(words)
check("idf_hashing_model", idfm, htf, "tfidf", case="idf_hashing")
check("text_pipeline", PipelineModel.load(f"{out}/text_pipeline_model"), texts, "tfidf")
print("all text stages saved by mlpipe load and match in PySpark")
