//! `mlpipe serve`: an HTTP scoring server for a fitted model (mlpipe's or PySpark's).
//!
//! A thin layer over the library's row scoring (`mlpipe::row`): the model directory is
//! loaded and compiled once into a `RowScorer`; each worker thread keeps its own copy of the
//! scorer's buffers, so a request is parsed, scored (the scoring itself allocates nothing), and answered.
//!
//! - `POST /predict`: one JSON object (a row: input column → value) or an array of them;
//!   answers `{"prediction", "probability", "rawPrediction", "label"}` (or an array).
//!   Values: numbers, strings, booleans, null; a list-of-strings field takes an array of
//!   strings; a vector field an array of numbers or a sparse vector in Spark's JSON form
//!   (`{"type": 0, "size": n, "indices": [...], "values": [...]}`, `type` optional).
//!   `?columns=a,b` adds `"columns": {"a": ..., "b": ...}` with any column the pipeline
//!   computes (token lists as arrays of strings, sparse vectors in Spark's JSON form).
//! - `GET /model`: the stages, the input fields and the output columns.
//! - `GET /health`: `{"status":"ok"}`.
//! - `POST /reload` (with `--reload`): load the model directory again now.
//!
//! A bad row is a 400 naming the field and what was expected; a body over the limit is a
//! 413; the server goes on serving. With `--reload` the directory is also checked every
//! `--reload-interval` seconds: a changed model is loaded and swapped in atomically
//! (requests already running finish on the old one); a directory that cannot be read keeps
//! the old model serving and logs the error. SIGTERM or Ctrl-C stops accepting
//! connections and lets running requests finish.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use mlpipe::arrow::datatypes::Schema;
use mlpipe::prelude::*;
use mlpipe::row::{infer_input_schema, ColumnValue, Row, RowScorer, Scored, Value};
use serde_json::{json, Map, Value as Json_};

use crate::data::usage;

/// `mlpipe serve` arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Directory of a fitted model (a PipelineModel or a single model, mlpipe's or PySpark's).
    #[arg(long)]
    pub model: PathBuf,
    /// Address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// Worker threads (default: the number of cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Watch the model directory and swap in a changed model; also enables POST /reload.
    #[arg(long)]
    pub reload: bool,
    /// Seconds between checks of the model directory (with --reload).
    #[arg(long, default_value_t = 2.0)]
    pub reload_interval: f64,
    /// Largest request body accepted, in bytes (larger: 413).
    #[arg(long, default_value_t = 1 << 20)]
    pub max_body_bytes: usize,
    /// Largest number of rows in one request.
    #[arg(long, default_value_t = 10_000)]
    pub max_rows: usize,
    /// Log one line per request (method, path, status, microseconds) to stderr.
    #[arg(long)]
    pub log_requests: bool,
}

/// A loaded model: its compiled scorer and what GET /model says about it.
struct Loaded {
    scorer: RowScorer,
    info: Json_,
    generation: u64,
    fingerprint: String,
}

struct AppState {
    current: ArcSwap<Loaded>,
    dir: PathBuf,
    max_rows: usize,
    reload_lock: tokio::sync::Mutex<()>,
}

/// Each load gets a new generation, so a worker thread knows when its scorer is stale.
static GENERATION: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// This worker thread's scorer (own buffers, shared plan) and its model generation.
    static SCORER: RefCell<Option<(u64, RowScorer)>> = const { RefCell::new(None) };
}

/// Runs `f` with this thread's scorer for `loaded` (cloned from it when stale).
fn with_scorer<R>(loaded: &Loaded, f: impl FnOnce(&mut RowScorer) -> R) -> R {
    SCORER.with(|cell| {
        let mut cell = cell.borrow_mut();
        let stale = cell.as_ref().map(|c| c.0) != Some(loaded.generation);
        if stale {
            *cell = Some((loaded.generation, loaded.scorer.clone()));
        }
        match cell.as_mut() {
            Some((_, s)) => f(s),
            None => f(&mut loaded.scorer.clone()),
        }
    })
}

