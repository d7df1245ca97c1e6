//! Reading and writing files, and the errors for bad files.

use std::io::Write;

use mlpipe::prelude::*;

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.path().join(name);
    std::fs::File::create(&p)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    p
}

#[test]
fn csv_with_wrong_field_count_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "bad.csv", "a,b\n1,2\n3,4\n5\n7,8\n");
    let err = DataFrame::read_csv(&p, &CsvOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}: line 4: wrong number of fields (expected 2, found 1); check the delimiter and the quoting of that line",
            p.display()
        )
    );
    // With an explicit schema the error comes from the reader, with the same line.
    let schema = DataFrame::read_csv(write(&dir, "ok.csv", "a,b\n1,2\n"), &CsvOptions::default())
        .unwrap()
        .schema()
        .clone();
    let err = DataFrame::read_csv(&p, &CsvOptions::default().with_schema(schema)).unwrap_err();
    assert!(matches!(err, Error::Csv { line: 4, .. }), "{err}");
}

#[test]
fn csv_with_unparsable_value_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "bad.csv", "a,b\n1,2\n3,4\n5,x\n");
    let schema = DataFrame::read_csv(write(&dir, "ok.csv", "a,b\n1,2\n"), &CsvOptions::default())
        .unwrap()
        .schema()
        .clone();
    let err = DataFrame::read_csv(&p, &CsvOptions::default().with_schema(schema)).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}: line 4: Error while parsing value 'x' as type 'Int64' for column 1; give an explicit schema or mark such values as null with null_values",
            p.display()
        )
    );
}

#[test]
fn missing_file_and_directory_name_the_path() {
    let err = DataFrame::read_csv("no/such/file.csv", &CsvOptions::default()).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with("no/such/file.csv: no such file; check the path (relative paths start at "),
        "{msg}"
    );
    let err =
        DataFrame::read_parquet("no/such/file.parquet", &ParquetOptions::default()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("no/such/file.parquet: no such file"),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let err = DataFrame::read_csv(dir.path(), &CsvOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{}: is a directory, expected a file", dir.path().display())
    );
}

#[test]
fn corrupt_parquet_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "bad.parquet", "this is not parquet at all");
    let err = DataFrame::read_parquet(&p, &ParquetOptions::default()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("{}: not a readable Parquet file", p.display())),
        "{err}"
    );
}

#[test]
fn empty_csv_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "empty.csv", "");
    let err = DataFrame::read_csv(&p, &CsvOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{}: the file is empty; expected a header line", p.display())
    );
}

#[test]
fn telco_blank_total_charges_is_null() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/telco_churn/telco_customer_churn.csv"
    );
    // Spark's default (only "" is null) makes TotalCharges a string column, as SOURCE.md says.
    let df = DataFrame::read_csv(path, &CsvOptions::default()).unwrap();
    assert_eq!(
        df.schema()
            .field_with_name("TotalCharges")
            .unwrap()
            .data_type(),
        &arrow::datatypes::DataType::Utf8
    );
    let df =
        DataFrame::read_csv(path, &CsvOptions::default().with_null_values(&["", " "])).unwrap();
    assert_eq!(df.num_rows(), 7043);
    let col = df.column("TotalCharges").unwrap();
    assert_eq!(col.field.data_type(), &arrow::datatypes::DataType::Float64);
    let nulls: usize = col.chunks.iter().map(|c| c.null_count()).sum();
    assert_eq!(nulls, 11, "SOURCE.md: 11 rows have a blank TotalCharges");
    assert_eq!(
        df.column("SeniorCitizen").unwrap().field.data_type(),
        &arrow::datatypes::DataType::Int64
    );
}

#[test]
fn csv_and_parquet_round_trip() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/quickstart.csv");
    let df = DataFrame::read_csv(path, &CsvOptions::default().with_partition_rows(8)).unwrap();
    assert_eq!(df.num_partitions(), 4);
    let dir = tempfile::tempdir().unwrap();
    let pq = dir.path().join("q.parquet");
    df.write_parquet(&pq).unwrap();
    let back = DataFrame::read_parquet(&pq, &ParquetOptions::default()).unwrap();
    assert_eq!(back.num_partitions(), 4, "one row group per partition");
    assert_eq!(back.collect().unwrap(), df.collect().unwrap());
    let two = DataFrame::read_parquet(&pq, &ParquetOptions::default().with_partitions(2)).unwrap();
    assert_eq!(two.num_partitions(), 2);
    assert_eq!(two.collect().unwrap(), df.collect().unwrap());
    let csv = dir.path().join("q.csv");
    df.write_csv(&csv).unwrap();
    let again = DataFrame::read_csv(&csv, &CsvOptions::default()).unwrap();
    assert_eq!(again.collect().unwrap(), df.collect().unwrap());
}

