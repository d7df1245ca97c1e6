//! What Spark's SVD costs PCA on wide data: `PCA.fit` (k = 5) on 2 000 rows of n = 30, 100,
//! 300 and 600 features, whose SVD of the n × n covariance is the port of LAPACK's `dgesdd`
//! that gives Spark's signs (src/lapack.rs), beside what the fit cost before (measured in
//! the same run): the same covariance pass (`Correlation::corr` pearson) plus nalgebra's
//! `SymmetricEigen` of that matrix, the eigendecomposition PCA used, which gives the
//! components only up to sign. Medians of 7 runs. Each line says whether the fit stays
//! within 3× of that baseline.
//!
//! Run: `cargo run --release --example pca_wide_bench`.

use std::sync::Arc;
use std::time::Instant;

use arrow::array::{ArrayRef, Float64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use mlpipe::feature::{VectorAssembler, PCA};
use mlpipe::prelude::*;

fn median_of(reps: usize, mut f: impl FnMut()) -> f64 {
    let mut v: Vec<f64> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// `rows × n` values from a fixed linear congruential generator, with correlated columns.
fn frame(rows: usize, n: usize) -> Result<DataFrame> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let mut cols = vec![Vec::with_capacity(rows); n];
    for _ in 0..rows {
        let base = next();
        for (j, col) in cols.iter_mut().enumerate() {
            col.push(next() + base * (j % 7) as f64);
        }
    }
    let names: Vec<String> = (0..n).map(|j| format!("x{j}")).collect();
    let schema = Arc::new(Schema::new(
        names
            .iter()
            .map(|c| Field::new(c, DataType::Float64, false))
            .collect::<Vec<_>>(),
    ));
    let arrays: Vec<ArrayRef> = cols
        .into_iter()
        .map(|c| Arc::new(Float64Array::from(c)) as ArrayRef)
        .collect();
    let df =
        DataFrame::from_batches(vec![RecordBatch::try_new(schema, arrays)
            .map_err(|e| mlpipe::Error::Internal(e.to_string()))?])?;
    VectorAssembler::new()
        .with_input_cols(&names)
        .with_output_col("features")
        .transform(&df)
}

fn main() -> Result<()> {
    println!(
        "PCA fit (k = 5, 2000 rows) vs the covariance pass + nalgebra SymmetricEigen, same run"
    );
    for n in [30usize, 100, 300, 600] {
        let df = frame(2000, n)?;
        let pca = PCA::new()
            .with_input_col("features")
            .with_output_col("pca")
            .with_k(5);
        let fit = median_of(7, || {
            std::hint::black_box(pca.fit(&df).unwrap());
        });
        let base = median_of(7, || {
            let c = mlpipe::stat::Correlation::corr(&df, "features", "pearson").unwrap();
            let m = nalgebra::DMatrix::from_column_slice(n, n, &c.values);
            std::hint::black_box(nalgebra::SymmetricEigen::new(m));
        });
        println!(
            "n = {n:>3}: PCA fit {:>8.4} s | covariance pass + SymmetricEigen {:>8.4} s | \
             ratio {:>5.2} | {}",
            fit,
            base,
            fit / base,
            if fit <= 3.0 * base {
                "within 3x: yes"
            } else {
                "within 3x: no"
            }
        );
    }
    Ok(())
}