/// Loads and compiles the model in `dir`.
fn load(dir: &Path) -> Result<Loaded> {
    let fingerprint = fingerprint(dir)?;
    let t = crate::predict::load_model(dir, "serve")?;
    let model = match t.downcast_ref::<PipelineModel>() {
        Some(p) => p.clone(),
        None => PipelineModel::new(t.uid().to_string(), vec![t]),
    };
    let schema = infer_input_schema(&model)?;
    let scorer = model.row_scorer(&schema)?;
    let generation = GENERATION.fetch_add(1, Ordering::Relaxed);
    let info = model_info(dir, &scorer, &schema, generation);
    Ok(Loaded {
        scorer,
        info,
        generation,
        fingerprint,
    })
}

fn model_info(dir: &Path, scorer: &RowScorer, schema: &Schema, generation: u64) -> Json_ {
    let required: Vec<&str> = scorer.required_fields().collect();
    let input: Vec<Json_> = schema
        .fields()
        .iter()
        .map(|f| {
            json!({
                "name": f.name(),
                "type": f.data_type().to_string(),
                "required": required.contains(&f.name().as_str()),
            })
        })
        .collect();
    let outputs: Vec<&str> = scorer.output_schema().fields()[schema.fields().len()..]
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    let loaded_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    json!({
        "model": dir.display().to_string(),
        "stages": scorer.stage_kinds(),
        "input": input,
        "output_columns": outputs,
        "generation": generation,
        "loaded_at": loaded_at,
    })
}

/// What identifies a saved model's version: its metadata file(s) (Spark writes a
/// timestamp and uid there) and its stage directory names.
fn fingerprint(dir: &Path) -> Result<String> {
    let err = |e: std::io::Error| Error::File {
        path: dir.to_path_buf(),
        reason: format!("cannot read the model directory: {e}"),
    };
    let mut out = String::new();
    let md = dir.join("metadata");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&md)
        .map_err(err)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("part-"))
        })
        .collect();
    names.sort();
    for p in names {
        out.push_str(&std::fs::read_to_string(&p).map_err(err)?);
    }
    if let Ok(rd) = std::fs::read_dir(dir.join("stages")) {
        let mut stages: Vec<String> = rd
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect();
        stages.sort();
        out.push_str(&stages.join(","));
    }
    Ok(out)
}

/// Runs the server until SIGTERM or Ctrl-C.
pub fn run(args: Args) -> Result<()> {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_target(false)
        .try_init();
    if args.reload_interval.is_nan() || args.reload_interval <= 0.0 {
        return Err(usage(format!(
            "serve: --reload-interval must be a positive number of seconds, got {}",
            args.reload_interval
        )));
    }
    let loaded = load(&args.model)?;
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if threads == 0 {
        return Err(usage("serve: --threads must be at least 1"));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .map_err(|e| usage(format!("serve: cannot start the runtime: {e}")))?;
    rt.block_on(serve(args, loaded, threads))
}

async fn serve(args: Args, loaded: Loaded, threads: usize) -> Result<()> {
    let state = Arc::new(AppState {
        current: ArcSwap::from_pointee(loaded),
        dir: args.model.clone(),
        max_rows: args.max_rows,
        reload_lock: tokio::sync::Mutex::new(()),
    });
    let mut app = Router::new()
        .route("/predict", post(predict))
        .route("/model", get(model))
        .route("/health", get(health));
    if args.reload {
        app = app.route("/reload", post(reload_now));
    }
    let mut app = app
        .layer(DefaultBodyLimit::max(args.max_body_bytes))
        .with_state(state.clone());
    if args.log_requests {
        app = app.layer(middleware::from_fn(log_request));
    }
    let listener = tokio::net::TcpListener::bind(&args.addr)
        .await
        .map_err(|e| usage(format!("serve: cannot listen on {}: {e}", args.addr)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| usage(format!("serve: {e}")))?;
    // Small responses go out at once: without TCP_NODELAY, Nagle's algorithm holds a
    // response written in two pieces until the client's delayed ACK (up to 40 ms on
    // Linux), which shows as a latency tail under keep-alive load.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY on a connection: {e}");
        }
    });
    eprintln!(
        "mlpipe serve: listening on http://{addr} (model {}, {threads} threads)",
        args.model.display()
    );
    if args.reload {
        let st = state.clone();
        let every = Duration::from_secs_f64(args.reload_interval);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                let _ = reload(&st, false).await;
            }
        });
    }
    // Install the signal handlers before the first request can be answered: a SIGTERM
    // that arrives right after startup must stop the server gracefully, not kill it.
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{signal, SignalKind};
        let term = signal(SignalKind::terminate())
            .map_err(|e| usage(format!("serve: cannot listen for SIGTERM: {e}")))?;
        let int = signal(SignalKind::interrupt())
            .map_err(|e| usage(format!("serve: cannot listen for SIGINT: {e}")))?;
        (term, int)
    };
    #[cfg(not(unix))]
    let signals = ();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal(signals))
        .await
        .map_err(|e| usage(format!("serve: {e}")))?;
    eprintln!("mlpipe serve: stopped");
    Ok(())
}

