//! mlpipe as a Spark Connect client, against a real Spark 4.3 Connect server.
//!
//! Start one with `.ci/connect_server.sh start <python with pyspark 4.3>` and run
//! `MLPIPE_SPARK_CONNECT=sc://127.0.0.1:15002 cargo test --features connect --test integration
//! connect::` (this file is the `connect` module of the one integration test binary).
//! Without `MLPIPE_SPARK_CONNECT` every test prints why it is skipped and passes (so a plain
//! `cargo test --all-features` needs no JVM); with it set, an unreachable server fails.
//!
//! Reference values: mlpipe's own local fit and scoring of the same rows (mlpipe matches
//! Spark 4.3 to the tolerances pinned in the `spark_*` tests); here the remote fit must equal
//! it to 1e-9 and Spark's remote scoring must equal mlpipe's local scoring of the fetched
//! model to 1e-12.

use crate::common;

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
use mlpipe::classification::{Family, LogisticRegression, LogisticRegressionModel, OneVsRest};
use mlpipe::connect::{EvaluateRemote, FitRemote, RemoteFrame, Session};
use mlpipe::evaluation::{BinaryClassificationEvaluator, BinaryMetric};
use mlpipe::feature::{OneHotEncoder, StandardScaler, StringIndexer, VectorAssembler};
use mlpipe::prelude::*;

/// The server's URL, or `None` (with the reason printed) when the tests are to be skipped.
fn server() -> Option<String> {
    match std::env::var("MLPIPE_SPARK_CONNECT") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!(
                "skipped: set MLPIPE_SPARK_CONNECT=sc://127.0.0.1:15002 with a Spark Connect server running (.ci/connect_server.sh start PYTHON)"
            );
            None
        }
    }
}

fn session() -> Option<Session> {
    let url = server()?;
    Some(Session::connect(&url).unwrap_or_else(|e| panic!("MLPIPE_SPARK_CONNECT is set but: {e}")))
}

/// splitmix64: deterministic synthetic data without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `rows` churn-like rows: id, contract (3 levels), tenure, charges, churn (0/1).
fn churn_rows(rows: usize, seed: u64) -> DataFrame {
    let mut r = Rng(seed);
    let contracts = ["month-to-month", "one-year", "two-year"];
    let (mut id, mut contract, mut tenure, mut charges, mut churn) =
        (vec![], vec![], vec![], vec![], vec![]);
    for i in 0..rows {
        let c = (r.next() * 3.0) as usize % 3;
        let t = (r.next() * 72.0).floor();
        let m = 20.0 + r.next() * 100.0;
        let z = 1.5 - 0.05 * t + 0.01 * m - 1.2 * c as f64;
        let p = 1.0 / (1.0 + (-z).exp());
        id.push(i as i64);
        contract.push(contracts[c]);
        tenure.push(t);
        charges.push(m);
        churn.push(if r.next() < p { 1.0 } else { 0.0 });
    }
    let batch = arrow::record_batch::RecordBatch::try_from_iter([
        ("id", Arc::new(Int64Array::from(id)) as ArrayRef),
        (
            "contract",
            Arc::new(StringArray::from(contract)) as ArrayRef,
        ),
        ("tenure", Arc::new(Float64Array::from(tenure)) as ArrayRef),
        ("charges", Arc::new(Float64Array::from(charges)) as ArrayRef),
        ("churn", Arc::new(Float64Array::from(churn)) as ArrayRef),
    ])
    .unwrap();
    DataFrame::from_batches(vec![batch]).unwrap()
}

/// StringIndexer -> OneHotEncoder -> VectorAssembler -> StandardScaler -> LogisticRegression.
fn lr_pipeline() -> Pipeline {
    Pipeline::new()
        .with_estimator(
            StringIndexer::new()
                .with_input_col("contract")
                .with_output_col("contract_idx"),
        )
        .with_estimator(
            OneHotEncoder::new()
                .with_input_cols(["contract_idx"])
                .with_output_cols(["contract_vec"]),
        )
        .with_transformer(
            VectorAssembler::new()
                .with_input_cols(["tenure", "charges", "contract_vec"])
                .with_output_col("raw"),
        )
        .with_estimator(
            StandardScaler::new()
                .with_input_col("raw")
                .with_output_col("features")
                .with_mean(true),
        )
        .with_estimator(
            LogisticRegression::new()
                .with_label_col("churn")
                .with_reg_param(0.01)
                .with_tol(1e-10)
                .with_max_iter(200),
        )
}

fn lr_of(m: &PipelineModel) -> &LogisticRegressionModel {
    m.stage::<LogisticRegressionModel>().unwrap()
}

/// `(id, probability of class 1)` of a scored frame, sorted by id.
fn probabilities(df: &DataFrame) -> Vec<(i64, f64)> {
    let ids = df.column("id").unwrap();
    let ids: Vec<i64> = ids
        .chunks
        .iter()
        .flat_map(|a| {
            arrow::array::AsArray::as_primitive::<arrow::datatypes::Int64Type>(a)
                .values()
                .to_vec()
        })
        .collect();
    let p = common::vector_rows(df, "probability");
    let mut out: Vec<(i64, f64)> = ids.into_iter().zip(p.iter().map(|r| r[1])).collect();
    out.sort_by_key(|x| x.0);
    out
}

