//! A polars user's round trip: a polars `DataFrame` (here from a `LazyFrame` query) goes
//! into mlpipe without copying, a Spark-style pipeline is fitted on it, and the scored
//! frame comes back to polars with its prediction column.
//!
//! Run with `cargo run --example polars --features polars`.

use mlpipe::classification::LogisticRegression;
use mlpipe::evaluation::BinaryClassificationEvaluator;
use mlpipe::feature::VectorAssembler;
use mlpipe::polars::prelude::*;
use mlpipe::prelude::{Estimator, Evaluator, Transformer};

fn main() -> mlpipe::Result<()> {
    let customers = df!(
        "tenure" => [1.0, 34.0, 2.0, 45.0, 8.0, 22.0, 10.0, 28.0, 62.0, 13.0, 16.0, 58.0],
        "monthly" => [29.9, 57.0, 53.9, 42.3, 99.7, 89.1, 29.8, 104.8, 56.2, 49.9, 18.9, 100.4],
        "segment" => ["a", "b", "a", "b", "a", "b", "a", "b", "b", "a", "b", "b"],
        "churn" => [1i32, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 0],
    )
    .expect("a valid polars frame");
    // Any polars query: mlpipe takes the collected result in without copying.
    let query = customers
        .lazy()
        .with_column((col("monthly") * col("tenure")).alias("total"))
        .with_column(col("churn").cast(DataType::Float64).alias("label"));
    let df = mlpipe::DataFrame::from_polars_lazy(query)?;
    println!(
        "mlpipe frame: {} rows, {} partitions",
        df.num_rows(),
        df.num_partitions()
    );

    let pipeline = mlpipe::Pipeline::new()
        .with_transformer(
            VectorAssembler::new()
                .with_input_cols(["tenure", "monthly", "total"])
                .with_output_col("features"),
        )
        .with_estimator(LogisticRegression::new().with_reg_param(0.01));
    let model = pipeline.fit(&df)?;
    let scored = model.transform(&df)?;
    let auc = BinaryClassificationEvaluator::new().evaluate(&scored)?;
    println!("training AUC: {auc:.3}");

    // Back to polars: the vector columns arrive as Array(Float64, n), the prediction as f64.
    let out = scored
        .select(["tenure", "segment", "features", "probability", "prediction"])?
        .to_polars()?;
    println!("{out}");
    Ok(())
}
