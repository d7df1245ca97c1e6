//! Quickstart: read the small CSV bundled in `data/`, assemble three numeric columns into a
//! feature vector (dropping the row whose `total_charges` is null), and show the result.
//!
//! Run with `cargo run --example quickstart`.

use mlpipe::feature::VectorAssembler;
use mlpipe::prelude::*;

fn main() -> mlpipe::Result<()> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/quickstart.csv");
    let df = DataFrame::read_csv(path, &CsvOptions::default())?;
    println!(
        "read {} rows x {} columns from {path}",
        df.num_rows(),
        df.schema().fields().len()
    );

    let pipeline = Pipeline::new().with_transformer(
        VectorAssembler::new()
            .with_input_cols(["tenure", "monthly_charges", "total_charges"])
            .with_output_col("features")
            .with_handle_invalid(HandleInvalid::Skip),
    );
    let model = pipeline.fit(&df)?;
    let out = model
        .transform(&df)?
        .select(["customer_id", "features", "churn"])?;
    println!(
        "{} rows after skipping rows with a null or NaN feature",
        out.num_rows()
    );
    out.show(10)
}