/// `(id, vector as dense values)` of a vector column of either layout, sorted by id; the
/// column must have its size recorded.
fn sparse_rows(df: &DataFrame, col: &str) -> Vec<(i64, Vec<f64>)> {
    use mlpipe::frame::vector::{field_vector_size, At, VectorBlock};
    let field = df.schema().field_with_name(col).unwrap().clone();
    let n =
        field_vector_size(&field).unwrap_or_else(|| panic!("{col}: no vector size in {field:?}"));
    let (ids, vs) = (df.column("id").unwrap(), df.column(col).unwrap());
    let mut out = Vec::new();
    for (p, (i, v)) in ids.chunks.iter().zip(&vs.chunks).enumerate() {
        let at = At {
            stage: "test",
            column: col,
            partition: p,
        };
        let block = VectorBlock::new(v.as_ref(), n, at).unwrap();
        let i = arrow::array::AsArray::as_primitive::<arrow::datatypes::Int64Type>(i);
        for r in 0..block.len() {
            out.push((i.value(r), block.row(r).unwrap().to_vec()));
        }
    }
    out.sort_by_key(|x| x.0);
    out
}

fn scratch(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new().prefix(name).tempdir().unwrap()
}

/// How many models the session holds on the server; `None` on Spark 4.0, which has no
/// `GetCacheInfo` (the client says so, naming the version).
fn cached_count(spark: &Session) -> Option<usize> {
    if spark.spark_version().starts_with("4.0.") {
        let err = spark.cached_models().unwrap_err().to_string();
        assert!(
            err.contains("has no GetCacheInfo") && err.contains("Spark 4.1"),
            "{err}"
        );
        eprintln!(
            "Spark {}: the server cannot list its cached models; not checked",
            spark.spark_version()
        );
        return None;
    }
    Some(spark.cached_models().unwrap().len())
}

/// The models a session holds on the server, after all of them were dropped: none.
fn assert_nothing_cached(spark: &Session) {
    if cached_count(spark).is_some() {
        let cached = spark.cached_models().unwrap();
        assert!(cached.is_empty(), "left on the server: {cached:?}");
    }
}

#[test]
fn remote_fit_of_the_lr_pipeline_equals_the_local_fit_and_scores_the_same() {
    let Some(spark) = session() else { return };
    let local_df = churn_rows(2000, 1);
    let remote = spark.create_frame(&local_df).unwrap();
    let pipeline = lr_pipeline();

    let fitted = pipeline.fit_remote(&remote).unwrap();
    assert_eq!(
        fitted.server_ids().len(),
        4,
        "four estimators fitted on the server"
    );
    let fetched = fitted.fetch().unwrap();

    // (a) Spark's fit = mlpipe's fit of the same rows, coefficients within 1e-9.
    let local = pipeline.fit(&local_df).unwrap();
    let (a, b) = (lr_of(&fetched), lr_of(&local));
    let (ca, cb) = (a.coefficients().unwrap(), b.coefficients().unwrap());
    // tenure, charges and the 2 one-hot columns of 3 contracts (dropLast).
    assert_eq!(ca.len(), 4);
    for (i, (x, y)) in ca.iter().zip(cb).enumerate() {
        assert!(
            (x - y).abs() <= 1e-9 * y.abs().max(1.0),
            "coefficient {i}: Spark {x} vs mlpipe {y}"
        );
    }
    let (ia, ib) = (a.intercept().unwrap(), b.intercept().unwrap());
    assert!(
        (ia - ib).abs() <= 1e-9 * ib.abs().max(1.0),
        "intercept: Spark {ia} vs mlpipe {ib}"
    );

    // (b) the fetched model scoring here = Spark scoring there, within 1e-12.
    let spark_scored = fitted.transform_remote(&remote).unwrap().collect().unwrap();
    let here = fetched.transform(&local_df).unwrap();
    let (ps, ph) = (probabilities(&spark_scored), probabilities(&here));
    assert_eq!(ps.len(), 2000);
    assert_eq!(ps.len(), ph.len());
    for ((i, s), (j, h)) in ps.iter().zip(&ph) {
        assert_eq!(i, j);
        assert!((s - h).abs() <= 1e-12, "row {i}: Spark {s} vs mlpipe {h}");
    }

    // Spark's one-hot vectors come back sparse (mlpipe's sparse layout), as mlpipe makes them.
    assert_eq!(
        sparse_rows(&spark_scored, "contract_vec"),
        sparse_rows(&here, "contract_vec")
    );

    // Dropping the model releases its four server-side models.
    if let Some(n) = cached_count(&spark) {
        assert_eq!(n, 4);
    }
    drop(fitted);
    assert_nothing_cached(&spark);
}

