//! The churn model on IBM's Telco Customer Churn data (bundled in `data/telco_churn/`).
//!
//! Pipeline: StringIndexer (15 categorical columns and the `Churn` label) → OneHotEncoder →
//! Imputer (TotalCharges, blank in 11 rows) → VectorAssembler → StandardScaler →
//! LogisticRegression, fitted on an 80/20 `random_split` (seed 42); beside it a
//! GBTClassifier (Spark's defaults) on the category indices of the same columns. Prints
//! both models' test metrics side by side, the logistic regression's confusion matrix and
//! 10 largest coefficients, and draws both models' ROC and PR curves in one SVG picture
//! (areas in the legend). The fitted model is saved in Spark ML's format, loaded back,
//! and checked to predict identically.
//!
//! Run: `cargo run --release --example churn [-- --data PATH] [--model-dir DIR] [--plot PATH]`.

use std::path::PathBuf;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use mlpipe::classification::{
    GBTClassificationModel, GBTClassifier, LogisticRegression, LogisticRegressionModel,
};
use mlpipe::evaluation::{
    BinaryClassificationEvaluator, BinaryClassificationMetrics, BinaryMetric,
    MulticlassClassificationEvaluator, MulticlassMetric,
};
use mlpipe::feature::{
    Imputer, OneHotEncoder, StandardScaler, StringIndexer, StringIndexerModel, VectorAssembler,
};
use mlpipe::persist::{save, SaveMode};
use mlpipe::prelude::*;
use plotters::prelude::*;

const USAGE: &str = "Train and evaluate a churn model on the Telco data, like a Spark ML pipeline.

usage: churn [--data CSV] [--plot SVG] [--model-dir DIR]
  --data CSV       CSV with the Telco columns (default: the bundled data set)
  --plot SVG       where to write the ROC and PR curves (default: target/churn_curves.svg)
  --model-dir DIR  where to save the fitted PipelineModel, in Spark's format (default:
                   target/churn_model)";

/// The example's three options, parsed by hand so that running it compiles no argument parser.
struct Args {
    data: Option<PathBuf>,
    plot: PathBuf,
    model_dir: PathBuf,
}

impl Args {
    fn parse() -> std::result::Result<Args, String> {
        let mut args = Args {
            data: None,
            plot: "target/churn_curves.svg".into(),
            model_dir: "target/churn_model".into(),
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            if flag == "-h" || flag == "--help" {
                return Err(USAGE.into());
            }
            let value = it
                .next()
                .map(PathBuf::from)
                .ok_or_else(|| format!("{flag} needs a value\n\n{USAGE}"))?;
            match flag.as_str() {
                "--data" => args.data = Some(value),
                "--plot" => args.plot = value,
                "--model-dir" => args.model_dir = value,
                _ => return Err(format!("unknown option {flag}\n\n{USAGE}")),
            }
        }
        Ok(args)
    }
}

const CATEGORICAL: [&str; 15] = [
    "gender",
    "Partner",
    "Dependents",
    "PhoneService",
    "MultipleLines",
    "InternetService",
    "OnlineSecurity",
    "OnlineBackup",
    "DeviceProtection",
    "TechSupport",
    "StreamingTV",
    "StreamingMovies",
    "Contract",
    "PaperlessBilling",
    "PaymentMethod",
];

