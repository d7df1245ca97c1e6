//! [`Session`]: one Spark Connect session, and the few RPCs the rest of the module is made of.

use std::sync::Arc;
use std::time::Duration;

use arrow::datatypes::SchemaRef;
use arrow::ipc::reader::StreamReader;
use arrow::record_batch::RecordBatch;
use spark_connect_core::{ChannelBuilder, RetryPolicy, SparkConnectClient, SparkError};
use spark_connect_proto as pb;

use super::frame::RemoteFrame;
use super::vector::to_spark_batch;
use crate::error::{Error, Result};
use crate::frame::DataFrame;

/// How long [`Session::connect`] waits for the server before it gives up.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// A session on a Spark Connect server (Spark 4.0 or later): the entry point of the
/// `connect` feature, like PySpark's `SparkSession.builder.remote(url).getOrCreate()`.
///
/// The URL is Spark Connect's: `sc://host:port/;token=...;use_ssl=true;user_id=...`
/// (port 15002 when omitted; a token needs TLS unless the host is loopback; the token may
/// also come from the `SPARK_CONNECT_AUTHENTICATE_TOKEN` environment variable).
///
/// Every method blocks until the server answers. Frames ([`RemoteFrame`]) are plans: nothing
/// runs on the cluster until a result is asked for (`collect`, `count`, a fit).
///
/// The methods may be called from async code too (inside a Tokio runtime of either
/// flavour): they block the calling task's thread while they wait, as any blocking call
/// does. In an async program prefer running them with `tokio::task::spawn_blocking`, so
/// that the runtime's other tasks keep running meanwhile.
///
/// # Examples
/// ```no_run
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::connect::Session;
/// let spark = Session::connect("sc://127.0.0.1:15002")?;
/// println!("Spark {}", spark.spark_version());
/// let train = spark.read_parquet(["/data/churn/train.parquet"])?;
/// println!("{} rows", train.count()?);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Session {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    client: SparkConnectClient,
    /// The URL as given, without its parameters (never print a token).
    url: String,
    version: String,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("url", &self.inner.url)
            .field("spark_version", &self.inner.version)
            .finish()
    }
}

/// The URL up to its parameters: `sc://host:port/;token=secret` -> `sc://host:port`.
fn display_url(url: &str) -> String {
    let cut = url.find(';').unwrap_or(url.len());
    url[..cut].trim_end_matches('/').to_string()
}

/// Blocks on `f` on the shared Tokio runtime of the Spark Connect client crate, also when
/// the caller is itself inside a Tokio runtime (an async program calling this blocking
/// API): on a multi-threaded runtime the calling worker hands its other tasks off
/// ([`tokio::task::block_in_place`]) while it waits; on a current-thread runtime, where
/// that is impossible, the wait happens on a helper thread (the caller's runtime is
/// blocked meanwhile, as by any blocking call). Without this, Tokio panics with "Cannot
/// start a runtime from within a runtime".
pub(crate) fn block_on<F>(f: F) -> F::Output
where
    F: std::future::Future + Send,
    F::Output: Send,
{
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Err(_) => spark_connect_core::block_on(f),
        Ok(RuntimeFlavor::CurrentThread) => std::thread::scope(|s| {
            s.spawn(|| spark_connect_core::block_on(f))
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        }),
        Ok(_) => tokio::task::block_in_place(|| spark_connect_core::block_on(f)),
    }
}

impl Session {
    /// Connects to the Spark Connect server at `url` and checks that it is Spark 4.0 or
    /// later (ML over Spark Connect arrived in 4.0), waiting at most
    /// [`DEFAULT_CONNECT_TIMEOUT`].
    ///
    /// # Errors
    /// [`Error::Remote`] naming the URL when it is malformed, the server does not answer in
    /// time, or the server is older than Spark 4.0.
    pub fn connect(url: &str) -> Result<Session> {
        Self::connect_timeout(url, DEFAULT_CONNECT_TIMEOUT)
    }