#[test]
fn save_remote_writes_a_pipeline_model_with_scala_class_names_that_mlpipe_loads() {
    let Some(spark) = session() else { return };
    let local_df = churn_rows(500, 2);
    let remote = spark.create_frame(&local_df).unwrap();
    let fitted = lr_pipeline().fit_remote(&remote).unwrap();
    // The test server runs on this machine, so its paths are ours.
    let dir = scratch("mlpipe-connect-save");
    let path = dir.path().join("model");
    fitted.save_remote(path.to_str().unwrap(), false).unwrap();
    let md = mlpipe::persist::read_metadata(&path).unwrap();
    assert_eq!(md.class, "org.apache.spark.ml.PipelineModel");
    assert!(
        md.raw.get("language").is_none(),
        "no PySpark language tag: {}",
        md.raw
    );
    let loaded = PipelineModel::load(&path).unwrap();
    assert_eq!(loaded.stages().len(), 5);
    // Saving again without overwrite is Spark's error, naming the pipeline.
    let err = fitted
        .save_remote(path.to_str().unwrap(), false)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("PipelineModel: save failed") && err.contains("already exists"),
        "{err}"
    );
    fitted.save_remote(path.to_str().unwrap(), true).unwrap();
}

#[test]
fn a_model_mlpipe_saved_is_read_and_applied_by_the_server() {
    let Some(spark) = session() else { return };
    let local_df = churn_rows(800, 3);
    let local = lr_pipeline().fit(&local_df).unwrap();
    let dir = scratch("mlpipe-connect-mlpipe-saved");
    let path = dir.path().join("model");
    local.save(&path).unwrap();

    let remote_model = spark.read_pipeline_model(path.to_str().unwrap()).unwrap();
    let remote = spark.create_frame(&local_df).unwrap();
    let spark_scored = remote_model
        .transform_remote(&remote)
        .unwrap()
        .collect()
        .unwrap();
    let here = local.transform(&local_df).unwrap();
    for ((i, s), (_, h)) in probabilities(&spark_scored)
        .iter()
        .zip(&probabilities(&here))
    {
        assert!((s - h).abs() <= 1e-12, "row {i}: Spark {s} vs mlpipe {h}");
    }
    drop(remote_model);
    assert_nothing_cached(&spark);
}

#[test]
fn evaluator_numbers_match_with_num_bins_0() {
    let Some(spark) = session() else { return };
    let local_df = churn_rows(1500, 4);
    let remote = spark.create_frame(&local_df).unwrap();
    let fitted = lr_pipeline().fit_remote(&remote).unwrap();
    let here = fitted.fetch().unwrap().transform(&local_df).unwrap();
    let scored = fitted.transform_remote(&remote).unwrap();
    for metric in [BinaryMetric::AreaUnderRoc, BinaryMetric::AreaUnderPr] {
        // numBins 0: Spark's exact metric (binned ones depend on Spark's partitioning).
        let ev = BinaryClassificationEvaluator::new()
            .with_label_col("churn")
            .with_metric(metric)
            .with_num_bins(0);
        let there = ev.evaluate_remote(&scored).unwrap();
        let local = ev.evaluate(&here).unwrap();
        assert!(there > 0.5 && there < 1.0, "{there}");
        assert!(
            (there - local).abs() <= 1e-12,
            "{metric:?}: Spark {there} vs mlpipe {local}"
        );
    }
}

#[test]
fn a_single_estimator_fits_remotely_and_comes_back() {
    let Some(spark) = session() else { return };
    let local_df = VectorAssembler::new()
        .with_input_cols(["tenure", "charges"])
        .with_output_col("features")
        .transform(&churn_rows(600, 5))
        .unwrap();
    // Uploads a vector column as Spark ML vectors.
    let remote = spark.create_frame(&local_df).unwrap();
    let lr = LogisticRegression::new()
        .with_label_col("churn")
        .with_tol(1e-10)
        .with_max_iter(200);
    let model = lr.fit_remote(&remote).unwrap();
    let fetched = model.fetch().unwrap();
    let fetched = fetched.downcast_ref::<LogisticRegressionModel>().unwrap();
    let local = lr.fit(&local_df).unwrap();
    for (x, y) in fetched
        .coefficients()
        .unwrap()
        .iter()
        .zip(local.coefficients().unwrap())
    {
        assert!(
            (x - y).abs() <= 1e-9 * y.abs().max(1.0),
            "Spark {x} vs mlpipe {y}"
        );
    }
    assert_eq!(model.uid(), lr.uid());
}

#[test]
fn an_unsupported_stage_fails_before_any_server_call() {
    let Some(spark) = session() else { return };
    // Any server call on this frame fails (no such file): an error about the stage proves
    // that none was made.
    let missing = spark
        .read_parquet(["/nonexistent/mlpipe/connect.parquet"])
        .unwrap();
    let pipeline = Pipeline::new()
        .with_transformer(
            VectorAssembler::new()
                .with_input_cols(["tenure"])
                .with_output_col("features"),
        )
        .with_estimator(OneVsRest::new(LogisticRegression::new()).with_label_col("churn"));
    let err = pipeline.fit_remote(&missing).unwrap_err().to_string();
    assert!(err.starts_with("Pipeline: OneVsRest ("), "{err}");
    assert!(
        err.contains("org.apache.spark.ml.classification.OneVsRest")
            && err.contains("nothing was sent"),
        "{err}"
    );
}

