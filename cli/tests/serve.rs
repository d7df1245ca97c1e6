//! `mlpipe serve` against a real server on loopback, started by each test (port 0, bounded
//! request counts, socket timeouts): concurrent clients get the serial answers, bad
//! requests get 400s while others are served, a reload under load drops no request, a
//! model directory that disappears keeps the old model serving, SIGTERM stops cleanly.
#![cfg(feature = "serve")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mlpipe::arrow::array::{Array, AsArray, RecordBatch};
use mlpipe::arrow::datatypes::{DataType, Float64Type, Int64Type};
use mlpipe::prelude::*;
use mlpipe::row::{infer_input_schema, Row, Value};
use serde_json::{json, Map, Value as J};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A file under tests/fixtures/spark_cli (PySpark 4.3's Telco pipeline and data, made by
/// tests/pyspark/make_cli_fixtures.py).
fn spark_cli(name: &str) -> PathBuf {
    repo_root().join("tests/fixtures/spark_cli").join(name)
}

struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(model: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mlpipe"))
            .args(["serve", "--model"])
            .arg(model)
            .args(["--addr", "127.0.0.1:0", "--threads", "2"])
            .args(extra)
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        // Keeps draining stderr (log lines) so the server never blocks on it.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(|l| l.ok()) {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let _ = tx.send(rest.split_whitespace().next().unwrap_or("").to_string());
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server printed its address");
        Server { child, addr }
    }

    fn client(&self) -> Client {
        Client::connect(&self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal HTTP/1.1 keep-alive client (Content-Length bodies only, as the server sends).
struct Client {
    addr: String,
    stream: BufReader<TcpStream>,
}

impl Client {
    fn connect(addr: &str) -> Client {
        Client {
            addr: addr.to_string(),
            stream: Self::open(addr),
        }
    }

    fn open(addr: &str) -> BufReader<TcpStream> {
        let s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s.set_nodelay(true).unwrap();
        BufReader::new(s)
    }

    /// Sends one request and reads its status line. A keep-alive connection the server has
    /// closed between requests (the write fails, or the read ends before any byte of a
    /// response) is reopened and the request sent again, once, as HTTP clients do: the
    /// server never saw that request, so nothing was dropped.
    fn send(&mut self, head: &str, body: &[u8]) -> String {
        for attempt in 0..2 {
            let s = self.stream.get_mut();
            let sent = s.write_all(head.as_bytes()).and_then(|_| s.write_all(body));
            let mut status_line = String::new();
            let read = sent.and_then(|_| self.stream.read_line(&mut status_line));
            match read {
                Ok(n) if n > 0 => return status_line,
                Ok(_) if attempt == 0 => {}
                Err(e)
                    if attempt == 0
                        && matches!(
                            e.kind(),
                            std::io::ErrorKind::BrokenPipe
                                | std::io::ErrorKind::ConnectionReset
                                | std::io::ErrorKind::ConnectionAborted
                        ) => {}
                other => panic!("request failed (attempt {attempt}): {other:?}"),
            }
            self.stream = Self::open(&self.addr);
        }
        unreachable!()
    }

    fn request(&mut self, method: &str, path: &str, body: &[u8]) -> (u16, String) {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let status_line = self.send(&head, body);
        let status: u16 = status_line
            .split_whitespace()
            .nth(1)
            .unwrap_or_else(|| panic!("bad status line {status_line:?}"))
            .parse()
            .unwrap();
        let mut len = 0usize;
        loop {
            let mut h = String::new();
            self.stream.read_line(&mut h).unwrap();
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    len = v.trim().parse().unwrap();
                }
            }
        }
        let mut buf = vec![0u8; len];
        self.stream.read_exact(&mut buf).unwrap();
        (status, String::from_utf8(buf).unwrap())
    }

    fn post(&mut self, path: &str, body: &J) -> (u16, J) {
        let (s, b) = self.request("POST", path, body.to_string().as_bytes());
        (s, serde_json::from_str(&b).unwrap_or(J::String(b)))
    }

    fn get(&mut self, path: &str) -> (u16, J) {
        let (s, b) = self.request("GET", path, b"");
        (s, serde_json::from_str(&b).unwrap_or(J::String(b)))
    }
}

/// The 400 Telco test rows as JSON objects (blank TotalCharges as null).
fn telco_rows() -> (DataFrame, Vec<J>) {
    let df = DataFrame::read_csv(spark_cli("test.csv"), &CsvOptions::default()).unwrap();
    let b = df.collect().unwrap();
    let rows = (0..b.num_rows())
        .map(|r| {
            let mut m = Map::new();
            for (c, f) in b.schema().fields().iter().enumerate() {
                m.insert(f.name().clone(), json_value(&b, c, r));
            }
            J::Object(m)
        })
        .collect();
    (df, rows)
}

fn json_value(b: &RecordBatch, c: usize, r: usize) -> J {
    let a = b.column(c);
    if a.is_null(r) {
        return J::Null;
    }
    match a.data_type() {
        DataType::Utf8 => json!(a.as_string::<i32>().value(r)),
        DataType::Int64 => json!(a.as_primitive::<Int64Type>().value(r)),
        DataType::Float64 => json!(a.as_primitive::<Float64Type>().value(r)),
        dt => panic!("unexpected type {dt}"),
    }
}

/// The answers the library's row scorer gives serially, in the server's JSON shape.
fn serial_answers(model_dir: &Path, rows: &[J]) -> Vec<J> {
    let model = PipelineModel::load(model_dir).unwrap();
    let schema = infer_input_schema(&model).unwrap();
    let mut scorer = model.row_scorer(&schema).unwrap();
    rows.iter()
        .map(|row| {
            let m = row.as_object().unwrap();
            let r: Row<'_> = m
                .iter()
                .map(|(k, v)| {
                    let v = match v {
                        J::Null => Value::Null,
                        J::String(s) => Value::Str(s),
                        J::Number(n) => match n.as_i64() {
                            Some(i) => Value::Int(i),
                            None => Value::Float(n.as_f64().unwrap()),
                        },
                        v => panic!("unexpected {v}"),
                    };
                    (k.as_str(), v)
                })
                .collect();
            let s = scorer.score_row(&r).unwrap().unwrap();
            json!({
                "prediction": s.prediction(),
                "probability": s.probability(),
                "rawPrediction": s.raw_prediction(),
            })
        })
        .collect()
}

#[test]
fn concurrent_clients_get_the_serial_answers() {
    let model = spark_cli("fitted_pipeline");
    let (_, rows) = telco_rows();
    let want = serial_answers(&model, &rows);
    // The serial answers are PySpark's (predictions.csv holds its transform of test.csv).
    assert_eq!(want[0]["probability"][1], json!(0.7109717756901445));
    let server = Server::start(&model, &[]);
    let clients = 8;
    std::thread::scope(|s| {
        for t in 0..clients {
            let (rows, want, server) = (&rows, &want, &server);
            s.spawn(move || {
                let mut c = server.client();
                // Each client walks the rows from its own offset.
                for i in 0..rows.len() {
                    let k = (i + t * 50) % rows.len();
                    let (status, got) = c.post("/predict", &rows[k]);
                    assert_eq!(status, 200, "{got}");
                    assert_eq!(got, want[k], "client {t}, row {k}");
                }
            });
        }
    });
    // One request with every row.
    let (status, got) = server.client().post("/predict", &J::Array(rows.clone()));
    assert_eq!(status, 200);
    assert_eq!(got, J::Array(want));
    let (status, health) = server.client().get("/health");
    assert_eq!((status, health), (200, json!({"status": "ok"})));
    let (_, info) = server.client().get("/model");
    assert_eq!(info["stages"].as_array().unwrap().len(), 7);
    assert_eq!(
        info["input"][0],
        json!({"name": "gender", "type": "Utf8", "required": true})
    );
}

#[test]
fn bad_requests_get_400s_while_others_are_served() {
    let model = spark_cli("fitted_pipeline");
    let (_, rows) = telco_rows();
    let want = serial_answers(&model, &rows[..50]);
    let server = Server::start(&model, &["--max-body-bytes", "100000"]);
    let good = &rows[0];
    let with = |k: &str, v: J| {
        let mut r = good.clone();
        r[k] = v;
        r
    };
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("tenure");
    std::thread::scope(|s| {
        for t in 0..2 {
            let (rows, want, server) = (&rows, &want, &server);
            s.spawn(move || {
                let mut c = server.client();
                for round in 0..10 {
                    for k in 0..want.len() {
                        let (status, got) = c.post("/predict", &rows[k]);
                        assert_eq!((status, &got), (200, &want[k]), "client {t} round {round}");
                    }
                }
            });
        }
        let mut c = server.client();
        for _ in 0..20 {
            // Malformed JSON.
            let (status, body) = c.request("POST", "/predict", b"{\"gender\": ");
            assert_eq!(status, 400);
            assert!(body.contains("malformed JSON"), "{body}");
            // Wrong type: the field and what it must hold.
            let (status, e) = c.post("/predict", &with("tenure", json!("twelve")));
            assert_eq!(status, 400);
            assert_eq!(e["field"], "tenure");
            assert_eq!(e["expected"], "a number (Float64)");
            assert_eq!(
                e["error"],
                "row field `tenure`: got the string \"twelve\"; expected a number (Float64)"
            );
            // Missing field: named.
            let (status, e) = c.post("/predict", &missing);
            assert_eq!((status, &e["field"]), (400, &json!("tenure")));
            // A null where the pipeline errors (VectorAssembler, handleInvalid=error).
            let (status, e) = c.post("/predict", &with("MonthlyCharges", J::Null));
            assert_eq!(status, 400);
            assert_eq!(e["stage"], "VectorAssembler");
            assert_eq!(e["field"], "MonthlyCharges");
            // An unseen category: this pipeline's indexers keep it (handleInvalid=keep).
            let (status, _) = c.post("/predict", &with("Contract", json!("Ten year")));
            assert_eq!(status, 200);
            // In an array: the row is named.
            let arr = json!([good, with("gender", json!(1))]);
            let (status, e) = c.post("/predict", &arr);
            assert_eq!(
                (status, &e["row"], &e["field"]),
                (400, &json!(1), &json!("gender"))
            );
            // Not an object.
            let (status, _) = c.post("/predict", &json!(42));
            assert_eq!(status, 400);
        }
        // Oversized body: 413, on its own connection (the server may close it).
        let big = J::Array(vec![good.clone(); 1000]);
        let (status, _) = server.client().post("/predict", &big);
        assert_eq!(status, 413);
    });
    let (status, got) = server.client().post("/predict", good);
    assert_eq!((status, got), (200, want[0].clone()));
}

/// Copies a saved model directory.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &p);
        } else {
            std::fs::copy(e.path(), p).unwrap();
        }
    }
}