#[test]
fn write_csv_refuses_vectors() {
    use mlpipe::feature::VectorAssembler;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/quickstart.csv");
    let df = DataFrame::read_csv(path, &CsvOptions::default()).unwrap();
    let out = VectorAssembler::new()
        .with_input_cols(["tenure"])
        .with_output_col("v")
        .transform(&df)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = out.write_csv(dir.path().join("x.csv")).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("DataFrame: write_csv: column `v` has nested type"),
        "{err}"
    );
    // Parquet keeps vectors as fixed-size lists.
    let pq = dir.path().join("x.parquet");
    out.write_parquet(&pq).unwrap();
    let back = DataFrame::read_parquet(&pq, &ParquetOptions::default()).unwrap();
    assert_eq!(
        back.collect()
            .unwrap()
            .column(back.schema().index_of("v").unwrap()),
        out.collect()
            .unwrap()
            .column(out.schema().index_of("v").unwrap())
    );
}

#[test]
fn show_matches_spark_layout() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/quickstart.csv");
    let df = DataFrame::read_csv(path, &CsvOptions::default()).unwrap();
    let s = df
        .select(["customer_id", "contract", "f0"])
        .unwrap()
        .show_string(2)
        .unwrap();
    assert_eq!(
        s,
        "+-----------+--------------+------------------+\n\
         |customer_id|      contract|                f0|\n\
         +-----------+--------------+------------------+\n\
         |          1|month-to-month|26.144698433694362|\n\
         |          2|      one-year|27.079448200686006|\n\
         +-----------+--------------+------------------+\n\
         only showing top 2 rows\n"
    );
}

/// Every codec Spark and polars write reads back the same table: the files were written by
/// pyarrow 26 and polars 2.1 (tests/fixtures/parquet_codecs/make.py). polars' default is
/// zstd, which mlpipe used to refuse with "Disabled feature at compile time: zstd".
#[test]
fn reads_parquet_with_every_codec() {
    use mlpipe::arrow::array::{Array, AsArray};
    use mlpipe::arrow::compute::cast;
    use mlpipe::arrow::datatypes::{DataType, Float64Type, Int64Type};
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/parquet_codecs");
    let files = [
        "pyarrow_snappy",
        "pyarrow_zstd",
        "pyarrow_gzip",
        "pyarrow_lz4",
        "pyarrow_brotli",
        "pyarrow_none",
        "polars_default",
    ];
    let mut tables = Vec::new();
    for name in files {
        let df =
            DataFrame::read_parquet(format!("{dir}/{name}.parquet"), &ParquetOptions::default())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        let b = df.collect().unwrap();
        assert_eq!(b.num_rows(), 5, "{name}");
        let ids: Vec<i64> = b.column(0).as_primitive::<Int64Type>().values().to_vec();
        assert_eq!(ids, [1, 2, 3, 4, 5], "{name}");
        let tenure = b.column(1).as_primitive::<Float64Type>();
        assert!(tenure.is_null(1), "{name}");
        assert_eq!(tenure.value(2), 3.25, "{name}");
        // polars writes strings as Utf8View; the values are what counts.
        let contract = cast(b.column(2), &DataType::Utf8).unwrap();
        let contract = contract.as_string::<i32>();
        assert_eq!(contract.value(0), "Month-to-month", "{name}");
        assert!(contract.is_null(2), "{name}");
        assert!(b.column(3).as_boolean().value(0), "{name}");
        tables.push((name, b));
    }
    // The pyarrow files hold identical tables.
    for (name, b) in &tables[1..6] {
        assert_eq!(b, &tables[0].1, "{name} differs from snappy");
    }
}

/// mlpipe writes snappy by default (Spark's codec) and any other codec on request; each
/// reads back identical.
#[test]
fn writes_parquet_with_every_codec() {
    use mlpipe::parquet::basic::{BrotliLevel, Compression, GzipLevel, ZstdLevel};
    use mlpipe::parquet::file::reader::{FileReader, SerializedFileReader};
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/quickstart.csv");
    let df = DataFrame::read_csv(path, &CsvOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let codec_of = |p: &std::path::Path| {
        let r = SerializedFileReader::new(std::fs::File::open(p).unwrap()).unwrap();
        r.metadata().row_group(0).column(0).compression()
    };
    let default = dir.path().join("default.parquet");
    df.write_parquet(&default).unwrap();
    assert_eq!(codec_of(&default), Compression::SNAPPY);
    for c in [
        Compression::ZSTD(ZstdLevel::default()),
        Compression::GZIP(GzipLevel::default()),
        Compression::LZ4_RAW,
        Compression::BROTLI(BrotliLevel::default()),
        Compression::UNCOMPRESSED,
    ] {
        let p = dir.path().join(format!("{c}.parquet"));
        df.write_parquet_with(&p, c).unwrap();
        let kind = |c: Compression| c.to_string().split('(').next().unwrap().to_string();
        assert_eq!(kind(codec_of(&p)), kind(c));
        let back = DataFrame::read_parquet(&p, &ParquetOptions::default()).unwrap();
        assert_eq!(back.collect().unwrap(), df.collect().unwrap(), "{c}");
    }
}