#[test]
fn a_misspelt_column_fails_locally_before_any_fit() {
    let Some(spark) = session() else { return };
    let remote = spark.create_frame(&churn_rows(50, 6)).unwrap();
    let pipeline = Pipeline::new()
        .with_transformer(
            VectorAssembler::new()
                .with_input_cols(["tenur"])
                .with_output_col("features"),
        )
        .with_estimator(LogisticRegression::new().with_label_col("churn"));
    let err = pipeline.fit_remote(&remote).unwrap_err();
    assert!(
        matches!(err, Error::ColumnNotFound { ref column, .. } if column == "tenur"),
        "{err}"
    );
    assert_nothing_cached(&spark);
}

#[test]
fn a_server_error_mid_pipeline_names_the_stage_and_releases_what_was_fitted() {
    let Some(spark) = session() else { return };
    // Three label values with family "binomial": only the fit, on the server, can see it.
    let df = churn_rows(200, 7);
    let labels: Vec<f64> = (0..200).map(|i| (i % 3) as f64).collect();
    let df = df.drop(["churn"]).unwrap();
    let df = df
        .with_column(
            arrow::datatypes::Field::new("churn", arrow::datatypes::DataType::Float64, false),
            vec![Arc::new(Float64Array::from(labels)) as ArrayRef],
        )
        .unwrap();
    let remote = spark.create_frame(&df).unwrap();
    let pipeline = Pipeline::new()
        .with_estimator(
            StringIndexer::new()
                .with_input_col("contract")
                .with_output_col("c"),
        )
        .with_transformer(
            VectorAssembler::new()
                .with_input_cols(["tenure", "c"])
                .with_output_col("features"),
        )
        .with_estimator(
            LogisticRegression::new()
                .with_label_col("churn")
                .with_family(Family::Binomial),
        );
    let err = pipeline.fit_remote(&remote).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::Remote { .. }), "{msg}");
    assert!(
        msg.contains("stage 2, LogisticRegression (") && msg.contains("fit failed"),
        "{msg}"
    );
    assert!(msg.contains("outcome classes"), "Spark's message: {msg}");
    // The StringIndexerModel fitted before the failure was released.
    assert_nothing_cached(&spark);
}

#[test]
fn remote_frames_count_select_split_and_collect() {
    let Some(spark) = session() else { return };
    let local_df = churn_rows(1000, 8);
    let remote: RemoteFrame = spark.create_frame(&local_df).unwrap();
    assert_eq!(remote.count().unwrap(), 1000);
    let schema = remote.schema().unwrap();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["id", "contract", "tenure", "charges", "churn"]);

    let back = remote
        .select(["churn", "tenure"])
        .unwrap()
        .collect()
        .unwrap();
    assert_eq!(back.num_rows(), 1000);
    assert_eq!(
        common::f64_column(&back, "tenure"),
        common::f64_column(&local_df, "tenure")
    );

    // A sparse vector column goes up and comes back in mlpipe's sparse layout.
    let encoded = lr_pipeline()
        .fit(&local_df)
        .unwrap()
        .transform(&local_df)
        .unwrap();
    let encoded = encoded.select(["id", "contract_vec"]).unwrap();
    let back = spark.create_frame(&encoded).unwrap().collect().unwrap();
    assert_eq!(
        sparse_rows(&back, "contract_vec"),
        sparse_rows(&encoded, "contract_vec")
    );

    let [a, b] = remote.random_split([0.7, 0.3], 11).unwrap();
    let (na, nb) = (a.count().unwrap(), b.count().unwrap());
    assert_eq!(na + nb, 1000);
    assert!((600..800).contains(&na), "{na}");
    // The same seed gives the same split.
    let [a2, _] = remote.random_split([0.7, 0.3], 11).unwrap();
    assert_eq!(a2.count().unwrap(), na);
    assert!(remote.random_split([-1.0, 2.0], 1).is_err());

    // A missing file is Spark's error, with the URL of the server.
    let err = spark
        .read_parquet(["/nonexistent/x.parquet"])
        .unwrap()
        .count()
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with("Spark Connect server sc://") && msg.contains("PATH_NOT_FOUND"),
        "{msg}"
    );
}

#[test]
fn read_parquet_and_csv_are_read_by_the_cluster() {
    let Some(spark) = session() else { return };
    let local_df = churn_rows(300, 9);
    let dir = scratch("mlpipe-connect-read");
    let pq = dir.path().join("churn.parquet");
    local_df.write_parquet(&pq).unwrap();
    let csv = dir.path().join("churn.csv");
    local_df.write_csv(&csv).unwrap();
    for frame in [
        spark.read_parquet([pq.to_str().unwrap()]).unwrap(),
        spark.read_csv([csv.to_str().unwrap()]).unwrap(),
    ] {
        let back = frame.collect().unwrap();
        assert_eq!(back.num_rows(), 300);
        assert_eq!(
            common::f64_column(&back, "charges"),
            common::f64_column(&local_df, "charges")
        );
    }
}

/// A TCP relay to the server that the test can cut, to drop a live connection.
struct Relay {
    port: u16,
    stop: Arc<std::sync::atomic::AtomicBool>,
    conns: Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
}