#[cfg(unix)]
async fn shutdown_signal(
    (mut term, mut int): (tokio::signal::unix::Signal, tokio::signal::unix::Signal),
) {
    tokio::select! {
        _ = term.recv() => {},
        _ = int.recv() => {},
    }
    tracing::info!("shutting down: finishing the requests in flight");
}

#[cfg(not(unix))]
async fn shutdown_signal((): ()) {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
    tracing::info!("shutting down: finishing the requests in flight");
}

/// Loads the model directory again if it changed (or always, when `force`); on failure
/// the old model keeps serving and the error is logged and returned.
async fn reload(st: &Arc<AppState>, force: bool) -> std::result::Result<bool, String> {
    let _guard = st.reload_lock.lock().await;
    let dir = st.dir.clone();
    let old = st.current.load_full();
    let old_fp = old.fingerprint.clone();
    let res = tokio::task::spawn_blocking(move || -> Result<Option<Loaded>> {
        let fp = fingerprint(&dir)?;
        if !force && fp == old_fp {
            return Ok(None);
        }
        load(&dir).map(Some)
    })
    .await;
    match res {
        Ok(Ok(Some(new))) => {
            tracing::info!(
                generation = new.generation,
                "reloaded the model from {}",
                st.dir.display()
            );
            st.current.store(Arc::new(new));
            Ok(true)
        }
        Ok(Ok(None)) => Ok(false),
        Ok(Err(e)) => {
            tracing::error!(
                "reload failed, still serving generation {}: {e}",
                old.generation
            );
            Err(e.to_string())
        }
        Err(e) => {
            tracing::error!("reload failed: {e}");
            Err(e.to_string())
        }
    }
}

async fn reload_now(State(st): State<Arc<AppState>>) -> Response {
    match reload(&st, true).await {
        Ok(_) => Json(json!({"reloaded": true, "generation": st.current.load().generation}))
            .into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({
                "error": e,
                "serving_generation": st.current.load().generation,
            })),
        )
            .into_response(),
    }
}

async fn log_request(req: Request, next: Next) -> Response {
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let t = Instant::now();
    let resp = next.run(req).await;
    tracing::info!(
        %method,
        %path,
        status = resp.status().as_u16(),
        micros = t.elapsed().as_micros() as u64,
        "request"
    );
    resp
}

async fn health() -> Json<Json_> {
    Json(json!({"status": "ok"}))
}

async fn model(State(st): State<Arc<AppState>>) -> Json<Json_> {
    Json(st.current.load().info.clone())
}

