"""scikit-learn's HashingVectorizer (2^18 features, lowercase, raw counts: alternate_sign=False,
norm=None) + TfidfTransformer (norm=None) fit_transform on the documents that
examples/text_bench.rs wrote (Parquet, column `text`). Prints the median of REPEATS runs,
and a `SECONDS <median>` line the Rust example reads.
Usage: python examples/text_bench_sklearn.py PATH [REPEATS]"""
import statistics
import sys
import time

import pyarrow.parquet as pq
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer

path = sys.argv[1]
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
docs = pq.read_table(path).column("text").to_pylist()
times = []
for _ in range(repeats):
    t0 = time.perf_counter()
    tf = HashingVectorizer(n_features=2**18, alternate_sign=False, norm=None).transform(docs)
    tfidf = TfidfTransformer(norm=None).fit_transform(tf)
    times.append(time.perf_counter() - t0)
med = statistics.median(times)
print(f"scikit-learn HashingVectorizer(2^18) + TfidfTransformer fit_transform: median of {repeats}: "
      f"{med:.3f} s on 1 thread ({tfidf.nnz} stored values, {len(docs)} documents)")
print(f"SECONDS {med}")