impl Relay {
    fn to(target: String) -> Relay {
        use std::net::{TcpListener, TcpStream};
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let conns: Arc<std::sync::Mutex<Vec<TcpStream>>> = Default::default();
        let (s, c) = (stop.clone(), conns.clone());
        std::thread::spawn(move || {
            for down in listener.incoming() {
                if s.load(std::sync::atomic::Ordering::SeqCst) {
                    break; // drops the listener: new connections are refused
                }
                let Ok(down) = down else { continue };
                let up = TcpStream::connect(&target).unwrap();
                let mut list = c.lock().unwrap();
                list.push(down.try_clone().unwrap());
                list.push(up.try_clone().unwrap());
                for (mut from, mut to) in [
                    (down.try_clone().unwrap(), up.try_clone().unwrap()),
                    (up, down),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        Relay { port, stop, conns }
    }

    /// Closes every relayed connection and stops accepting new ones.
    fn cut(&self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port)); // wakes the accept loop
        for c in self.conns.lock().unwrap().iter() {
            let _ = c.shutdown(std::net::Shutdown::Both);
        }
    }
}

#[test]
fn a_dropped_connection_is_a_clear_error_naming_the_server() {
    let Some(url) = server() else { return };
    let target = url
        .trim_start_matches("sc://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let relay = Relay::to(target);
    let relayed = format!("sc://127.0.0.1:{}", relay.port);
    let spark = Session::connect(&relayed).unwrap();
    let frame = spark.create_frame(&churn_rows(20, 10)).unwrap();
    assert_eq!(frame.count().unwrap(), 20);
    relay.cut();
    let err = frame.count().unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::Remote { .. }), "{msg}");
    assert!(
        msg.starts_with(&format!("Spark Connect server {relayed}:")),
        "{msg}"
    );
    assert!(msg.contains("connection failed or was dropped"), "{msg}");
}

/// `churn_rows` with an integer `fold` column (row i in fold i mod 3), written to Parquet
/// in `dir`; returns the path (the test server runs on this machine, so it reads it).
fn churn_parquet(dir: &std::path::Path, rows: usize, seed: u64) -> String {
    let df = churn_rows(rows, seed);
    let folds: Vec<i32> = (0..rows as i32).map(|i| i % 3).collect();
    let df = df
        .with_column(
            arrow::datatypes::Field::new("fold", arrow::datatypes::DataType::Int32, false),
            vec![Arc::new(arrow::array::Int32Array::from(folds)) as ArrayRef],
        )
        .unwrap();
    let path = dir.join("churn.parquet");
    df.write_parquet(&path).unwrap();
    path.to_str().unwrap().to_string()
}

/// The pipeline, grid and evaluator of tests/pyspark/connect_tuning.py (keep in step).
fn remote_tuning_setup() -> (
    Pipeline,
    Vec<mlpipe::tuning::ParamMap>,
    BinaryClassificationEvaluator,
) {
    use mlpipe::tuning::{Param, ParamGridBuilder};
    let lr = LogisticRegression::new()
        .with_label_col("churn")
        .with_tol(1e-10)
        .with_max_iter(200);
    let grid = ParamGridBuilder::new()
        .add_grid(Param::reg_param(&lr), [0.001, 0.05, 0.3])
        .add_grid(Param::elastic_net_param(&lr), [0.0, 0.5])
        .build();
    let mut p = lr_pipeline();
    // lr_pipeline's LogisticRegression, replaced by this one (the grid names its uid).
    let stages: Vec<_> = p.stages()[..4].to_vec();
    p = stages
        .into_iter()
        .fold(Pipeline::new(), |p, s| p.with_stage(s))
        .with_estimator(lr);
    let evaluator = BinaryClassificationEvaluator::new()
        .with_label_col("churn")
        .with_num_bins(0);
    (p, grid, evaluator)
}

fn close(a: &[f64], b: &[f64], tol: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: {a:?} vs {b:?}");
    let worst = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    eprintln!("{what}: mlpipe {a:?}, PySpark {b:?}, largest difference {worst:e}");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tol,
            "{what}[{i}]: mlpipe {x} vs PySpark {y}"
        );
    }
}