fn bad_request(body: Json_) -> Response {
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

/// The `columns` query parameter: intermediate or output columns to return per row
/// (`?columns=words,tf`).
fn requested_columns(uri: &axum::http::Uri) -> Vec<&str> {
    uri.query()
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter_map(|kv| kv.strip_prefix("columns="))
        .flat_map(|v| v.split(','))
        .filter(|c| !c.is_empty())
        .collect()
}

async fn predict(State(st): State<Arc<AppState>>, uri: axum::http::Uri, body: Bytes) -> Response {
    let columns = requested_columns(&uri);
    // Held to the end of the request: a reload meanwhile does not touch this model.
    let loaded = st.current.load_full();
    let parsed: Json_ = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(json!({"error": format!("malformed JSON: {e}")})),
    };
    match parsed {
        Json_::Object(m) => match with_scorer(&loaded, |s| score_object(s, &m, &columns)) {
            Ok(v) => Json(v).into_response(),
            Err(e) => bad_request(e),
        },
        Json_::Array(items) => {
            if items.len() > st.max_rows {
                return bad_request(json!({"error": format!(
                    "{} rows in one request; at most {} (--max-rows)",
                    items.len(),
                    st.max_rows
                )}));
            }
            let out = with_scorer(&loaded, |s| {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let Json_::Object(m) = item else {
                        return Err(json!({
                            "error": format!("row {i}: expected a JSON object (input column -> value)"),
                            "row": i,
                        }));
                    };
                    match score_object(s, m, &columns) {
                        Ok(v) => out.push(v),
                        Err(mut e) => {
                            if let Some(o) = e.as_object_mut() {
                                o.insert("row".into(), json!(i));
                            }
                            return Err(e);
                        }
                    }
                }
                Ok(out)
            });
            match out {
                Ok(v) => Json(Json_::Array(v)).into_response(),
                Err(e) => bad_request(e),
            }
        }
        _ => bad_request(json!({
            "error": "expected a JSON object (one row: input column -> value) or an array of them"
        })),
    }
}

/// A JSON array or object parsed for a list or vector field, before the row borrows it.
enum Parsed<'a> {
    Strings(Vec<&'a str>),
    Dense(Vec<f64>),
    Sparse {
        size: usize,
        indices: Vec<i32>,
        values: Vec<f64>,
    },
}

/// Parses a JSON array (of strings for a list field, of numbers for a vector field) or a
/// sparse vector object (`{"size", "indices", "values"}`, Spark's JSON form, with or
/// without `"type": 0`); `Err` is the 400 body.
fn parse_compound<'a>(
    k: &str,
    v: &'a Json_,
    input: &Schema,
) -> std::result::Result<Option<Parsed<'a>>, Json_> {
    use mlpipe::arrow::datatypes::DataType;
    let list_field = input
        .field_with_name(k)
        .is_ok_and(|f| matches!(f.data_type(), DataType::List(_) | DataType::LargeList(_)));
    match v {
        Json_::Array(a) if list_field => a
            .iter()
            .map(Json_::as_str)
            .collect::<Option<Vec<&str>>>()
            .map(|x| Some(Parsed::Strings(x)))
            .ok_or_else(|| field_error(k, "an array of strings", "an array holding a non-string")),
        Json_::Array(a) => match a.iter().map(Json_::as_f64).collect::<Option<Vec<f64>>>() {
            Some(x) => Ok(Some(Parsed::Dense(x))),
            None if a.iter().all(Json_::is_string) && input.field_with_name(k).is_err() => Ok(None),
            None => Err(field_error(
                k,
                "an array of numbers",
                "an array holding a non-number",
            )),
        },
        Json_::Object(o) => {
            if input.field_with_name(k).is_err() {
                return Ok(None);
            }
            let expected = "a vector: an array of numbers, or {\"size\": n, \"indices\": [...], \"values\": [...]}";
            let size = o.get("size").and_then(Json_::as_u64);
            let indices = o.get("indices").and_then(Json_::as_array).and_then(|a| {
                a.iter()
                    .map(|i| i.as_i64().and_then(|i| i32::try_from(i).ok()))
                    .collect::<Option<Vec<i32>>>()
            });
            let values = o
                .get("values")
                .and_then(Json_::as_array)
                .and_then(|a| a.iter().map(Json_::as_f64).collect::<Option<Vec<f64>>>());
            let sparse_type = o.get("type").is_none_or(|t| t.as_i64() == Some(0));
            match (size, indices, values) {
                (Some(size), Some(indices), Some(values)) if sparse_type => {
                    Ok(Some(Parsed::Sparse {
                        size: size as usize,
                        indices,
                        values,
                    }))
                }
                // Spark's JSON form of a dense vector: {"type": 1, "values": [...]}.
                (None, None, Some(values)) if o.get("type").and_then(Json_::as_i64) == Some(1) => {
                    Ok(Some(Parsed::Dense(values)))
                }
                _ => Err(field_error(k, expected, "an object of another shape")),
            }
        }
        _ => Ok(None),
    }
}

