"""Makes tests/fixtures/spark_text/: the text stages (Tokenizer, RegexTokenizer,
StopWordsRemover, NGram, HashingTF, CountVectorizer, IDF, FeatureHasher) run by PySpark 4.3
on a small corpus, their outputs as JSON and the stages saved by Spark.

Run from the repository root: /work/venv/bin/python tests/pyspark/make_text_fixtures.py

expected.json holds, per case, the stage's params and its output rows in `id` order; vectors
are {"size": n, "indices": [...], "values": [...]} (sparse) or {"values": [...]} (dense).
`nulls` records what Spark does with a null input value (its error class, or the output).
`locales.txt` is Java's Locale.getAvailableLocales() (StopWordsRemover validates `locale`
against it); the stop-word lists in src/feature/stopwords/ come from
StopWordsRemover.loadDefaultStopWords(language) of the same run.
"""
import json
import os
import shutil

from pyspark.ml import Pipeline
from pyspark.ml.feature import (CountVectorizer, FeatureHasher, HashingTF, IDF, NGram,
                                RegexTokenizer, StopWordsRemover, Tokenizer)
from pyspark.ml.linalg import DenseVector, SparseVector, Vectors, VectorUDT
from pyspark.sql import SparkSession
from pyspark.sql.types import (ArrayType, BooleanType, DoubleType, IntegerType, LongType,
                               StringType, StructField, StructType)

OUT = "tests/fixtures/spark_text"
SW = "src/feature/stopwords"
shutil.rmtree(OUT, ignore_errors=True)
os.makedirs(f"{OUT}/stages", exist_ok=True)
spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
         .config("spark.sql.shuffle.partitions", "2").getOrCreate())
jvm = spark.sparkContext._jvm

# ---- the stop-word lists and Java's locales ----
for lang in ["danish", "dutch", "english", "finnish", "french", "german", "hungarian",
             "italian", "norwegian", "portuguese", "russian", "spanish", "swedish", "turkish"]:
    with open(f"{SW}/{lang}.txt", "w", encoding="utf-8") as f:
        f.write("\n".join(StopWordsRemover.loadDefaultStopWords(lang)))
locales = sorted({str(l.toString()) for l in jvm.java.util.Locale.getAvailableLocales()})
with open(f"{SW}/locales.txt", "w", encoding="utf-8") as f:
    f.write("\n".join(locales))

TEXTS = [
    (0, "Hi I heard about Spark"),
    (1, "I wish Java could use case classes"),
    (2, "Logistic regression models are neat"),
    (3, " Hello  World\tFOO "),
    (4, ""),
    (5, "   "),
    (6, "Ünïcödé TEXT: ΣΑΣ straße İstanbul naïve café 日本語 テキスト 😀emoji"),
    (7, "the THE The spark, Spark. SPARK! don't I'll"),
    (8, "a,b,,c;d  e.f"),
    (9, "Spark spark spark hadoop hadoop mapreduce the a"),
    (10, "x\u00a0y\u2003z\nw\rv\u000bu\u000ct"),
]
text_df = spark.createDataFrame(TEXTS, ["id", "text"]).repartition(2)


def vec_json(v):
    if isinstance(v, SparseVector):
        return {"size": int(v.size), "indices": [int(i) for i in v.indices],
                "values": [float(x) for x in v.values]}
    if isinstance(v, DenseVector):
        return {"values": [float(x) for x in v.values]}
    return None


def cell(v):
    if isinstance(v, (SparseVector, DenseVector)):
        return vec_json(v)
    if isinstance(v, list):
        return [cell(x) for x in v]
    return v


def rows(df, col):
    return [[int(r["id"]), cell(r[col])] for r in df.orderBy("id").collect()]


def params(stage):
    out = {}
    for p in stage.params:
        if stage.isDefined(p):
            v = stage.getOrDefault(p)
            out[p.name] = v if not isinstance(v, (SparseVector, DenseVector)) else vec_json(v)
    return out