fn f64s(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// CrossValidator and TrainValidationSplit driven from here against the server equal
/// PySpark 4.3's own CrossValidator / TrainValidationSplit run over Spark Connect on the
/// same file (tests/pyspark/connect_tuning.py): the metrics within 1e-9 (the evaluator's
/// exact AUC, numBins 0), the same best point; nothing is left in the server's ML cache.
#[test]
#[ignore = "needs PySpark 4.3 with its Spark Connect client: set MLPIPE_PYSPARK (and MLPIPE_SPARK_CONNECT)"]
fn remote_tuning_equals_pyspark_over_spark_connect() {
    use mlpipe::tuning::{CrossValidator, CrossValidatorModel, TrainValidationSplit};
    let Some(spark) = session() else { return };
    let url = server().unwrap();
    let dir = scratch("mlpipe-connect-tuning");
    let path = churn_parquet(dir.path(), 1500, 21);
    let data = spark.read_parquet([path.as_str()]).unwrap();
    let (pipeline, grid, evaluator) = remote_tuning_setup();

    let cv = CrossValidator::new(pipeline.clone(), evaluator.clone(), grid.clone())
        .with_num_folds(3)
        .with_seed(17)
        .with_parallelism(3);
    let fitted = cv.fit_remote(&data).unwrap();
    // Only the best pipeline's four fitted models are left on the server.
    if let Some(n) = cached_count(&spark) {
        assert_eq!(n, 4);
    }
    let cv_fold = CrossValidator::new(pipeline.clone(), evaluator.clone(), grid.clone())
        .with_num_folds(3)
        .with_fold_col("fold");
    let fitted_fold = cv_fold.fit_remote(&data).unwrap();
    let tvs = TrainValidationSplit::new(pipeline.clone(), evaluator.clone(), grid.clone())
        .with_train_ratio(0.7)
        .with_seed(23);
    let fitted_tvs = tvs.fit_remote(&data).unwrap();

    // Saved in Spark's layout by Spark and mlpipe together: PySpark loads it below.
    let saved = dir.path().join("cvm");
    fitted.save_remote(saved.to_str().unwrap(), false).unwrap();

    let out = common::run_pyspark_check(
        "connect_tuning.py",
        &[&url, &path, &saved.to_str().unwrap()],
    );
    let py: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();

    close(
        fitted.avg_metrics(),
        &f64s(&py["cv"]["avgMetrics"]),
        1e-9,
        "cv avgMetrics",
    );
    close(
        fitted.std_metrics(),
        &f64s(&py["cv"]["stdMetrics"]),
        1e-9,
        "cv stdMetrics",
    );
    assert_eq!(
        fitted.best_index() as u64,
        py["cv"]["bestIndex"].as_u64().unwrap()
    );
    close(
        fitted_fold.avg_metrics(),
        &f64s(&py["cv_fold"]["avgMetrics"]),
        1e-9,
        "foldCol avgMetrics",
    );
    assert_eq!(
        fitted_fold.best_index() as u64,
        py["cv_fold"]["bestIndex"].as_u64().unwrap()
    );
    close(
        fitted_tvs.validation_metrics(),
        &f64s(&py["tvs"]["validationMetrics"]),
        1e-9,
        "tvs validationMetrics",
    );
    assert_eq!(
        fitted_tvs.best_index() as u64,
        py["tvs"]["bestIndex"].as_u64().unwrap()
    );
    // The saved model as PySpark reads it (PySpark 4.0's Connect client cannot load a
    // CrossValidatorModel at all: its reader asks for a local JVM).
    if let Some(v) = py["saved"]["unavailable"].as_str() {
        let version = py["saved"]["pyspark"].as_str().unwrap();
        assert!(
            version.starts_with("4.0."),
            "PySpark {version} could not load it: {v}"
        );
        eprintln!("PySpark {version} cannot load a CrossValidatorModel over Spark Connect: {v}");
    } else {
        close(
            &f64s(&py["saved"]["avgMetrics"]),
            fitted.avg_metrics(),
            0.0,
            "saved avgMetrics",
        );
        let best_reg = fitted.best_params().pairs()[0].1.as_f64().unwrap();
        assert_eq!(py["saved"]["bestRegParam"].as_f64().unwrap(), best_reg);
    }

    // The result here as mlpipe's own CrossValidatorModel: fetched through ML Fetch, equal
    // to what Spark saved (which mlpipe loads), and scoring like the server.
    let local = fitted.fetch().unwrap();
    assert_eq!(local.avg_metrics(), fitted.avg_metrics());
    assert_eq!(local.best_params(), fitted.best_params());
    let loaded = CrossValidatorModel::<PipelineModel>::load(&saved).unwrap();
    assert_eq!(loaded.avg_metrics(), fitted.avg_metrics());
    let rows = churn_rows(300, 22);
    let (a, b) = (
        probabilities(&local.transform(&rows).unwrap()),
        probabilities(&loaded.transform(&rows).unwrap()),
    );
    for ((i, x), (_, y)) in a.iter().zip(&b) {
        assert!((x - y).abs() <= 1e-12, "row {i}: fetched {x} vs saved {y}");
    }
    let tvs_local = fitted_tvs.fetch().unwrap();
    assert_eq!(
        tvs_local.validation_metrics(),
        fitted_tvs.validation_metrics()
    );

    drop((fitted, fitted_fold, fitted_tvs));
    assert_nothing_cached(&spark);
}

/// A single estimator (not a pipeline) cross-validated remotely; a fold column with a
/// value outside [0, numFolds) fails before any fit, naming the column and the value.
#[test]
fn remote_cross_validation_of_one_estimator_and_bad_fold_values() {
    use mlpipe::tuning::{CrossValidator, Param, ParamGridBuilder};
    let Some(spark) = session() else { return };
    let local_df = VectorAssembler::new()
        .with_input_cols(["tenure", "charges"])
        .with_output_col("features")
        .transform(&churn_rows(600, 23))
        .unwrap();
    let remote = spark.create_frame(&local_df).unwrap();
    let lr = LogisticRegression::new().with_label_col("churn");
    let grid = ParamGridBuilder::new()
        .add_grid(Param::reg_param(&lr), [0.01, 0.5])
        .build();
    let ev = BinaryClassificationEvaluator::new()
        .with_label_col("churn")
        .with_num_bins(0);
    let cv = CrossValidator::new(lr.clone(), ev.clone(), grid.clone()).with_seed(3);
    let fitted = cv.fit_remote(&remote).unwrap();
    assert_eq!(fitted.avg_metrics().len(), 2);
    assert!(fitted.avg_metrics().iter().all(|m| *m > 0.5 && *m < 1.0));
    let local = fitted.fetch().unwrap();
    assert!(local.best_model().coefficients().unwrap().len() == 2);
    if let Some(n) = cached_count(&spark) {
        assert_eq!(n, 1);
    }
    drop(fitted);

    // Fold numbers 0..3 with numFolds 2: the value 2 is refused.
    let folds: Vec<i64> = (0..600).map(|i| i % 3).collect();
    let with_folds = local_df
        .with_column(
            arrow::datatypes::Field::new("fold", arrow::datatypes::DataType::Int64, false),
            vec![Arc::new(Int64Array::from(folds)) as ArrayRef],
        )
        .unwrap();
    let remote = spark.create_frame(&with_folds).unwrap();
    let err = CrossValidator::new(lr, ev, grid)
        .with_num_folds(2)
        .with_fold_col("fold")
        .fit_remote(&remote)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("CrossValidator")
            && err.contains("foldCol")
            && err.contains("2 in column `fold`"),
        "{err}"
    );
    assert_nothing_cached(&spark);
}

