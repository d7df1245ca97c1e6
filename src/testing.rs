//! The contract every stage must keep, as reusable checks (like scikit-learn's
//! `check_estimator` and Spark's `MLTest`). mlpipe runs them on each of its stages; run them
//! on your own stages too.
//!
//! The checks panic with a message saying which rule broke, so they belong in tests.
//!
//! # Examples
//! ```
//! # fn main() -> mlpipe::Result<()> {
//! use mlpipe::prelude::*;
//! use mlpipe::feature::VectorAssembler;
//! let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
//! let va = VectorAssembler::new()
//!     .with_input_cols(&["tenure", "monthly_charges", "total_charges"])
//!     .with_output_col("features")
//!     .with_handle_invalid(HandleInvalid::Keep);
//! mlpipe::testing::check_transformer(&va, &df);
//! # Ok(()) }
//! ```

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Field, Float64Type, Schema};

use crate::error::Error;
use crate::frame::DataFrame;
use crate::pipeline::{Estimator, Stage, Transformer};

/// Relative tolerance for comparing fits on different partitionings (only the order of
/// floating-point sums may differ).
pub const PARTITION_RTOL: f64 = 1e-9;

/// Checks the transformer contract on `df`:
/// 1. `transform_schema` equals the schema `transform` returns;
/// 2. `transform` leaves its input unchanged;
/// 3. 1 and 4 partitions give identical rows;
/// 4. removing any column the stage reads gives [`Error::ColumnNotFound`] listing the
///    remaining columns (and at least one column is read);
/// 5. an input that already has an output column gives [`Error::ColumnExists`];
/// 6. setting every param to its own JSON value round-trips.
///
/// # Panics
/// When a rule is broken, or when `transform(df)` fails.
pub fn check_transformer<T: Transformer + Clone>(t: &T, df: &DataFrame) {
    let kind = t.kind();
    let before = df.collect().expect("collect input");
    let out = t
        .transform(df)
        .unwrap_or_else(|e| panic!("{kind}: transform failed: {e}"));
    let predicted = t
        .transform_schema(df.schema())
        .unwrap_or_else(|e| panic!("{kind}: transform_schema failed: {e}"));
    assert_eq!(
        fields(&predicted),
        fields(out.schema()),
        "{kind}: transform_schema disagrees with the schema transform returns"
    );
    assert_eq!(
        before,
        df.collect().expect("collect input"),
        "{kind}: transform changed its input"
    );
    let one = t
        .transform(&df.repartition(1).expect("repartition"))
        .expect("transform 1 partition");
    let four = t
        .transform(&df.repartition(4).expect("repartition"))
        .expect("transform 4 partitions");
    assert_batches_close(
        &one.collect().expect("collect"),
        &four.collect().expect("collect"),
        0.0,
        kind,
    );
    check_schema_errors(t, df.schema(), &predicted);
    check_params_round_trip(t);
}

/// How [`check_estimator_with`] compares fits on different layouts of the same rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Partitioning {
    /// The fit must not depend on the partitioning: fits on 1 and on 4 partitions give
    /// the same output within [`PARTITION_RTOL`]. What [`check_estimator`] checks.
    Independent,
    /// The fit may depend on the partitioning, as Spark's does for the same stage (KMeans'
    /// initialisation draws one random stream per partition, and so does Spark's
    /// `takeSample`). It must still be deterministic for a given partitioning: fitting the
    /// same 4-partition frame twice, and on a one-thread pool, gives identical output.
    Dependent,
}

/// Checks the estimator contract on `df`: fits on 1 and on 4 partitions give the same
/// output within [`PARTITION_RTOL`], the estimator's `transform_schema` equals its model's
/// output schema (names, types, nullability; metadata may depend on the data), the schema-error rules of [`check_transformer`] hold for the estimator,
/// and the fitted model passes [`check_transformer`].
///
/// # Panics
/// When a rule is broken, or when fitting fails.
pub fn check_estimator<E>(e: &E, df: &DataFrame)
where
    E: Estimator,
    E::Model: Clone,
{
    check_estimator_with(e, df, Partitioning::Independent);
}