/// Scores one JSON object; `Err` is the 400 body.
fn score_object(
    scorer: &mut RowScorer,
    m: &Map<String, Json_>,
    columns: &[&str],
) -> std::result::Result<Json_, Json_> {
    let input = scorer.input_schema();
    // Lists and vectors are parsed first, so the row can borrow them.
    let mut parsed: Vec<Option<Parsed<'_>>> = Vec::new();
    for (k, v) in m {
        if matches!(v, Json_::Array(_) | Json_::Object(_)) {
            parsed.push(parse_compound(k, v, input)?);
        }
    }
    let mut row = Row::new();
    let mut next = parsed.iter();
    for (k, v) in m {
        let value = match v {
            Json_::Null => Value::Null,
            Json_::Bool(b) => Value::Bool(*b),
            Json_::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Json_::String(s) => Value::Str(s),
            Json_::Array(_) | Json_::Object(_) => match next.next() {
                Some(Some(Parsed::Strings(x))) => Value::StrList(x),
                Some(Some(Parsed::Dense(x))) => Value::Vector(x),
                Some(Some(Parsed::Sparse {
                    size,
                    indices,
                    values,
                })) => Value::Sparse {
                    size: *size,
                    indices,
                    values,
                },
                // A field the pipeline does not read.
                _ => continue,
            },
        };
        row.push(k, value);
    }
    match scorer.score_row(&row) {
        Ok(Some(s)) => {
            let mut out = scored_json(&s);
            if !columns.is_empty() {
                let mut cols = Map::new();
                for c in columns {
                    let v = match s.column(c) {
                        Some(v) => column_json(v),
                        None => {
                            return Err(json!({
                                "error": format!("columns: the pipeline computes no column `{c}`; it computes {:?}", scorer_outputs(scorer)),
                                "field": c,
                            }))
                        }
                    };
                    cols.insert((*c).to_string(), v);
                }
                if let Some(o) = out.as_object_mut() {
                    o.insert("columns".into(), Json_::Object(cols));
                }
            }
            Ok(out)
        }
        Ok(None) => Ok(json!({
            "prediction": null,
            "skipped": true,
            "reason": "a stage with handleInvalid=skip dropped the row",
        })),
        Err(e) => Err(error_json(&e)),
    }
}

fn field_error(field: &str, expected: &str, got: &str) -> Json_ {
    json!({
        "error": format!("row field `{field}`: got {got}; expected {expected}"),
        "field": field,
        "expected": expected,
    })
}

fn error_json(e: &Error) -> Json_ {
    match e {
        Error::RowField {
            field, expected, ..
        } => json!({"error": e.to_string(), "field": field, "expected": expected}),
        Error::InvalidValue { stage, column, .. } => {
            json!({"error": e.to_string(), "field": column, "stage": stage})
        }
        e => json!({"error": e.to_string()}),
    }
}

/// The output columns a scorer computes (for errors).
fn scorer_outputs(scorer: &RowScorer) -> Vec<String> {
    let n = scorer.input_schema().fields().len();
    scorer.output_schema().fields()[n..]
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

/// One computed column as JSON: numbers, strings, arrays of numbers (dense vectors) or of
/// strings (token lists), and sparse vectors in Spark's JSON form
/// (`{"type": 0, "size", "indices", "values"}`).
fn column_json(v: ColumnValue<'_>) -> Json_ {
    match v {
        ColumnValue::Null => Json_::Null,
        ColumnValue::Num(x) => json!(x),
        ColumnValue::Str(s) => json!(s),
        ColumnValue::Vector(x) => json!(x),
        ColumnValue::Sparse {
            size,
            indices,
            values,
        } => json!({"type": 0, "size": size, "indices": indices, "values": values}),
        ColumnValue::StrList(l) => Json_::Array(l.iter().map(|s| json!(s)).collect()),
    }
}

fn scored_json(s: &Scored<'_>) -> Json_ {
    let mut o = Map::new();
    o.insert("prediction".into(), json!(s.prediction()));
    if let Some(p) = s.probability() {
        o.insert("probability".into(), json!(p));
    }
    if let Some(r) = s.raw_prediction() {
        o.insert("rawPrediction".into(), json!(r));
    }
    if let Some(l) = s.label() {
        o.insert("label".into(), json!(l));
    }
    Json_::Object(o)
}