/// `name`'s values (a number or a vector column) on every row, as vectors, sorted by id.
fn column_rows(df: &DataFrame, name: &str) -> Vec<(i64, Vec<f64>)> {
    let field = df.schema().field_with_name(name).unwrap().clone();
    if mlpipe::frame::vector::field_vector_size(&field).is_some() {
        return sparse_rows(df, name);
    }
    let ids: Vec<i64> = common::f64_column(df, "id")
        .iter()
        .map(|x| *x as i64)
        .collect();
    let mut out: Vec<(i64, Vec<f64>)> = ids
        .into_iter()
        .zip(common::f64_column(df, name))
        .map(|(i, v)| (i, vec![v]))
        .collect();
    out.sort_by_key(|x| x.0);
    out
}

/// Both models score `df` the same on `cols`, within `tol`.
fn same_scores(a: &PipelineModel, b: &PipelineModel, df: &DataFrame, cols: &[&str], tol: f64) {
    let (sa, sb) = (a.transform(df).unwrap(), b.transform(df).unwrap());
    for c in cols {
        let (ra, rb) = (column_rows(&sa, c), column_rows(&sb, c));
        assert_eq!(ra.len(), df.num_rows(), "{c}");
        for ((i, x), (j, y)) in ra.iter().zip(&rb) {
            assert_eq!(i, j);
            assert_eq!(x.len(), y.len(), "{c}, row {i}");
            for (u, v) in x.iter().zip(y) {
                assert!((u - v).abs() <= tol, "{c}, row {i}: {u} vs {v}");
            }
        }
    }
}