/// [`check_estimator`], with the partitioning rule chosen: with
/// [`Partitioning::Dependent`] the 1-versus-4-partitions comparison is replaced by
/// exact repeatability on one partitioning (twice, and on one thread); every other rule
/// is the same.
///
/// # Panics
/// When a rule is broken, or when fitting fails.
pub fn check_estimator_with<E>(e: &E, df: &DataFrame, partitioning: Partitioning)
where
    E: Estimator,
    E::Model: Clone,
{
    let kind = e.kind();
    let before = df.collect().expect("collect input");
    let output = |m: &E::Model| {
        m.transform(df)
            .expect("transform")
            .collect()
            .expect("collect")
    };
    let df4 = df.repartition(4).expect("repartition");
    let fit = |d: &DataFrame, what: &str| {
        e.fit(d)
            .unwrap_or_else(|err| panic!("{kind}: fit {what} failed: {err}"))
    };
    let m1 = match partitioning {
        Partitioning::Independent => {
            fit(&df.repartition(1).expect("repartition"), "on 1 partition")
        }
        Partitioning::Dependent => fit(&df4, "on 4 partitions"),
    };
    let o1 = output(&m1);
    match partitioning {
        Partitioning::Independent => {
            let o4 = output(&fit(&df4, "on 4 partitions"));
            assert_batches_close(&o1, &o4, PARTITION_RTOL, kind);
        }
        Partitioning::Dependent => {
            let again = output(&fit(&df4, "again"));
            assert_batches_close(&o1, &again, 0.0, &format!("{kind} (fitted twice)"));
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .build()
                .expect("a one-thread pool");
            let one = pool.install(|| output(&fit(&df4, "on one thread")));
            assert_batches_close(&o1, &one, 0.0, &format!("{kind} (one thread)"));
        }
    }
    assert_eq!(
        before,
        df.collect().expect("collect input"),
        "{kind}: fit changed its input"
    );
    let predicted = e
        .transform_schema(df.schema())
        .unwrap_or_else(|err| panic!("{kind}: transform_schema failed: {err}"));
    // Metadata such as StringIndexer's labels depends on the data, so the estimator's
    // schema is compared on names, types and nullability only.
    let shape = |s: &Schema| -> Vec<(String, DataType, bool)> {
        s.fields()
            .iter()
            .map(|f| (f.name().clone(), f.data_type().clone(), f.is_nullable()))
            .collect()
    };
    assert_eq!(
        shape(&predicted),
        shape(&o1.schema()),
        "{kind}: the estimator's transform_schema disagrees with its model's output"
    );
    check_schema_errors(e, df.schema(), &predicted);
    check_params_round_trip(e);
    check_transformer(&m1, df);
}

/// Checks that an estimator reading the vector column `column` takes sparse input as it
/// takes dense: [`check_estimator`] on `df` with `column` stored sparse
/// ([`DataFrame::vectors_to_sparse`]), and the output columns of a fit on the sparse
/// input equal those of a fit on the dense input within `rtol` (vectors compared by
/// value, whatever their layout).
///
/// # Panics
/// When a rule is broken, or when fitting fails.
pub fn check_estimator_sparse_input<E>(e: &E, df: &DataFrame, column: &str, rtol: f64)
where
    E: Estimator,
    E::Model: Clone,
{
    let kind = e.kind();
    let sparse = df
        .vectors_to_sparse(column)
        .unwrap_or_else(|err| panic!("{kind}: vectors_to_sparse failed: {err}"));
    check_estimator(e, &sparse);
    let dense_out = e
        .fit(df)
        .and_then(|m| m.transform(df))
        .unwrap_or_else(|err| panic!("{kind}: dense fit/transform failed: {err}"));
    let sparse_out = e
        .fit(&sparse)
        .and_then(|m| m.transform(&sparse))
        .unwrap_or_else(|err| panic!("{kind}: sparse fit/transform failed: {err}"));
    compare_outputs(kind, df, &dense_out, &sparse_out, rtol);
}

/// As [`check_estimator_sparse_input`], for a transformer: [`check_transformer`] on the
/// sparse input, and its outputs equal (by value) those on the dense input within `rtol`.
///
/// # Panics
/// When a rule is broken, or when `transform` fails.
pub fn check_transformer_sparse_input<T: Transformer + Clone>(
    t: &T,
    df: &DataFrame,
    column: &str,
    rtol: f64,
) {
    let kind = t.kind();
    let sparse = df
        .vectors_to_sparse(column)
        .unwrap_or_else(|err| panic!("{kind}: vectors_to_sparse failed: {err}"));
    check_transformer(t, &sparse);
    let dense_out = t
        .transform(df)
        .unwrap_or_else(|err| panic!("{kind}: dense transform failed: {err}"));
    let sparse_out = t
        .transform(&sparse)
        .unwrap_or_else(|err| panic!("{kind}: sparse transform failed: {err}"));
    compare_outputs(kind, df, &dense_out, &sparse_out, rtol);
}