def save(stage, name):
    stage.write().overwrite().save(f"{OUT}/stages/{name}")


out = {"made_by": "tests/pyspark/make_text_fixtures.py", "spark_version": spark.version,
       "texts": [[i, t] for i, t in TEXTS], "cases": {}}
cases = out["cases"]


def case(name, stage, df, col, model=None):
    res = (model or stage).transform(df)
    cases[name] = {"params": {k: v for k, v in params(model or stage).items()
                              if k not in ("inputCol", "outputCol", "inputCols", "outputCols")
                              or True},
                   "output": rows(res, col)}
    save(stage, name)
    if model is not None:
        save(model, name + "_model")
    return res


# ---- Tokenizer / RegexTokenizer ----
tok = Tokenizer(inputCol="text", outputCol="words")
words_df = case("tokenizer", tok, text_df, "words")
case("regex_default", RegexTokenizer(inputCol="text", outputCol="toks"), text_df, "toks")
case("regex_words", RegexTokenizer(inputCol="text", outputCol="toks", pattern="\\w+",
                                   gaps=False), text_df, "toks")
case("regex_punct", RegexTokenizer(inputCol="text", outputCol="toks", pattern="[,.;!:\\s]+",
                                   minTokenLength=2, toLowercase=False), text_df, "toks")
case("regex_min0", RegexTokenizer(inputCol="text", outputCol="toks", minTokenLength=0),
     text_df, "toks")
case("regex_nonspace", RegexTokenizer(inputCol="text", outputCol="toks", pattern="\\S+",
                                      gaps=False, minTokenLength=2), text_df, "toks")
case("regex_letters", RegexTokenizer(inputCol="text", outputCol="toks",
                                     pattern="\\p{L}+", gaps=False, toLowercase=False),
     text_df, "toks")
case("regex_zero_width", RegexTokenizer(inputCol="text", outputCol="toks", pattern="",
                                        minTokenLength=0), text_df, "toks")

# ---- StopWordsRemover (on the Tokenizer output, with a null term) ----
LISTS = [
    (0, ["I", "The", "spark", "THE", None, "Don't"], ["a", "b"]),
    (1, ["Ich", "bin", "ein", "Berliner", "und", "DAS"], ["über", "der"]),
    (2, [], ["IS", "is", "Is"]),
    (3, ["İstanbul", "ISTANBUL", "ıi", "istanbul"], ["ve", "VE"]),
    (4, ["straße", "STRASSE", "ΣΑΣ", "σας"], []),
]
lists_df = spark.createDataFrame(LISTS, ["id", "raw", "raw2"])
case("stop_default", StopWordsRemover(inputCol="raw", outputCol="filtered"), lists_df,
     "filtered")
case("stop_case_sensitive", StopWordsRemover(inputCol="raw", outputCol="filtered",
                                             caseSensitive=True), lists_df, "filtered")
case("stop_german", StopWordsRemover(inputCol="raw", outputCol="filtered",
                                     stopWords=StopWordsRemover.loadDefaultStopWords("german")),
     lists_df, "filtered")
case("stop_custom_tr", StopWordsRemover(inputCol="raw", outputCol="filtered",
                                        stopWords=["istanbul", "ve"], locale="tr"),
     lists_df, "filtered")
case("stop_custom_en", StopWordsRemover(inputCol="raw", outputCol="filtered",
                                        stopWords=["istanbul", "ve", "σας", "STRASSE"]),
     lists_df, "filtered")
multi = StopWordsRemover(inputCols=["raw", "raw2"], outputCols=["f1", "f2"],
                         stopWords=["is", "i", "über", "ve", "b"])
mres = multi.transform(lists_df)
cases["stop_multi"] = {"params": params(multi),
                       "output": [[int(r["id"]), r["f1"], r["f2"]]
                                  for r in mres.orderBy("id").collect()]}
save(multi, "stop_multi")
case("stop_words_tok", StopWordsRemover(inputCol="words", outputCol="filtered"), words_df,
     "filtered")