/// Fetched through ML Fetch (no storage shared with the server) = fetched through Spark's
/// save: every fitted value the same (coefficients within 1e-15) and the same scores
/// (1e-12), for every model kind the server hands out; a stage it does not hand out (a
/// tree) makes `fetch` fail naming it, and `fetch_via` brings it back through a save.
#[test]
fn fetch_by_attributes_equals_the_model_spark_saved() {
    use mlpipe::classification::{DecisionTreeClassifier, LinearSVC, NaiveBayes};
    use mlpipe::clustering::KMeans;
    use mlpipe::feature::{
        CountVectorizer, HashingTF, Imputer, MaxAbsScaler, MinMaxScaler, RobustScaler, Tokenizer,
        IDF,
    };
    use mlpipe::regression::LinearRegression;
    let Some(spark) = session() else { return };
    let rows = churn_rows(800, 31);
    // A text column for the text stages: the contract's words and a tenure bucket.
    let text: Vec<String> = common::f64_column(&rows, "tenure")
        .iter()
        .zip(
            rows.column("contract").unwrap().chunks[0]
                .as_any()
                .downcast_ref::<StringArray>()
                .unwrap()
                .iter(),
        )
        .map(|(t, c)| {
            format!(
                "{} t{} {}",
                c.unwrap().replace('-', " "),
                (*t as i64) / 12,
                if *t > 30.0 { "long" } else { "short" }
            )
        })
        .collect();
    let rows = rows
        .with_column(
            arrow::datatypes::Field::new("text", arrow::datatypes::DataType::Utf8, false),
            vec![Arc::new(StringArray::from(text)) as ArrayRef],
        )
        .unwrap();
    let remote = spark.create_frame(&rows).unwrap();
    let pipeline = Pipeline::new()
        .with_estimator(
            Imputer::new()
                .with_input_cols(["charges"])
                .with_output_cols(["charges_i"]),
        )
        .with_estimator(
            StringIndexer::new()
                .with_input_col("contract")
                .with_output_col("c_idx"),
        )
        .with_estimator(
            OneHotEncoder::new()
                .with_input_cols(["c_idx"])
                .with_output_cols(["c_vec"]),
        )
        .with_transformer(
            Tokenizer::new()
                .with_input_col("text")
                .with_output_col("words"),
        )
        .with_transformer(
            HashingTF::new()
                .with_input_col("words")
                .with_output_col("tf")
                .with_num_features(64),
        )
        .with_estimator(IDF::new().with_input_col("tf").with_output_col("tfidf"))
        .with_transformer(
            VectorAssembler::new()
                .with_input_cols(["tenure", "charges_i", "c_vec", "tfidf"])
                .with_output_col("raw"),
        )
        .with_estimator(
            StandardScaler::new()
                .with_input_col("raw")
                .with_output_col("s1")
                .with_mean(true),
        )
        .with_estimator(
            RobustScaler::new()
                .with_input_col("s1")
                .with_output_col("s2"),
        )
        .with_estimator(
            MaxAbsScaler::new()
                .with_input_col("s2")
                .with_output_col("s3"),
        )
        .with_estimator(
            MinMaxScaler::new()
                .with_input_col("s3")
                .with_output_col("features"),
        )
        .with_estimator(
            LogisticRegression::new()
                .with_label_col("churn")
                .with_reg_param(0.01)
                .with_tol(1e-10),
        );
    let fitted = pipeline.fit_remote(&remote).unwrap();
    let by_attributes = fitted.fetch().unwrap();
    let dir = scratch("mlpipe-connect-fetch-saved");
    let saved = fitted.fetch_saved(dir.path().to_str().unwrap()).unwrap();
    let (a, b) = (lr_of(&by_attributes), lr_of(&saved));
    for (x, y) in a
        .coefficients()
        .unwrap()
        .iter()
        .zip(b.coefficients().unwrap())
    {
        assert!((x - y).abs() <= 1e-15 * y.abs().max(1.0), "{x} vs {y}");
    }
    assert_eq!(a.intercept().unwrap(), b.intercept().unwrap());
    same_scores(
        &by_attributes,
        &saved,
        &rows,
        &[
            "charges_i",
            "c_idx",
            "c_vec",
            "tfidf",
            "s1",
            "s2",
            "s3",
            "features",
            "probability",
            "prediction",
        ],
        1e-12,
    );

    // Single estimators on the scaled features (non-negative, as NaiveBayes needs).
    let cols = ["id", "churn", "tenure", "features", "words"];
    let features = fitted
        .transform_remote(&remote)
        .unwrap()
        .select(cols)
        .unwrap();
    let here = by_attributes
        .transform(&rows)
        .unwrap()
        .select(cols)
        .unwrap();
    type Fit<'a> = Box<dyn Fn() -> mlpipe::Result<mlpipe::connect::RemoteModel> + 'a>;
    let singles: Vec<(&str, Fit)> = vec![
        (
            "LinearRegression",
            Box::new(|| {
                LinearRegression::new()
                    .with_label_col("tenure")
                    .with_reg_param(0.1)
                    .fit_remote(&features)
            }),
        ),
        (
            "LinearSVC",
            Box::new(|| {
                LinearSVC::new()
                    .with_label_col("churn")
                    .fit_remote(&features)
            }),
        ),
        (
            "NaiveBayes",
            Box::new(|| {
                NaiveBayes::new()
                    .with_label_col("churn")
                    .fit_remote(&features)
            }),
        ),
        (
            "KMeans",
            Box::new(|| KMeans::new().with_k(3).with_seed(5).fit_remote(&features)),
        ),
        (
            "CountVectorizer",
            Box::new(|| {
                CountVectorizer::new()
                    .with_input_col("words")
                    .with_output_col("prediction")
                    .fit_remote(&features)
            }),
        ),
    ];
    for (name, fit) in singles {
        let m = fit().unwrap();
        let a = m.fetch().unwrap();
        let b = m
            .fetch_saved(dir.path().join(name).to_str().unwrap())
            .unwrap();
        let wrap = |t: Box<dyn Transformer>| PipelineModel::new("p", vec![t]);
        same_scores(&wrap(a), &wrap(b), &here, &["prediction"], 1e-12);
    }

    // A tree: its fitted state is not in the server's Fetch allowlist.
    let tree = Pipeline::new()
        .with_transformer(
            VectorAssembler::new()
                .with_input_cols(["tenure", "charges"])
                .with_output_col("features"),
        )
        .with_estimator(
            DecisionTreeClassifier::new()
                .with_label_col("churn")
                .with_max_depth(3),
        );
    let fitted_tree = tree.fit_remote(&remote).unwrap();
    let err = fitted_tree.fetch().unwrap_err().to_string();
    assert!(
        err.contains("stage 1, DecisionTreeClassifier (")
            && err.contains("a DecisionTreeClassificationModel through ML Fetch")
            && err.contains("fetch_via(scratch)"),
        "{err}"
    );
    let via = fitted_tree
        .fetch_via(dir.path().join("tree").to_str().unwrap())
        .unwrap();
    let saved_tree = fitted_tree
        .fetch_saved(dir.path().join("tree2").to_str().unwrap())
        .unwrap();
    same_scores(
        &via,
        &saved_tree,
        &rows,
        &["probability", "prediction"],
        0.0,
    );

    drop((fitted, fitted_tree));
    assert_nothing_cached(&spark);
}