/// The output columns (those not in `input`) of `a` and `b`, vectors densified, within
/// `rtol`.
fn compare_outputs(kind: &str, input: &DataFrame, a: &DataFrame, b: &DataFrame, rtol: f64) {
    let outputs: Vec<String> = a
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .filter(|n| input.schema().field_with_name(n).is_err())
        .collect();
    assert!(!outputs.is_empty(), "{kind}: no output column");
    let dense = |df: &DataFrame| {
        let mut df = df.select(&outputs).expect("select outputs");
        for o in &outputs {
            if crate::frame::vector::is_sparse_vector_type(
                df.schema().field_with_name(o).expect("output").data_type(),
            ) {
                df = df.vectors_to_dense(o).expect("densify");
            }
        }
        // Metadata may differ between layouts; values are compared.
        let batch = df.collect().expect("collect");
        let fields: Vec<Field> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| Field::new(f.name(), f.data_type().clone(), f.is_nullable()))
            .collect();
        RecordBatch::try_new(Arc::new(Schema::new(fields)), batch.columns().to_vec())
            .expect("batch")
    };
    assert_batches_close(
        &dense(a),
        &dense(b),
        rtol,
        &format!("{kind} (sparse input vs dense input)"),
    );
}

fn fields(s: &Schema) -> Vec<Field> {
    s.fields().iter().map(|f| f.as_ref().clone()).collect()
}

fn check_schema_errors<S: Stage + ?Sized>(s: &S, input: &Schema, output: &Schema) {
    let kind = s.kind();
    let names: Vec<String> = input.fields().iter().map(|f| f.name().clone()).collect();
    let mut reads = 0;
    for (i, name) in names.iter().enumerate() {
        let rest: Vec<Field> = input
            .fields()
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, f)| f.as_ref().clone())
            .collect();
        let remaining: Vec<String> = rest.iter().map(|f| f.name().clone()).collect();
        let rest_len = rest.len();
        let added = output.fields().len().saturating_sub(input.fields().len());
        match s.transform_schema(&Schema::new(rest)) {
            Err(Error::ColumnNotFound {
                column, available, ..
            }) => {
                assert_eq!(
                    &column, name,
                    "{kind}: ColumnNotFound names the wrong column"
                );
                assert_eq!(
                    available, remaining,
                    "{kind}: ColumnNotFound must list the available columns"
                );
                reads += 1;
            }
            // A stage that skips a missing input (Spark's StringIndexerModel) adds fewer
            // outputs without it.
            Ok(without) if without.fields().len().saturating_sub(rest_len) < added => {
                reads += 1;
            }
            _ => {}
        }
    }
    assert!(
        reads > 0,
        "{kind}: no input column is read; removing each column never gave ColumnNotFound or dropped an output"
    );
    for f in output.fields() {
        if input.field_with_name(f.name()).is_ok() {
            continue;
        }
        let mut with_out: Vec<Field> = fields(input);
        with_out.push(Field::new(f.name(), DataType::Utf8, true));
        match s.transform_schema(&Schema::new(with_out)) {
            Err(Error::ColumnExists { column, .. }) => assert_eq!(&column, f.name()),
            other => panic!("{kind}: output column `{}` already present should give ColumnExists, got {other:?}", f.name()),
        }
    }
}

fn check_params_round_trip<S: Stage + Clone>(s: &S) {
    let kind = s.kind();
    let json = s.params_json();
    let mut copy = s.clone();
    if let Some(obj) = json.as_object() {
        for (k, v) in obj {
            copy.set_param_json(k, v.clone()).unwrap_or_else(|e| {
                panic!("{kind}: setting `{k}` to its own value {v} failed: {e}")
            });
        }
    }
    assert_eq!(
        copy.params_json(),
        json,
        "{kind}: params JSON does not round-trip"
    );
}

