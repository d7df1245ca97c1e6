//! The stage contract (`mlpipe::testing`) run on every stage.

use mlpipe::feature::VectorAssembler;
use mlpipe::prelude::*;
use mlpipe::testing::{check_transformer, toy_frame};

fn quickstart() -> DataFrame {
    DataFrame::read_csv(
        concat!(env!("CARGO_MANIFEST_DIR"), "/data/quickstart.csv"),
        &CsvOptions::default(),
    )
    .unwrap()
}

#[test]
fn vector_assembler_contract() {
    for h in [HandleInvalid::Keep, HandleInvalid::Skip] {
        let va = VectorAssembler::new()
            .with_input_cols(["tenure", "monthly_charges", "total_charges", "f0"])
            .with_output_col("features")
            .with_handle_invalid(h);
        check_transformer(&va, &quickstart());
    }
    let va = VectorAssembler::new()
        .with_input_cols(["x", "id", "y"])
        .with_output_col("features");
    check_transformer(&va, &toy_frame());
}