# ---- NGram ----
case("ngram2", NGram(inputCol="words", outputCol="grams"), words_df, "grams")
case("ngram3", NGram(n=3, inputCol="words", outputCol="grams"), words_df, "grams")
case("ngram1", NGram(n=1, inputCol="words", outputCol="grams"), words_df, "grams")

# ---- HashingTF ----
case("hashing_default", HashingTF(inputCol="words", outputCol="tf"), words_df, "tf")
case("hashing_small_binary", HashingTF(inputCol="words", outputCol="tf", numFeatures=16,
                                       binary=True), words_df, "tf")
case("hashing_max", HashingTF(inputCol="words", outputCol="tf", numFeatures=2**31 - 1),
     words_df, "tf")
# Single terms, for the murmur3 test vectors.
terms = ["a", "spark", "hello", "héllo", "日本語", "", "abcd", "abcde", "😀", "naïve café"]
tdf = spark.createDataFrame([(i, [t]) for i, t in enumerate(terms)], ["id", "t"])
for nf in [2**18, 2**31 - 1, 1000]:
    h = HashingTF(inputCol="t", outputCol="tf", numFeatures=nf).transform(tdf)
    cases[f"terms_{nf}"] = {"terms": terms,
                            "index": [int(r["tf"].indices[0])
                                      for r in h.orderBy("id").collect()]}

# ---- CountVectorizer ----
tf_words = words_df


def cv_case(name, **kw):
    cv = CountVectorizer(inputCol="words", outputCol="counts", **kw)
    m = cv.fit(tf_words)
    res = case(name, cv, tf_words, "counts", model=m)
    cases[name]["vocabulary"] = list(m.vocabulary)
    return res


counts_df = cv_case("cv_default")
cv_case("cv_vocab5_mindf2", vocabSize=5, minDF=2.0)
cv_case("cv_fraction", minDF=0.2, maxDF=0.5)
cv_case("cv_maxdf_count", maxDF=2.0)
cv_case("cv_mintf_binary", minTF=0.3, binary=True)
cv_case("cv_mintf2", minTF=2.0)
# Ties by count: UTF-16 order of the terms.
TIES = [(0, ["b", "a", "é", "😀", "\uffff", "Z", "aa"]), (1, ["c", "😀", "a", "é"])]
ties_df = spark.createDataFrame(TIES, ["id", "words"])
cv = CountVectorizer(inputCol="words", outputCol="counts")
m = cv.fit(ties_df)
case("cv_ties", cv, ties_df, "counts", model=m)
cases["cv_ties"]["vocabulary"] = list(m.vocabulary)
cases["cv_ties"]["input"] = [[i, w] for i, w in TIES]

# ---- IDF ----
htf = HashingTF(inputCol="words", outputCol="tf", numFeatures=64).transform(words_df)


def idf_case(name, df, col, **kw):
    idf = IDF(inputCol=col, outputCol="tfidf", **kw)
    m = idf.fit(df)
    case(name, idf, df, "tfidf", model=m)
    cases[name]["idf"] = [float(x) for x in m.idf.toArray()]
    cases[name]["docFreq"] = [int(x) for x in m.docFreq]
    cases[name]["numDocs"] = int(m.numDocs)
    cases[name]["input"] = rows(df, col)


idf_case("idf_hashing", htf, "tf")
idf_case("idf_mindocfreq", htf, "tf", minDocFreq=2)
idf_case("idf_counts", counts_df, "counts")
mixed = spark.createDataFrame(
    [(0, Vectors.sparse(4, [0, 1], [1.0, 2.0])), (1, Vectors.dense([0.0, 1.0, 0.0, -3.0])),
     (2, Vectors.sparse(4, [1], [0.0]))], ["id", "v"])
idf_case("idf_mixed", mixed, "v", minDocFreq=1)