/// Asserts two batches hold the same rows: identical schemas, floats within `rtol`
/// relative (NaN equals NaN), everything else exactly equal.
///
/// # Panics
/// When they differ, naming the column.
pub fn assert_batches_close(a: &RecordBatch, b: &RecordBatch, rtol: f64, what: &str) {
    assert_eq!(a.schema(), b.schema(), "{what}: schemas differ");
    assert_eq!(a.num_rows(), b.num_rows(), "{what}: row counts differ");
    for (i, f) in a.schema().fields().iter().enumerate() {
        let (x, y) = (a.column(i), b.column(i));
        match (f64_values(x), f64_values(y)) {
            (Some(xv), Some(yv)) => {
                assert_eq!(
                    x.logical_nulls(),
                    y.logical_nulls(),
                    "{what}: nulls of `{}` differ",
                    f.name()
                );
                if crate::frame::vector::is_sparse_vector_type(x.data_type()) {
                    let (sx, sy) = (x.as_struct(), y.as_struct());
                    for c in 0..3 {
                        assert_eq!(
                            sx.column(c),
                            sy.column(c),
                            "{what}: the sparse layout of `{}` differs",
                            f.name()
                        );
                    }
                    assert_eq!(
                        sx.column(3)
                            .as_list::<i32>()
                            .value_offsets()
                            .windows(2)
                            .map(|w| w[1] - w[0])
                            .collect::<Vec<_>>(),
                        sy.column(3)
                            .as_list::<i32>()
                            .value_offsets()
                            .windows(2)
                            .map(|w| w[1] - w[0])
                            .collect::<Vec<_>>(),
                        "{what}: the sparse layout of `{}` differs",
                        f.name()
                    );
                }
                for (k, (p, q)) in xv.iter().zip(&yv).enumerate() {
                    let close = (p.is_nan() && q.is_nan())
                        || p == q
                        || (p - q).abs() <= rtol * p.abs().max(q.abs());
                    assert!(
                        close,
                        "{what}: column `{}` differs at value {k}: {p} vs {q}",
                        f.name()
                    );
                }
            }
            _ => assert_eq!(x, y, "{what}: column `{}` differs", f.name()),
        }
    }
}

fn f64_values(a: &ArrayRef) -> Option<Vec<f64>> {
    if crate::frame::vector::is_sparse_vector_type(a.data_type()) {
        // The stored values; the layout (types, sizes, indices, offsets) is compared
        // exactly by `assert_batches_close`.
        let s = a.as_struct();
        let l = s.column(3).as_list::<i32>();
        let (lo, hi) = (
            l.value_offsets()[0] as usize,
            l.value_offsets()[l.len()] as usize,
        );
        return Some(l.values().as_primitive::<Float64Type>().values()[lo..hi].to_vec());
    }
    match a.data_type() {
        DataType::Float64 => Some(a.as_primitive::<Float64Type>().values().to_vec()),
        DataType::FixedSizeList(item, _) if item.data_type() == &DataType::Float64 => Some(
            a.as_fixed_size_list()
                .values()
                .as_primitive::<Float64Type>()
                .values()
                .to_vec(),
        ),
        _ => None,
    }
}

/// A small DataFrame for examples: columns `id` (Int64), `x` and `y` (Float64), `label`
/// (Float64 0/1) and `cat` (Utf8), in 2 partitions.
pub fn toy_frame() -> DataFrame {
    use arrow::array::{Float64Array, Int64Array, StringArray};
    let batch = |ids: Vec<i64>| {
        let x: Vec<f64> = ids.iter().map(|&i| i as f64 * 0.5).collect();
        let y: Vec<f64> = ids.iter().map(|&i| ((i * 7) % 5) as f64 - 2.0).collect();
        let label: Vec<f64> = ids.iter().map(|&i| ((i * 3) % 2) as f64).collect();
        let cat: Vec<&str> = ids
            .iter()
            .map(|&i| ["a", "b", "c"][(i % 3) as usize])
            .collect();
        RecordBatch::try_from_iter([
            ("id", Arc::new(Int64Array::from(ids)) as ArrayRef),
            ("x", Arc::new(Float64Array::from(x)) as ArrayRef),
            ("y", Arc::new(Float64Array::from(y)) as ArrayRef),
            ("label", Arc::new(Float64Array::from(label)) as ArrayRef),
            ("cat", Arc::new(StringArray::from(cat)) as ArrayRef),
        ])
        .expect("toy batch")
    };
    DataFrame::from_batches(vec![batch((0..5).collect()), batch((5..12).collect())])
        .expect("toy frame")
}
