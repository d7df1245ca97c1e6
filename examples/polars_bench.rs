//! How long `DataFrame::from_polars` / `to_polars` take on 1M rows x 22 columns (20 Float64,
//! one Int64, one String), beside a copying conversion of the same data.
//!
//! The bridge hands buffers over through the Arrow C Data Interface, so its time does not
//! grow with the number of rows. The copying path copies every buffer once with arrow's
//! `MutableArrayData` (the least any converter that copies must do). Prints the medians of
//! 11 runs.
//!
//! Run with `cargo run --release --example polars_bench --features polars`. In a debug
//! build polars-arrow's debug assertions check every string view as polars imports the
//! String column (about 10 ms per million rows), which an optimised build does not do; the
//! numeric columns take the same time in both.

use std::time::{Duration, Instant};

use mlpipe::arrow::array::{make_array, ArrayRef, MutableArrayData, RecordBatch};
use mlpipe::polars::prelude::*;

const ROWS: usize = 1_000_000;
const RUNS: usize = 11;

fn median(mut f: impl FnMut() -> Duration) -> Duration {
    let mut t: Vec<Duration> = (0..RUNS).map(|_| f()).collect();
    t.sort();
    t[RUNS / 2]
}

fn deep_copy(df: &mlpipe::DataFrame) -> mlpipe::DataFrame {
    let parts = df
        .partitions()
        .iter()
        .map(|b| {
            let cols: Vec<ArrayRef> = b
                .columns()
                .iter()
                .map(|c| {
                    let data = c.to_data();
                    let mut m = MutableArrayData::new(vec![&data], false, c.len());
                    m.try_extend(0, 0, c.len()).expect("a copy within bounds");
                    make_array(m.freeze())
                })
                .collect();
            RecordBatch::try_new(b.schema(), cols).expect("same schema")
        })
        .collect();
    mlpipe::DataFrame::try_new(df.schema().clone(), parts).expect("same schema")
}

fn main() -> mlpipe::Result<()> {
    let mut columns: Vec<Column> = (0..20)
        .map(|j| {
            let v: Vec<f64> = (0..ROWS)
                .map(|i| ((i * 31 + j * 7) % 1000) as f64 / 10.0)
                .collect();
            Column::new(format!("x{j}").into(), v)
        })
        .collect();
    columns.push(Column::new(
        "id".into(),
        (0..ROWS as i64).collect::<Vec<_>>(),
    ));
    let cities = ["Lisbon", "Porto", "Faro", "Braga"];
    columns.push(Column::new(
        "city".into(),
        (0..ROWS).map(|i| cities[i % 4]).collect::<Vec<_>>(),
    ));
    let pl = polars::prelude::DataFrame::new(ROWS, columns).expect("a valid frame");
    println!(
        "polars frame: {} rows x {} columns",
        pl.height(),
        pl.width()
    );

    let from = median(|| {
        let t = Instant::now();
        let df = mlpipe::DataFrame::from_polars(&pl).expect("convertible");
        let e = t.elapsed();
        assert_eq!(df.num_rows(), ROWS);
        e
    });
    let df = mlpipe::DataFrame::from_polars(&pl)?;
    let to = median(|| {
        let t = Instant::now();
        let back = df.to_polars().expect("convertible");
        let e = t.elapsed();
        assert_eq!(back.height(), ROWS);
        e
    });
    let numeric: Vec<String> = (0..20)
        .map(|j| format!("x{j}"))
        .chain(["id".to_string()])
        .collect();
    let numeric: Vec<&str> = numeric.iter().map(String::as_str).collect();
    let numeric = df.select(&numeric)?;
    let strings = df.select(["city"])?;
    let to_numeric = median(|| {
        let t = Instant::now();
        let back = numeric.to_polars().expect("convertible");
        let e = t.elapsed();
        assert_eq!(back.height(), ROWS);
        e
    });
    let to_strings = median(|| {
        let t = Instant::now();
        let back = strings.to_polars().expect("convertible");
        let e = t.elapsed();
        assert_eq!(back.height(), ROWS);
        e
    });
    let copy = median(|| {
        let t = Instant::now();
        let c = deep_copy(&df);
        let e = t.elapsed();
        assert_eq!(c.num_rows(), ROWS);
        e
    });
    println!(
        "from_polars (zero-copy)            median {:>10.3} ms",
        from.as_secs_f64() * 1e3
    );
    println!(
        "to_polars   (zero-copy)            median {:>10.3} ms",
        to.as_secs_f64() * 1e3
    );
    println!(
        "  of which 21 numeric columns       median {:>10.3} ms",
        to_numeric.as_secs_f64() * 1e3
    );
    println!(
        "  of which the String column        median {:>10.3} ms",
        to_strings.as_secs_f64() * 1e3
    );
    println!(
        "copying every buffer once (compare) median {:>10.3} ms",
        copy.as_secs_f64() * 1e3
    );
    Ok(())
}