    /// [`Session::connect`] with another timeout.
    pub fn connect_timeout(url: &str, timeout: Duration) -> Result<Session> {
        let shown = display_url(url);
        let remote = |message: String| Error::Remote {
            url: shown.clone(),
            message,
        };
        let builder = ChannelBuilder::parse(url)
            .map_err(|e| remote(format!("not a valid Spark Connect URL: {e}")))?;
        let mut client = block_on(SparkConnectClient::connect(&builder))
            .map_err(|e| remote(format!("cannot open a channel: {e}")))?;
        // Fail fast: an unreachable server is reported once, within the timeout, instead
        // of behind minutes of retries.
        client.set_retry_policy(RetryPolicy::no_retries());
        let request = pb::AnalyzePlanRequest {
            session_id: client.session_id().to_string(),
            user_context: Some(user_context(&client)),
            client_type: Some(CLIENT_TYPE.into()),
            analyze: Some(pb::analyze_plan_request::Analyze::SparkVersion(
                pb::analyze_plan_request::SparkVersion {},
            )),
            ..Default::default()
        };
        let answer =
            block_on(async { tokio::time::timeout(timeout, client.analyze_plan(request)).await });
        let response = match answer {
            Err(_) => {
                return Err(remote(format!(
                    "no answer within {:.0} s; is a Spark Connect server (Spark 4.0 or later) running there, and is the port right?",
                    timeout.as_secs_f64()
                )))
            }
            Ok(Err(e)) => {
                return Err(remote(format!(
                    "cannot reach the server: {}; is a Spark Connect server (Spark 4.0 or later) running there?",
                    short_message(&e)
                )))
            }
            Ok(Ok(r)) => r,
        };
        let version = match response.result {
            Some(pb::analyze_plan_response::Result::SparkVersion(v)) => v.version,
            _ => return Err(remote("the server did not report its Spark version".into())),
        };
        check_version(&version).map_err(remote)?;
        Ok(Session {
            inner: Arc::new(Inner {
                client,
                url: shown,
                version,
            }),
        })
    }

    /// The server's Spark version (`"4.0.1"`).
    pub fn spark_version(&self) -> &str {
        &self.inner.version
    }

    /// The server URL, without its parameters.
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// A lazy frame over Parquet files the cluster reads (local paths are the Spark
    /// driver's and executors', not this program's; `s3a://`, `hdfs://` and the like work
    /// as configured on the cluster).
    ///
    /// # Errors
    /// [`Error::Frame`] when no path is given. A missing file is reported by the server
    /// when the frame is first used.
    pub fn read_parquet(
        &self,
        paths: impl IntoIterator<Item = impl AsRef<str>>,
    ) -> Result<RemoteFrame> {
        self.read("parquet", paths, &[])
    }

    /// A lazy frame over CSV files the cluster reads, with a header line and the column
    /// types inferred (Spark's `header=true, inferSchema=true`).
    ///
    /// # Errors
    /// [`Error::Frame`] when no path is given.
    pub fn read_csv(
        &self,
        paths: impl IntoIterator<Item = impl AsRef<str>>,
    ) -> Result<RemoteFrame> {
        self.read("csv", paths, &[("header", "true"), ("inferSchema", "true")])
    }

    /// A lazy frame over files of any Spark data source `format` with reader `options`
    /// (`spark.read.format(format).options(options).load(paths)`).
    ///
    /// # Errors
    /// [`Error::Frame`] when no path is given.
    pub fn read(
        &self,
        format: &str,
        paths: impl IntoIterator<Item = impl AsRef<str>>,
        options: &[(&str, &str)],
    ) -> Result<RemoteFrame> {
        let paths: Vec<String> = paths.into_iter().map(|p| p.as_ref().to_string()).collect();
        if paths.is_empty() {
            return Err(Error::Frame(format!(
                "read {format}: give at least one path the Spark cluster can read"
            )));
        }
        let source = pb::read::DataSource {
            format: Some(format.to_string()),
            options: options
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            paths,
            ..Default::default()
        };
        let read = pb::Read {
            read_type: Some(pb::read::ReadType::DataSource(source)),
            is_streaming: false,
        };
        Ok(RemoteFrame::new(
            self.clone(),
            relation(pb::relation::RelType::Read(read)),
        ))
    }