fn main() {
    let args = match Args::parse() {
        Ok(args) => args,
        Err(usage) => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(args) {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
}

fn run(args: Args) -> Result<()> {
    let start = Instant::now();
    let path = args.data.unwrap_or_else(|| {
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/telco_churn/telco_customer_churn.csv"
        ))
    });
    // A blank TotalCharges is written as a single space.
    let df = DataFrame::read_csv(&path, &CsvOptions::default().with_null_values(&["", " "]))?;
    // Spark's rows for seed 42: the file is read as Spark reads it (one partition under
    // 4 MiB), so this is PySpark's `df.randomSplit([0.8, 0.2], seed=42)`.
    let [train, test] = df.random_split([0.8, 0.2], 42)?;
    let (train, test) = (&train, &test);
    println!(
        "{}: {} customers; train {} / test {} (random_split 0.8/0.2, seed 42)",
        path.display(),
        df.num_rows(),
        train.num_rows(),
        test.num_rows()
    );

    let idx: Vec<String> = CATEGORICAL.iter().map(|c| format!("{c}_idx")).collect();
    let vec: Vec<String> = CATEGORICAL.iter().map(|c| format!("{c}_vec")).collect();
    let numeric = [
        "SeniorCitizen",
        "tenure",
        "MonthlyCharges",
        "TotalCharges_imputed",
    ];

    let bar = ProgressBar::new(100).with_style(
        ProgressStyle::with_template("fitting {bar:30} iteration {pos} objective {msg}")
            .expect("template"),
    );
    let progress = bar.clone();
    let pipeline = Pipeline::new()
        .with_estimator(
            StringIndexer::new()
                .with_input_col("Churn")
                .with_output_col("label"),
        )
        .with_estimator(
            StringIndexer::new()
                .with_input_cols(CATEGORICAL)
                .with_output_cols(&idx),
        )
        .with_estimator(
            OneHotEncoder::new()
                .with_input_cols(&idx)
                .with_output_cols(&vec),
        )
        .with_estimator(
            Imputer::new()
                .with_input_cols(["TotalCharges"])
                .with_output_cols(["TotalCharges_imputed"]),
        )
        .with_transformer(
            VectorAssembler::new()
                .with_input_cols(vec.iter().map(String::as_str).chain(numeric))
                .with_output_col("raw_features"),
        )
        .with_estimator(
            StandardScaler::new()
                .with_input_col("raw_features")
                .with_output_col("features"),
        )
        .with_estimator(
            LogisticRegression::new()
                .with_reg_param(0.01)
                .with_iteration_callback(move |it| {
                    progress.set_position(it.iteration as u64);
                    progress.set_message(format!("{:.6}", it.objective));
                }),
        );
    let t = Instant::now();
    let model = pipeline.fit(train)?;
    bar.finish();
    let fit_s = t.elapsed().as_secs_f64();
    // The first StringIndexerModel is the label's.
    let labels = model.stage::<StringIndexerModel>()?.labels()[0].clone();
    let lr = model.stage::<LogisticRegressionModel>()?;
    let summary = lr.summary().expect("summary");
    println!(
        "fitted in {:.1} ms: {} iterations, final objective {:.6}; label mapping {}",
        fit_s * 1e3,
        summary.total_iterations,
        summary
            .objective_history
            .last()
            .copied()
            .unwrap_or(f64::NAN),
        labels
            .iter()
            .enumerate()
            .map(|(i, l)| format!("{l} -> {i}"))
            .collect::<Vec<_>>()
            .join(", ")
    );

    let scored = model.transform(test)?;
    let compared = vec![
        Scored::of("LogisticRegression", &scored)?,
        gbt_beside(train, test, &idx, &numeric)?,
    ];
    print_side_by_side(&compared, scored.num_rows());
    let mc = MulticlassClassificationEvaluator::new();

    let cm = mc.metrics(&scored)?.confusion_matrix();
    println!("\nconfusion matrix (rows: true, columns: predicted)");
    println!("{:>10} {:>8} {:>8}", "", labels[0], labels[1]);
    for (i, row) in cm.iter().enumerate() {
        println!(
            "{:>10} {:>8} {:>8}",
            labels[i],
            row[0],
            row.get(1).copied().unwrap_or(0.0)
        );
    }

    let mut coefs = lr.coefficients_by_name().expect("binomial");
    coefs.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
    println!("\n10 largest coefficients (standardised features)");
    for (name, c) in coefs.iter().take(10) {
        println!("{c:>+9.4}  {name}");
    }

    save(&model, &args.model_dir, SaveMode::Overwrite)?;
    let loaded = PipelineModel::load(&args.model_dir)?;
    let again = loaded.transform(test)?;
    let same = again.collect()? == scored.collect()?;
    if !same {
        return Err(Error::Internal(
            "the reloaded model predicts differently".into(),
        ));
    }
    println!(
        "\nsaved the model to {} (Spark ML format), loaded it back: identical predictions",
        args.model_dir.display()
    );

    plot(&args.plot, &compared).map_err(|e| Error::File {
        path: args.plot.clone(),
        reason: e,
    })?;
    println!("\nROC and PR curves: {}", args.plot.display());
    println!("total {:.0} ms", start.elapsed().as_secs_f64() * 1e3);
    Ok(())
}

/// A GBTClassifier with Spark's defaults (20 trees of depth 5, step 0.1) on the same
/// split: the categorical columns go in as category indices, which the trees split on as
/// nominal features (no one-hot encoding, no scaling), and its test scores.
fn gbt_beside(
    train: &DataFrame,
    test: &DataFrame,
    idx: &[String],
    numeric: &[&str],
) -> Result<Scored> {
    let pipeline = Pipeline::new()
        .with_estimator(
            StringIndexer::new()
                .with_input_col("Churn")
                .with_output_col("label"),
        )
        .with_estimator(
            StringIndexer::new()
                .with_input_cols(CATEGORICAL)
                .with_output_cols(idx),
        )
        .with_estimator(
            Imputer::new()
                .with_input_cols(["TotalCharges"])
                .with_output_cols(["TotalCharges_imputed"]),
        )
        .with_transformer(
            VectorAssembler::new()
                .with_input_cols(
                    idx.iter()
                        .map(String::as_str)
                        .chain(numeric.iter().copied()),
                )
                .with_output_col("features"),
        )
        .with_estimator(GBTClassifier::new());
    let t = Instant::now();
    let model = pipeline.fit(train)?;
    let gbt = model.stage::<GBTClassificationModel>()?;
    println!(
        "GBTClassifier fitted in {:.1} ms: {} trees, {} nodes",
        t.elapsed().as_secs_f64() * 1e3,
        gbt.num_trees(),
        gbt.total_num_nodes()
    );
    Scored::of("GBTClassifier", &model.transform(test)?)
}

