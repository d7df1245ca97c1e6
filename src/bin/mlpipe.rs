//! The `mlpipe` command line. `show` prints a CSV or Parquet file as a table; the
//! `train`, `predict`, `evaluate` and `inspect` commands join as the library grows.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mlpipe::{CsvOptions, DataFrame, ParquetOptions};

#[derive(Parser)]
#[command(
    name = "mlpipe",
    version,
    about = "Spark ML pipelines on Arrow data, without a JVM"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the schema and the first rows of a CSV or Parquet file, like Spark's df.show().
    Show {
        /// The file (.csv or .parquet).
        #[arg(long)]
        input: PathBuf,
        /// Number of rows to print.
        #[arg(short, long, default_value_t = 20)]
        n: usize,
    },
}

fn read(path: &Path) -> mlpipe::Result<DataFrame> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("parquet") | Some("pq") => DataFrame::read_parquet(path, &ParquetOptions::default()),
        _ => DataFrame::read_csv(path, &CsvOptions::default()),
    }
}

fn run(cli: Cli) -> mlpipe::Result<()> {
    match cli.command {
        Command::Show { input, n } => {
            let df = read(&input)?;
            println!(
                "{}: {} rows, {} partitions",
                input.display(),
                df.num_rows(),
                df.num_partitions()
            );
            for f in df.schema().fields() {
                println!(
                    " |-- {}: {} (nullable = {})",
                    f.name(),
                    f.data_type(),
                    f.is_nullable()
                );
            }
            df.show(n)
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