    /// Uploads `df` to the server as an Arrow IPC local relation (vector columns as Spark
    /// ML vectors). Meant for data that fits in one gRPC message (128 MiB); bigger data
    /// should be read by the cluster ([`Session::read_parquet`]).
    ///
    /// # Errors
    /// [`Error::Frame`] when the encoded frame is larger than 128 MiB; Arrow errors from the
    /// encoding.
    pub fn create_frame(&self, df: &DataFrame) -> Result<RemoteFrame> {
        let (batch, schema_json) = to_spark_batch(df)?;
        let mut data = Vec::new();
        {
            let mut writer = arrow::ipc::writer::StreamWriter::try_new(&mut data, &batch.schema())?;
            writer.write(&batch)?;
            writer.finish()?;
        }
        const MAX: usize = 120 * 1024 * 1024;
        if data.len() > MAX {
            return Err(Error::Frame(format!(
                "create_frame: the frame is {} MiB as Arrow IPC, more than one Spark Connect message takes (120 MiB); write it to storage the cluster reads and use read_parquet",
                data.len() >> 20
            )));
        }
        let local = pb::LocalRelation {
            data: Some(data.into()),
            schema: Some(schema_json),
        };
        Ok(RemoteFrame::new(
            self.clone(),
            relation(pb::relation::RelType::LocalRelation(local)),
        ))
    }

    /// Runs `plan` and returns the raw responses.
    pub(crate) fn execute(&self, plan: pb::Plan) -> Result<Vec<pb::ExecutePlanResponse>> {
        let client = &self.inner.client;
        let request = pb::ExecutePlanRequest {
            session_id: client.session_id().to_string(),
            user_context: Some(user_context(client)),
            client_type: Some(CLIENT_TYPE.into()),
            plan: Some(plan),
            ..Default::default()
        };
        block_on(async {
            let mut stream = client
                .execute_plan(request)
                .await
                .map_err(|e| self.spark_error(e))?;
            let mut out = Vec::new();
            loop {
                match stream.message().await {
                    Ok(Some(r)) => out.push(r),
                    Ok(None) => break,
                    Err(status) => {
                        return Err(self.spark_error(SparkError::from_grpc_status(status)))
                    }
                }
            }
            Ok(out)
        })
    }

    /// Runs a relation and decodes its Arrow batches (the schema comes with the first one,
    /// also when there are no rows).
    pub(crate) fn collect_relation(
        &self,
        rel: pb::Relation,
    ) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        let responses = self.execute(pb::Plan {
            op_type: Some(pb::plan::OpType::Root(rel)),
        })?;
        let mut schema: Option<SchemaRef> = None;
        let mut batches = Vec::new();
        for r in responses {
            if let Some(pb::execute_plan_response::ResponseType::ArrowBatch(b)) = r.response_type {
                let reader = StreamReader::try_new(std::io::Cursor::new(b.data.to_vec()), None)?;
                schema.get_or_insert_with(|| reader.schema());
                for batch in reader {
                    let batch = batch?;
                    if batch.num_rows() > 0 {
                        batches.push(batch);
                    }
                }
            }
        }
        let schema = schema.ok_or_else(|| Error::Remote {
            url: self.inner.url.clone(),
            message: "the server sent no Arrow data for a query; is it a Spark Connect server?"
                .into(),
        })?;
        Ok((schema, batches))
    }

    /// Sends one `AnalyzePlan` request (schema, persist, unpersist, ...).
    pub(crate) fn analyze(
        &self,
        analyze: pb::analyze_plan_request::Analyze,
    ) -> Result<pb::AnalyzePlanResponse> {
        let client = &self.inner.client;
        let request = pb::AnalyzePlanRequest {
            session_id: client.session_id().to_string(),
            user_context: Some(user_context(client)),
            client_type: Some(CLIENT_TYPE.into()),
            analyze: Some(analyze),
            ..Default::default()
        };
        block_on(client.analyze_plan(request)).map_err(|e| self.spark_error(e))
    }

    /// Runs one ML command and returns its result.
    pub(crate) fn ml_command(
        &self,
        command: pb::ml_command::Command,
    ) -> Result<Option<pb::MlCommandResult>> {
        let responses = self.execute(command_plan(pb::command::CommandType::MlCommand(
            pb::MlCommand {
                command: Some(command),
            },
        )))?;
        Ok(responses.into_iter().find_map(|r| match r.response_type {
            Some(pb::execute_plan_response::ResponseType::MlCommandResult(m)) => Some(m),
            _ => None,
        }))
    }

    /// Runs a command that returns nothing (a write).
    pub(crate) fn command(&self, command: pb::command::CommandType) -> Result<()> {
        self.execute(command_plan(command)).map(|_| ())
    }

    /// Spark's error as an [`Error::Remote`].
    pub(crate) fn spark_error(&self, e: SparkError) -> Error {
        self.error(short_message(&e))
    }

    /// An [`Error::Remote`] about this session's server.
    pub(crate) fn error(&self, message: String) -> Error {
        Error::Remote {
            url: self.inner.url.clone(),
            message,
        }
    }
}

