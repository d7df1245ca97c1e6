//! A text classifier on real labelled short texts: 2,724 fortune cookies from the Debian
//! package `fortunes` (BSD licence), labelled by the category file they come from
//! (computers, politics, science, food, sports); bundled in `data/fortunes/`.
//!
//! Pipeline, as a Spark ML user writes it: StringIndexer (category -> label) →
//! RegexTokenizer (`\W+`, tokens of 2+ characters) → StopWordsRemover (Spark's English
//! list) → HashingTF (2^16 features) → IDF (minDocFreq 2) → multinomial
//! LogisticRegression, fitted on an 80/20 `random_split` (seed 42). Prints the test
//! metrics against the majority-class baseline and the most telling words per class, then
//! saves the fitted PipelineModel in Spark ML's format, loads it back and checks the
//! predictions are identical.
//!
//! Run: `cargo run --release --example text [-- --model-dir DIR]`.

use std::time::Instant;

use mlpipe::classification::{Family, LogisticRegression, LogisticRegressionModel};
use mlpipe::evaluation::{MulticlassClassificationEvaluator, MulticlassMetric};
use mlpipe::feature::{
    HashingTF, RegexTokenizer, StopWordsRemover, StringIndexer, StringIndexerModel, IDF,
};
use mlpipe::prelude::*;

fn main() -> Result<()> {
    let start = Instant::now();
    let mut model_dir = std::path::PathBuf::from("target/text_model");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match (a.as_str(), args.next()) {
            ("--model-dir", Some(d)) => model_dir = d.into(),
            _ => {
                return Err(Error::Usage(
                    "usage: text [--model-dir DIR] (default target/text_model)".into(),
                ))
            }
        }
    }
    let df = DataFrame::read_csv("data/fortunes/fortunes.csv", &CsvOptions::default())?;
    let [train, test] = df.random_split([0.8, 0.2], 42)?;
    println!(
        "fortunes: {} texts; train {} / test {} (random_split 0.8/0.2, seed 42)",
        df.num_rows(),
        train.num_rows(),
        test.num_rows()
    );

    let tf = HashingTF::new()
        .with_input_col("filtered")
        .with_output_col("tf")
        .with_num_features(1 << 16);
    let pipeline = Pipeline::new()
        .with_estimator(
            StringIndexer::new()
                .with_input_col("category")
                .with_output_col("label"),
        )
        .with_transformer(
            RegexTokenizer::new()
                .with_input_col("text")
                .with_output_col("words")
                .with_pattern("\\W+")
                .with_min_token_length(2),
        )
        .with_transformer(
            StopWordsRemover::new()
                .with_input_col("words")
                .with_output_col("filtered"),
        )
        .with_transformer(tf.clone())
        .with_estimator(
            IDF::new()
                .with_input_col("tf")
                .with_output_col("features")
                .with_min_doc_freq(2),
        )
        .with_estimator(
            LogisticRegression::new()
                .with_family(Family::Multinomial)
                .with_reg_param(0.01)
                .with_max_iter(200),
        );
    let t = Instant::now();
    let model = pipeline.fit(&train)?;
    println!("fitted in {:.0} ms", t.elapsed().as_secs_f64() * 1e3);

    let scored = model.transform(&test)?;
    let labels = model.stage::<StringIndexerModel>()?.labels()[0].clone();
    println!("\n{:<10} {:>8}", "metric", "test");
    for metric in [
        MulticlassMetric::Accuracy,
        MulticlassMetric::F1,
        MulticlassMetric::WeightedPrecision,
        MulticlassMetric::WeightedRecall,
    ] {
        let v = MulticlassClassificationEvaluator::new()
            .with_metric(metric)
            .evaluate(&scored)?;
        println!("{:<18} {v:>8.4}", format!("{metric:?}"));
    }
    // The majority class's share of the test set: what a model that learnt nothing gets.
    let counts = StringIndexer::new()
        .with_input_col("category")
        .with_output_col("c")
        .fit(&test)?;
    let majority = counts.labels()[0][0].clone();
    let test_labels = test.column("category")?;
    let mut majority_n = 0;
    for chunk in &test_labels.chunks {
        let s = mlpipe::arrow::compute::cast(chunk, &mlpipe::arrow::datatypes::DataType::Utf8)?;
        let s = mlpipe::arrow::array::AsArray::as_string::<i32>(&s);
        majority_n += s.iter().filter(|v| *v == Some(majority.as_str())).count();
    }
    println!(
        "baseline: always `{majority}`: accuracy {:.4}",
        majority_n as f64 / test.num_rows() as f64
    );

    // The words with the largest coefficient per class (their hash bucket's word in the
    // training texts).
    let lr = model.stage::<LogisticRegressionModel>()?;
    let coef = lr.coefficient_matrix();
    let f = lr.num_features();
    let words = model
        .transform(&train)?
        .column("filtered")?
        .string_lists()?;
    let mut by_bucket: std::collections::HashMap<usize, String> = Default::default();
    for w in words.iter().flatten() {
        by_bucket.entry(tf.index_of(w)).or_insert_with(|| w.clone());
    }
    println!("\nmost telling words per class:");
    for (k, label) in labels.iter().enumerate() {
        let mut row: Vec<(f64, usize)> = (0..f).map(|j| (coef[k * f + j], j)).collect();
        row.sort_by(|a, b| b.0.total_cmp(&a.0));
        let top: Vec<&str> = row
            .iter()
            .filter_map(|(_, j)| by_bucket.get(j).map(String::as_str))
            .take(8)
            .collect();
        println!("  {label:<10} {}", top.join(", "));
    }

    model.write().overwrite().save(&model_dir)?;
    let loaded = PipelineModel::load(&model_dir)?;
    let again = loaded.transform(&test)?;
    if again.select(["prediction", "probability"])?.collect()?
        != scored.select(["prediction", "probability"])?.collect()?
    {
        return Err(Error::Internal(
            "the reloaded model predicts differently".into(),
        ));
    }
    println!(
        "\nsaved the model to {} (Spark ML format), loaded it back: identical predictions",
        model_dir.display()
    );
    println!("total {:.0} ms", start.elapsed().as_secs_f64() * 1e3);
    Ok(())
}