# ---- FeatureHasher ----
fschema = StructType([StructField("id", IntegerType()), StructField("real", DoubleType()),
                      StructField("bool", BooleanType()), StructField("int", IntegerType()),
                      StructField("long", LongType()), StructField("str", StringType())])
FROWS = [(0, 2.2, True, 1, 10, "foo"), (1, 3.3, False, 2, 20, "bar"),
         (2, 4.4, False, 3, 30, "baz"), (3, 0.0, True, 0, -5, "日本"),
         (4, -1.5, None, None, None, None), (5, None, True, 7, 7, "")]
fdf = spark.createDataFrame(FROWS, fschema)
case("fh_default", FeatureHasher(inputCols=["real", "bool", "int", "long", "str"],
                                 outputCol="features"), fdf, "features")
case("fh_small_cat", FeatureHasher(inputCols=["real", "bool", "int", "str"],
                                   outputCol="features", numFeatures=16,
                                   categoricalCols=["int", "real"]), fdf, "features")
out["feature_hasher_rows"] = [list(r) for r in FROWS]

# ---- pipeline: tokenizer -> stop words -> hashingTF -> idf, saved fitted ----
pipe = Pipeline(stages=[Tokenizer(inputCol="text", outputCol="w"),
                        StopWordsRemover(inputCol="w", outputCol="f"),
                        HashingTF(inputCol="f", outputCol="tf", numFeatures=128),
                        IDF(inputCol="tf", outputCol="tfidf")])
pm = pipe.fit(text_df)
pm.write().overwrite().save(f"{OUT}/stages/text_pipeline_model")
cases["text_pipeline"] = {"output": rows(pm.transform(text_df), "tfidf")}


# ---- what Spark does with nulls ----
def probe(name, stage, df, col):
    try:
        r = (stage.fit(df) if hasattr(stage, "fit") else stage).transform(df)
        return {"output": rows(r, col)}
    except Exception as e:  # noqa: BLE001 - we record Spark's failure
        msg = str(e)
        cls = msg.split("]")[0].lstrip("[") if msg.startswith("[") else type(e).__name__
        return {"error": cls, "message": msg.splitlines()[0][:300]}


null_text = spark.createDataFrame([(0, "a b"), (1, None)], "id int, text string")
null_list = spark.createDataFrame([(0, ["a", "b"]), (1, None), (2, ["c", None, "d"])],
                                  "id int, words array<string>")
out["nulls"] = {
    "tokenizer": probe("tokenizer", Tokenizer(inputCol="text", outputCol="o"), null_text, "o"),
    "regex_tokenizer": probe("regex", RegexTokenizer(inputCol="text", outputCol="o"),
                             null_text, "o"),
    "stop_words": probe("stop", StopWordsRemover(inputCol="words", outputCol="o"), null_list,
                        "o"),
    "ngram": probe("ngram", NGram(inputCol="words", outputCol="o"), null_list, "o"),
    "hashing_tf": probe("htf", HashingTF(inputCol="words", outputCol="o", numFeatures=16),
                        null_list, "o"),
    "count_vectorizer": probe("cv", CountVectorizer(inputCol="words", outputCol="o"),
                              null_list, "o"),
}
null_vec = spark.createDataFrame([(0, Vectors.sparse(2, [0], [1.0])), (1, None)],
                                 StructType([StructField("id", IntegerType()),
                                             StructField("v", VectorUDT())]))
out["nulls"]["idf_fit"] = probe("idf", IDF(inputCol="v", outputCol="o"), null_vec, "o")
# An empty stop-word term, a non-string text column.
num_text = spark.createDataFrame([(0, 1.5)], "id int, text double")
out["nulls"]["tokenizer_double"] = probe("tok", Tokenizer(inputCol="text", outputCol="o"),
                                         num_text, "o")
out["default_locale"] = str(jvm.java.util.Locale.getDefault().toString())

with open(f"{OUT}/expected.json", "w", encoding="utf-8") as f:
    json.dump(out, f, ensure_ascii=False, indent=1)
print("wrote", OUT)
