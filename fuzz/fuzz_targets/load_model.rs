//! Fuzzes the metadata parser and the model-data decoder: the input's first byte picks
//! the Spark fixture to mutate; the rest replaces its metadata line, or (if the second
//! byte is odd) its Parquet data file. Loading must return Ok or Err, never panic.
//! Seeds: `fuzz/seed.sh` writes each fixture's metadata and data, prefixed with the two
//! selector bytes, into `fuzz/corpus/load_model`.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

const FIXTURES: [&str; 5] = [
    "spark/spark_lr_elasticnet",
    "spark/spark_lr_multinomial",
    "spark/spark_pipeline_lr/stages/1_StandardScaler_debcbc505293",
    "spark_bounds/binomial_box",
    "spark_bounds/multinomial_upper",
];

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let t = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &t);
        } else {
            std::fs::write(&t, std::fs::read(e.path()).unwrap()).unwrap();
        }
    }
}

fn first_part(dir: &Path) -> std::path::PathBuf {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with(['.', '_']))
        .collect();
    v.sort();
    v.remove(0)
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let fixture = FIXTURES[data[0] as usize % FIXTURES.len()];
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures").join(fixture);
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m");
    copy_dir(&src, &model);
    let target = if data[1] % 2 == 1 { first_part(&model.join("data")) } else { first_part(&model.join("metadata")) };
    std::fs::write(target, &data[2..]).unwrap();
    let _ = mlpipe::persist::load_stage(&model);
});