/// Spark's message, with a hint when the connection itself is the problem.
fn short_message(e: &SparkError) -> String {
    let msg = e.message();
    // gRPC UNAVAILABLE (14), UNKNOWN (2) from the transport (a stream cut in flight), or
    // CANCELLED (1, what a cut stream gives against Spark 4.1): the server went away or
    // never answered.
    let transport = msg.contains("transport error") || msg.contains("connection");
    if matches!(e.grpc_code, Some(14) | Some(1)) || (e.grpc_code == Some(2) && transport) {
        return format!("the connection failed or was dropped ({msg}); check that the server is running and reachable, then retry");
    }
    msg
}

/// Spark 4.0 brought ML over Spark Connect; older servers lack the commands.
fn check_version(version: &str) -> std::result::Result<(), String> {
    let major: u32 = version
        .split('.')
        .next()
        .and_then(|m| m.trim().parse().ok())
        .unwrap_or(0);
    if major < 4 {
        return Err(format!(
            "the server runs Spark {version}; mlpipe's Spark Connect client needs Spark 4.0 or later (Spark Connect has no ML commands before 4.0)"
        ));
    }
    Ok(())
}

const CLIENT_TYPE: &str = concat!("mlpipe/", env!("CARGO_PKG_VERSION"));

fn user_context(client: &SparkConnectClient) -> pb::UserContext {
    pb::UserContext {
        user_id: client.user_id().unwrap_or("mlpipe").to_string(),
        ..Default::default()
    }
}

/// A relation with no common fields.
pub(crate) fn relation(rel: pb::relation::RelType) -> pb::Relation {
    pb::Relation {
        common: None,
        rel_type: Some(rel),
    }
}