#[test]
fn reload_under_load_drops_no_request_and_a_vanished_dir_keeps_the_old_model() {
    let tmp = tempfile::tempdir().unwrap();
    let live = tmp.path().join("model");
    copy_dir(&spark_cli("fitted_pipeline"), &live);
    // The replacement: the same pipeline fitted by mlpipe on half of the training rows.
    let train = DataFrame::read_csv(spark_cli("train.csv"), &CsvOptions::default()).unwrap();
    let part = &train.random_split(&[0.5, 0.5], 7).unwrap()[0];
    let pipeline = Pipeline::load(spark_cli("unfitted_pipeline")).unwrap();
    let next = tmp.path().join("next");
    pipeline.fit(part).unwrap().save(&next).unwrap();
    let (_, rows) = telco_rows();
    let rows = &rows[..40];
    let old = serial_answers(&live, rows);
    let new = serial_answers(&next, rows);
    assert_ne!(old, new);

    let server = Server::start(&live, &["--reload", "--reload-interval", "0.2"]);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let served = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for t in 0..4 {
            let (server, stop, served, old, new) = (&server, &stop, &served, &old, &new);
            s.spawn(move || {
                let mut c = server.client();
                let deadline = Instant::now() + Duration::from_secs(60);
                let mut k = t;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) && Instant::now() < deadline
                {
                    let i = k % rows.len();
                    let (status, got) = c.post("/predict", &rows[i]);
                    assert_eq!(status, 200, "{got}");
                    assert!(got == old[i] || got == new[i], "row {i}: {got}");
                    served.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    k += 1;
                }
            });
        }
        std::thread::sleep(Duration::from_millis(300));
        // Swap the directory as a deployment would: the old one moves away, the new one
        // moves in (in between, the directory does not exist).
        std::fs::rename(&live, tmp.path().join("old")).unwrap();
        std::thread::sleep(Duration::from_millis(500));
        std::fs::rename(&next, &live).unwrap();
        let mut c = server.client();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (_, got) = c.post("/predict", &rows[0]);
            if got == new[0] {
                break;
            }
            assert!(Instant::now() < deadline, "the new model was not picked up");
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(300));
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    assert!(served.load(std::sync::atomic::Ordering::Relaxed) > 100);
    let mut c = server.client();
    let (_, info) = c.get("/model");
    assert!(info["generation"].as_u64().unwrap() >= 2, "{info}");
    // The directory vanishes: an explicit reload fails, the new model keeps serving.
    std::fs::remove_dir_all(&live).unwrap();
    let (status, e) = c.post("/reload", &json!({}));
    assert_eq!(status, 500);
    assert!(
        e["error"]
            .as_str()
            .unwrap()
            .contains("cannot read the model directory"),
        "{e}"
    );
    let (status, got) = c.post("/predict", &rows[1]);
    assert_eq!((status, got), (200, new[1].clone()));
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let mut server = Server::start(&spark_cli("fitted_pipeline"), &[]);
    let (status, _) = server.client().get("/health");
    assert_eq!(status, 200);
    let pid = server.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(code) = server.child.try_wait().unwrap() {
            assert!(code.success(), "{code:?}");
            break;
        }
        assert!(Instant::now() < deadline, "still running after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_bad_model_dir_is_a_clear_startup_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_mlpipe"))
        .args([
            "serve",
            "--model",
            "/nonexistent/model",
            "--addr",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/model"), "{err}");
}

/// A text classifier (the pipeline of examples/text.rs, on part of the fortunes): a client
/// POSTs a text field; `?columns=` returns the tokens (an array of strings) and the term
/// frequencies (a sparse vector in Spark's JSON form). A pipeline reading a token list
/// takes an array of strings; one reading a vector takes a sparse vector object.
#[test]
fn text_fields_token_lists_and_sparse_vectors() {
    use mlpipe::classification::LogisticRegression;
    use mlpipe::feature::{HashingTF, RegexTokenizer, StopWordsRemover, StringIndexer, IDF};
    let df = DataFrame::read_csv(
        repo_root().join("data/fortunes/fortunes.csv"),
        &CsvOptions::default(),
    )
    .unwrap();
    let [df, _] = df.random_split([0.1, 0.9], 5).unwrap();
    let model = Pipeline::new()
        .with_estimator(
            StringIndexer::new()
                .with_input_col("category")
                .with_output_col("label"),
        )
        .with_transformer(
            RegexTokenizer::new()
                .with_input_col("text")
                .with_output_col("words")
                .with_pattern("\\W+")
                .with_min_token_length(2),
        )
        .with_transformer(
            StopWordsRemover::new()
                .with_input_col("words")
                .with_output_col("filtered"),
        )
        .with_transformer(
            HashingTF::new()
                .with_input_col("filtered")
                .with_output_col("tf")
                .with_num_features(1 << 12),
        )
        .with_estimator(IDF::new().with_input_col("tf").with_output_col("features"))
        .with_estimator(LogisticRegression::new().with_max_iter(5))
        .fit(&df)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("text");
    model.save(&full).unwrap();
    let text = "The UNIX kernel crashed the computer.";
    // The serial answer, from the library.
    let loaded = PipelineModel::load(&full).unwrap();
    let mut scorer = loaded
        .row_scorer(&infer_input_schema(&loaded).unwrap())
        .unwrap();
    let want = scorer
        .score_row(&Row::new().with("text", text))
        .unwrap()
        .unwrap()
        .probability()
        .unwrap()
        .to_vec();

    let server = Server::start(&full, &[]);
    let mut c = server.client();
    let (s, out) = c.post("/predict?columns=filtered,tf", &json!({"text": text}));
    assert_eq!(s, 200, "{out}");
    let got: Vec<f64> = out["probability"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert_eq!(got, want);
    assert_eq!(
        out["columns"]["filtered"],
        json!(["unix", "kernel", "crashed", "computer"])
    );
    let tf = &out["columns"]["tf"];
    assert_eq!(
        (tf["type"].clone(), tf["size"].clone()),
        (json!(0), json!(4096))
    );
    assert_eq!(tf["indices"].as_array().unwrap().len(), 4);
    // A column the pipeline does not compute is named.
    let (s, out) = c.post("/predict?columns=nope", &json!({"text": text}));
    assert_eq!(s, 400);
    assert!(
        out["error"].as_str().unwrap().contains("no column `nope`"),
        "{out}"
    );
    // A number where the text goes: the field is named.
    let (s, out) = c.post("/predict", &json!({"text": 3}));
    assert_eq!((s, out["field"].clone()), (400, json!("text")), "{out}");
    drop(server);

    // The tail from the token list on: the row gives an array of strings.
    let stages: Vec<Box<dyn mlpipe::pipeline::Transformer>> =
        model.stages()[2..].iter().map(|s| s.clone_box()).collect();
    let tail = dir.path().join("tail");
    PipelineModel::new("tail", stages).save(&tail).unwrap();
    let server = Server::start(&tail, &[]);
    let mut c = server.client();
    let (s, out) = c.post(
        "/predict?columns=tf",
        &json!({"words": ["the", "unix", "kernel", "crashed", "the", "computer"]}),
    );
    assert_eq!(s, 200, "{out}");
    assert_eq!(out["probability"].as_array().unwrap().len(), got.len());
    let tf = out["columns"]["tf"].clone();
    let (s, out) = c.post("/predict", &json!({"words": ["a", 1]}));
    assert_eq!((s, out["field"].clone()), (400, json!("words")), "{out}");
    drop(server);

    // The model alone, from the sparse tf-idf features: a sparse vector object.
    let stages: Vec<Box<dyn mlpipe::pipeline::Transformer>> =
        model.stages()[4..].iter().map(|s| s.clone_box()).collect();
    let idf_on = dir.path().join("idf_on");
    PipelineModel::new("idf_on", stages).save(&idf_on).unwrap();
    let server = Server::start(&idf_on, &[]);
    let mut c = server.client();
    let (s, out) = c.post("/predict", &json!({"tf": tf}));
    assert_eq!(s, 200, "{out}");
    let sparse_answer = out["probability"].clone();
    let dense: Vec<f64> = {
        let mut d = vec![0.0; 4096];
        for (i, v) in tf["indices"]
            .as_array()
            .unwrap()
            .iter()
            .zip(tf["values"].as_array().unwrap())
        {
            d[i.as_u64().unwrap() as usize] = v.as_f64().unwrap();
        }
        d
    };
    let (s, out) = c.post("/predict", &json!({"tf": dense}));
    assert_eq!(s, 200, "{out}");
    assert_eq!(out["probability"], sparse_answer);
    let (s, out) = c.post(
        "/predict",
        &json!({"tf": {"size": 4096, "indices": [5, 3], "values": [1.0, 1.0]}}),
    );
    assert_eq!((s, out["field"].clone()), (400, json!("tf")), "{out}");
}