/// One model's test scores: the binary curves and the table's metrics.
struct Scored {
    name: &'static str,
    curves: BinaryClassificationMetrics,
    metrics: Vec<(&'static str, f64)>,
}

impl Scored {
    /// Scores a transformed test frame with Spark's evaluators (default columns).
    fn of(name: &'static str, scored: &DataFrame) -> Result<Scored> {
        let bin = BinaryClassificationEvaluator::new();
        let mc = MulticlassClassificationEvaluator::new();
        let metrics = vec![
            ("areaUnderROC", bin.evaluate(scored)?),
            (
                "areaUnderPR",
                bin.clone()
                    .with_metric(BinaryMetric::AreaUnderPr)
                    .evaluate(scored)?,
            ),
            (
                "accuracy",
                mc.clone()
                    .with_metric(MulticlassMetric::Accuracy)
                    .evaluate(scored)?,
            ),
            ("f1", mc.clone().evaluate(scored)?),
            (
                "logLoss",
                mc.clone()
                    .with_metric(MulticlassMetric::LogLoss)
                    .evaluate(scored)?,
            ),
        ];
        Ok(Scored {
            name,
            curves: bin.metrics(scored)?,
            metrics,
        })
    }
}

/// The test metrics of every model, one column each.
fn print_side_by_side(models: &[Scored], rows: usize) {
    println!("\ntest metrics ({rows} rows)");
    let rule = format!(
        "+--------------+{}",
        models
            .iter()
            .map(|m| format!("{}+", "-".repeat(m.name.len().max(8) + 2)))
            .collect::<String>()
    );
    println!("{rule}");
    print!("| {:<12} |", "metric");
    for m in models {
        print!(" {:>w$} |", m.name, w = m.name.len().max(8));
    }
    println!("\n{rule}");
    for (i, (metric, _)) in models[0].metrics.iter().enumerate() {
        print!("| {metric:<12} |");
        for m in models {
            print!(" {:>w$.4} |", m.metrics[i].1, w = m.name.len().max(8));
        }
        println!();
    }
    println!("{rule}");
}

/// ROC and precision-recall curves side by side, one line per model with its area in the
/// legend, and the line a classifier that guesses at random would give (the diagonal for
/// ROC; for PR, the share of positive rows, which is where the PR curve ends at recall 1).
fn plot(path: &std::path::Path, models: &[Scored]) -> std::result::Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    let colors = [BLUE, RED, GREEN, MAGENTA];
    let positive_share = models[0].curves.pr().last().map_or(0.0, |p| p.1);
    let root = SVGBackend::new(path, (900, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let (left, right) = root.split_horizontally(450);
    let panels = [
        (
            left,
            "ROC",
            "false positive rate",
            "true positive rate",
            true,
            [(0.0, 0.0), (1.0, 1.0)],
            "chance (AUC = 0.5)".to_string(),
        ),
        (
            right,
            "Precision-recall",
            "recall",
            "precision",
            false,
            [(0.0, positive_share), (1.0, positive_share)],
            format!("chance (positive share = {positive_share:.3})"),
        ),
    ];
    for (area, title, xs, ys, roc, chance, chance_label) in panels {
        let mut chart = ChartBuilder::on(&area)
            .caption(title, ("sans-serif", 20))
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(45)
            .build_cartesian_2d(0f64..1f64, 0f64..1f64)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc(xs)
            .y_desc(ys)
            .draw()
            .map_err(|e| e.to_string())?;
        for (m, color) in models.iter().zip(colors) {
            let (pts, label) = if roc {
                (
                    m.curves.roc(),
                    format!("{} (AUC = {:.3})", m.name, m.curves.area_under_roc()),
                )
            } else {
                (
                    m.curves.pr(),
                    format!("{} (area = {:.3})", m.name, m.curves.area_under_pr()),
                )
            };
            chart
                .draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(2)))
                .map_err(|e| e.to_string())?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
        let grey = RGBColor(150, 150, 150);
        chart
            .draw_series(DashedLineSeries::new(chance, 6, 4, grey.into()))
            .map_err(|e| e.to_string())?
            .label(chance_label)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], grey));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| e.to_string())?;
    }
    root.present().map_err(|e| e.to_string())
}
