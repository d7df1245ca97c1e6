//! `mlpipe show`: the schema and first rows of a file, like Spark's `df.show()`.

use std::path::Path;

use mlpipe::prelude::*;

use crate::data::read;

pub fn run(input: &Path, n: usize) -> Result<()> {
    let df = read(input)?;
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