fn command_plan(command: pb::command::CommandType) -> pb::Plan {
    pb::Plan {
        op_type: Some(pb::plan::OpType::Command(pb::Command {
            command_type: Some(command),
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_shown_without_token() {
        assert_eq!(
            display_url("sc://db.example:443/;use_ssl=true;token=secret"),
            "sc://db.example:443"
        );
        assert_eq!(display_url("sc://127.0.0.1:15002"), "sc://127.0.0.1:15002");
    }

    #[test]
    fn spark_3_is_refused_with_the_reason() {
        let err = check_version("3.5.3").unwrap_err();
        assert!(
            err.contains("Spark 3.5.3") && err.contains("4.0 or later"),
            "{err}"
        );
        assert!(check_version("4.0.0").is_ok());
        assert!(check_version("4.3.0").is_ok());
    }

    #[test]
    fn malformed_url_names_itself() {
        let err = Session::connect("http://127.0.0.1:15002").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("http://127.0.0.1:15002") && msg.contains("sc://"),
            "{msg}"
        );
    }

    /// A token travels only over TLS (or to loopback): refused before anything is sent.
    #[test]
    fn a_token_without_tls_to_a_remote_host_is_refused() {
        let err = Session::connect("sc://spark.example.com:15002/;token=secret").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("Spark Connect server sc://spark.example.com:15002:"),
            "{msg}"
        );
        assert!(
            msg.contains("use_ssl=true") && !msg.contains("secret"),
            "{msg}"
        );
    }

    /// An address that never answers: the error comes with the timeout, naming the URL.
    #[test]
    fn a_silent_server_is_reported_within_the_timeout() {
        // A listener that accepts nothing (a full backlog is not needed: the gRPC handshake
        // never gets an answer).
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("sc://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let start = std::time::Instant::now();
        let err = Session::connect_timeout(&url, Duration::from_secs(2)).unwrap_err();
        let elapsed = start.elapsed();
        assert!(
            elapsed >= Duration::from_secs(2) && elapsed < Duration::from_secs(5),
            "{elapsed:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!("Spark Connect server {url}:")),
            "{msg}"
        );
        assert!(msg.contains("no answer within 2 s"), "{msg}");
        drop(listener);
    }

    /// The blocking API called from inside a Tokio runtime (either flavour) works instead
    /// of panicking with "Cannot start a runtime from within a runtime": the error is the
    /// ordinary one about the server.
    #[test]
    fn the_blocking_api_works_inside_a_tokio_runtime_of_either_flavour() {
        for multi in [false, true] {
            let rt = if multi {
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
            } else {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
            }
            .unwrap();
            let err = rt
                .block_on(async {
                    Session::connect_timeout("sc://127.0.0.1:1", Duration::from_secs(5))
                })
                .unwrap_err();
            let msg = err.to_string();
            assert!(
                msg.starts_with("Spark Connect server sc://127.0.0.1:1:"),
                "multi_thread {multi}: {msg}"
            );
        }
    }

    /// The same against a real server when one is given (MLPIPE_SPARK_CONNECT, as for
    /// tests/connect.rs): a whole round trip from async code on both flavours.
    #[test]
    fn a_real_server_answers_inside_a_tokio_runtime() {
        let Ok(url) = std::env::var("MLPIPE_SPARK_CONNECT") else {
            eprintln!("skipped: set MLPIPE_SPARK_CONNECT to run against a Spark Connect server");
            return;
        };
        for multi in [false, true] {
            let rt = if multi {
                tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .build()
            } else {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
            }
            .unwrap();
            let (version, rows) = rt.block_on(async {
                let spark = Session::connect(&url).unwrap();
                let df = crate::frame::DataFrame::from_batches(vec![
                    arrow::record_batch::RecordBatch::try_from_iter([(
                        "x",
                        Arc::new(arrow::array::Float64Array::from(vec![1.0, 2.0, 3.0]))
                            as arrow::array::ArrayRef,
                    )])
                    .unwrap(),
                ])
                .unwrap();
                let n = spark.create_frame(&df).unwrap().count().unwrap();
                (spark.spark_version().to_string(), n)
            });
            assert!(version.starts_with('4'), "{version}");
            assert_eq!(rows, 3, "multi_thread {multi}");
        }
    }

    /// Nothing listens on port 1 of loopback: the error names the URL, and comes at once.
    #[test]
    fn unreachable_server_is_reported_with_the_url_within_the_timeout() {
        let start = std::time::Instant::now();
        let err = Session::connect_timeout("sc://127.0.0.1:1", Duration::from_secs(5)).unwrap_err();
        assert!(
            start.elapsed() < Duration::from_secs(8),
            "{:?}",
            start.elapsed()
        );
        let msg = err.to_string();
        assert!(
            msg.starts_with("Spark Connect server sc://127.0.0.1:1:"),
            "{msg}"
        );
        assert!(msg.contains("running"), "{msg}");
    }
}
