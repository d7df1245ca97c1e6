//! `mlpipe train`: build and fit the standard pipeline (label index, one-hot categorical
//! columns, optional imputation, assemble, logistic regression) with safe defaults.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Instant;

use arrow::array::{Array, AsArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use mlpipe::classification::{LinearSVC, LogisticRegression, NaiveBayes};
use mlpipe::clustering::KMeans;
use mlpipe::feature::{
    Imputer, ImputerStrategy, IndexToString, OneHotEncoder, StringIndexer, VectorAssembler,
};
use mlpipe::frame::schema;
use mlpipe::persist::save;
use mlpipe::pipeline::{DynEstimator, PipelineStage};
use mlpipe::prelude::*;
use mlpipe::regression::LinearRegression;
use mlpipe::tree::{
    DecisionTreeClassifier, DecisionTreeRegressor, GBTClassifier, GBTRegressor,
    RandomForestClassifier, RandomForestRegressor,
};
use serde_json::{json, Map, Value};

use crate::data::{column_names, is_string, read, save_mode, usage, write_report};
use crate::evaluate::metric_value;
use crate::model_kind::last_predictor;

/// `--algorithm`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Algorithm {
    /// LogisticRegression (the default for a class label).
    Lr,
    /// LinearRegression (the default for a numeric label with non-integer values).
    Linreg,
    /// NaiveBayes.
    Nb,
    /// KMeans (no label).
    Kmeans,
    /// DecisionTreeClassifier, or DecisionTreeRegressor for a numeric target.
    Dt,
    /// RandomForestClassifier, or RandomForestRegressor for a numeric target.
    Rf,
    /// GBTClassifier (two classes), or GBTRegressor for a numeric target.
    Gbt,
    /// LinearSVC (two classes).
    Svc,
}

impl Algorithm {
    const ALL: [Algorithm; 8] = [
        Algorithm::Lr,
        Algorithm::Linreg,
        Algorithm::Nb,
        Algorithm::Kmeans,
        Algorithm::Dt,
        Algorithm::Rf,
        Algorithm::Gbt,
        Algorithm::Svc,
    ];

    /// The name `--algorithm` takes.
    pub(crate) fn flag(self) -> &'static str {
        match self {
            Algorithm::Lr => "lr",
            Algorithm::Linreg => "linreg",
            Algorithm::Nb => "nb",
            Algorithm::Kmeans => "kmeans",
            Algorithm::Dt => "dt",
            Algorithm::Rf => "rf",
            Algorithm::Gbt => "gbt",
            Algorithm::Svc => "svc",
        }
    }

    /// Whether the algorithm fits a numeric target when the label is one.
    pub(crate) fn has_regressor(self) -> bool {
        matches!(
            self,
            Algorithm::Linreg | Algorithm::Dt | Algorithm::Rf | Algorithm::Gbt
        )
    }

    /// The Spark estimator fitted for a classification (`false`) or numeric target.
    pub(crate) fn estimator(self, regression: bool) -> Box<dyn DynEstimator> {
        match (self, regression) {
            (Algorithm::Lr, _) => Box::new(LogisticRegression::new()),
            (Algorithm::Linreg, _) => Box::new(LinearRegression::new()),
            (Algorithm::Nb, _) => Box::new(NaiveBayes::new()),
            (Algorithm::Kmeans, _) => Box::new(KMeans::new()),
            (Algorithm::Svc, _) => Box::new(LinearSVC::new()),
            (Algorithm::Dt, false) => Box::new(DecisionTreeClassifier::new()),
            (Algorithm::Dt, true) => Box::new(DecisionTreeRegressor::new()),
            (Algorithm::Rf, false) => Box::new(RandomForestClassifier::new()),
            (Algorithm::Rf, true) => Box::new(RandomForestRegressor::new()),
            (Algorithm::Gbt, false) => Box::new(GBTClassifier::new()),
            (Algorithm::Gbt, true) => Box::new(GBTRegressor::new()),
        }
    }

    /// The estimator's Spark name, for messages.
    pub(crate) fn spark_name(self, regression: bool) -> &'static str {
        match (self, regression) {
            (Algorithm::Lr, _) => "LogisticRegression",
            (Algorithm::Linreg, _) => "LinearRegression",
            (Algorithm::Nb, _) => "NaiveBayes",
            (Algorithm::Kmeans, _) => "KMeans",
            (Algorithm::Svc, _) => "LinearSVC",
            (Algorithm::Dt, false) => "DecisionTreeClassifier",
            (Algorithm::Dt, true) => "DecisionTreeRegressor",
            (Algorithm::Rf, false) => "RandomForestClassifier",
            (Algorithm::Rf, true) => "RandomForestRegressor",
            (Algorithm::Gbt, false) => "GBTClassifier",
            (Algorithm::Gbt, true) => "GBTRegressor",
        }
    }
}

/// The Spark param an estimator flag sets for `algo`, `None` when the flag does not apply
/// to it. The one table of which flag goes with which algorithm.
fn spark_param(flag: &str, algo: Algorithm) -> Option<&'static str> {
    use Algorithm::*;
    Some(match (flag, algo) {
        ("--family", Lr) => "family",
        ("--max-iter", Lr | Linreg | Svc | Kmeans | Gbt) => "maxIter",
        ("--reg-param", Lr | Linreg | Svc) => "regParam",
        ("--elastic-net-param", Lr | Linreg) => "elasticNetParam",
        ("--tol", Lr | Linreg | Svc | Kmeans) => "tol",
        ("--no-standardization", Lr | Linreg | Svc) => "standardization",
        ("--no-intercept", Lr | Linreg | Svc) => "fitIntercept",
        ("--num-trees", Rf) => "numTrees",
        // A GBT's number of trees is Spark's maxIter.
        ("--num-trees", Gbt) => "maxIter",
        ("--max-depth", Dt | Rf | Gbt) => "maxDepth",
        ("--max-bins", Dt | Rf | Gbt) => "maxBins",
        ("--min-instances-per-node", Dt | Rf | Gbt) => "minInstancesPerNode",
        ("--step-size", Gbt) => "stepSize",
        ("--subsampling-rate", Rf | Gbt) => "subsamplingRate",
        ("--feature-subset-strategy", Rf | Gbt) => "featureSubsetStrategy",
        ("--seed", Dt | Rf | Gbt | Kmeans) => "seed",
        ("--k", Kmeans) => "k",
        ("--model-type", Nb) => "modelType",
        ("--smoothing", Nb) => "smoothing",
        _ => return None,
    })
}

/// `--family`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum FamilyArg {
    Auto,
    Binomial,
    Multinomial,
}

/// `--handle-invalid`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum InvalidArg {
    Error,
    Skip,
    Keep,
}

/// `--impute`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ImputeArg {
    Mean,
    Median,
}

/// Options of `mlpipe train`. Estimator flags left out take Spark's defaults.
#[derive(clap::Args)]
pub struct Args {
    /// Training data (.csv or .parquet).
    #[arg(long)]
    pub input: PathBuf,
    /// Label column (numeric, or strings indexed by frequency); none for kmeans.
    #[arg(long)]
    pub label: Option<String>,
    /// Where to save the model.
    #[arg(long)]
    pub model: PathBuf,
    /// lr (default for a class label), linreg (default for a numeric label with
    /// non-integer values), nb, kmeans, dt, rf, gbt, svc; dt/rf/gbt fit a regressor for a
    /// numeric target.
    #[arg(long, value_enum)]
    pub algorithm: Option<Algorithm>,
    /// Numeric feature columns (default: every numeric column but label and weight).
    /// Given without --categorical, only these are used.
    #[arg(long, value_delimiter = ',')]
    pub features: Option<Vec<String>>,
    /// Categorical columns (default without --features: every string column but the
    /// label whose distinct values are at most half the rows and --max-categories).
    /// One-hot encoded, except for trees, which split on the category indices.
    #[arg(long, value_delimiter = ',')]
    pub categorical: Option<Vec<String>>,
    /// Columns never to use as features.
    #[arg(long, value_delimiter = ',')]
    pub exclude: Vec<String>,
    /// Most distinct values a string column may have to be one-hot encoded by default.
    #[arg(long, default_value_t = 1000)]
    pub max_categories: usize,
    /// Instance weight column.
    #[arg(long)]
    pub weight: Option<String>,
    /// lr: auto, binomial or multinomial.
    #[arg(long, value_enum)]
    pub family: Option<FamilyArg>,
    /// lr, linreg, svc, kmeans, gbt: iterations (for gbt, the number of trees).
    #[arg(long)]
    pub max_iter: Option<usize>,
    /// lr, linreg, svc: regularisation strength.
    #[arg(long)]
    pub reg_param: Option<f64>,
    /// lr, linreg: elastic-net mix (0 = L2, 1 = L1).
    #[arg(long)]
    pub elastic_net_param: Option<f64>,
    /// lr, linreg, svc, kmeans: convergence tolerance.
    #[arg(long)]
    pub tol: Option<f64>,
    /// lr, linreg, svc: do not standardise the features for the penalty.
    #[arg(long)]
    pub no_standardization: bool,
    /// lr, linreg, svc: fit no intercept.
    #[arg(long)]
    pub no_intercept: bool,
    /// rf: number of trees; gbt: number of boosting rounds (Spark's maxIter).
    #[arg(long)]
    pub num_trees: Option<usize>,
    /// dt, rf, gbt: maximum tree depth.
    #[arg(long)]
    pub max_depth: Option<usize>,
    /// dt, rf, gbt: bins per continuous feature.
    #[arg(long)]
    pub max_bins: Option<usize>,
    /// dt, rf, gbt: fewest rows in a child.
    #[arg(long)]
    pub min_instances_per_node: Option<usize>,
    /// gbt: learning rate in (0, 1].
    #[arg(long)]
    pub step_size: Option<f64>,
    /// rf, gbt: fraction of rows each tree sees.
    #[arg(long)]
    pub subsampling_rate: Option<f64>,
    /// rf, gbt: features tried per node (auto, all, onethird, sqrt, log2, n or a fraction).
    #[arg(long)]
    pub feature_subset_strategy: Option<String>,
    /// kmeans: number of clusters.
    #[arg(long)]
    pub k: Option<usize>,
    /// nb: multinomial, complement, bernoulli or gaussian.
    #[arg(long)]
    pub model_type: Option<String>,
    /// nb: additive smoothing.
    #[arg(long)]
    pub smoothing: Option<f64>,
    /// Nulls and NaN in the numeric features.
    #[arg(long, value_enum, default_value = "error")]
    pub handle_invalid: InvalidArg,
    /// Impute missing numeric values with the column mean or median.
    #[arg(long, value_enum)]
    pub impute: Option<ImputeArg>,
    /// Fraction of rows to train on; the rest are held out and evaluated.
    #[arg(long, default_value_t = 1.0)]
    pub train_fraction: f64,
    /// Seed of the train/test split (default 42), and of dt, rf, gbt and kmeans (default
    /// Spark's).
    #[arg(long)]
    pub seed: Option<i64>,
    /// Replace an existing saved model (only a saved model, an empty directory or nothing).
    #[arg(long)]
    pub overwrite: bool,
    /// Fit on a Spark 4 cluster through Spark Connect (`sc://host:port`): --input is then a
    /// path the cluster reads, and Spark saves the model at --model as the cluster sees it.
    /// The feature columns are chosen from the first rows. Needs the CLI's `connect` feature.
    #[arg(long)]
    pub remote: Option<String>,
    /// Write a JSON report here.
    #[arg(long)]
    pub report: Option<PathBuf>,
}

impl Args {
    /// The estimator flags given, with the JSON value each sets.
    fn estimator_flags(&self) -> Vec<(&'static str, Value)> {
        let mut v: Vec<(&'static str, Value)> = Vec::new();
        let mut put = |flag: &'static str, x: Option<Value>| {
            if let Some(x) = x {
                v.push((flag, x));
            }
        };
        put(
            "--family",
            self.family.map(|f| {
                json!(match f {
                    FamilyArg::Auto => "auto",
                    FamilyArg::Binomial => "binomial",
                    FamilyArg::Multinomial => "multinomial",
                })
            }),
        );
        put("--max-iter", self.max_iter.map(|x| json!(x)));
        put("--reg-param", self.reg_param.map(|x| json!(x)));
        put(
            "--elastic-net-param",
            self.elastic_net_param.map(|x| json!(x)),
        );
        put("--tol", self.tol.map(|x| json!(x)));
        put(
            "--no-standardization",
            self.no_standardization.then_some(Value::Bool(false)),
        );
        put(
            "--no-intercept",
            self.no_intercept.then_some(Value::Bool(false)),
        );
        put("--num-trees", self.num_trees.map(|x| json!(x)));
        put("--max-depth", self.max_depth.map(|x| json!(x)));
        put("--max-bins", self.max_bins.map(|x| json!(x)));
        put(
            "--min-instances-per-node",
            self.min_instances_per_node.map(|x| json!(x)),
        );
        put("--step-size", self.step_size.map(|x| json!(x)));
        put(
            "--subsampling-rate",
            self.subsampling_rate.map(|x| json!(x)),
        );
        put(
            "--feature-subset-strategy",
            self.feature_subset_strategy.as_ref().map(|x| json!(x)),
        );
        put("--seed", self.seed.map(|x| json!(x)));
        put("--k", self.k.map(|x| json!(x)));
        put("--model-type", self.model_type.as_ref().map(|x| json!(x)));
        put("--smoothing", self.smoothing.map(|x| json!(x)));
        v
    }
}

/// Refuses an estimator flag the algorithm does not take, naming those that do.
fn check_flags(flags: &[(&'static str, Value)], algo: Algorithm) -> Result<()> {
    for (flag, _) in flags {
        // --seed also seeds the train/test split, so every algorithm takes it.
        if *flag == "--seed" || spark_param(flag, algo).is_some() {
            continue;
        }
        let takers: Vec<&str> = Algorithm::ALL
            .iter()
            .filter(|a| spark_param(flag, **a).is_some())
            .map(|a| a.flag())
            .collect();
        return Err(usage(format!(
            "{flag} does not apply to --algorithm {}; it is for --algorithm {}",
            algo.flag(),
            takers.join(", ")
        )));
    }
    if algo == Algorithm::Gbt {
        let given = |f: &str| flags.iter().any(|(g, _)| *g == f);
        if given("--num-trees") && given("--max-iter") {
            return Err(usage(
                "--num-trees and --max-iter both set a GBT's number of trees (Spark's maxIter); pass one",
            ));
        }
    }
    Ok(())
}

/// Distinct non-null values of a string column, counting no further than `cap`.
fn distinct_strings(df: &DataFrame, col: &str, cap: usize) -> Result<usize> {
    let mut seen: HashSet<String> = HashSet::new();
    for a in df.column(col)?.chunks {
        let a = cast(&a, &DataType::Utf8)?;
        let s = a.as_string::<i32>();
        for v in s.iter().flatten() {
            if seen.len() > cap {
                return Ok(seen.len());
            }
            if !seen.contains(v) {
                seen.insert(v.to_string());
            }
        }
    }
    Ok(seen.len())
}

/// Checks that every column named by `flag` is in the input (in the CLI's terms).
fn require_flag_columns(df: &DataFrame, flag: &str, cols: &[String]) -> Result<()> {
    for c in cols {
        if df.schema().field_with_name(c).is_err() {
            return Err(usage(format!(
                "{flag}: column `{c}` is not in {}; its columns: {}",
                "the input",
                column_names(df).join(", ")
            )));
        }
    }
    Ok(())
}

pub fn run(a: Args) -> Result<()> {
    let remote = crate::remote::open(a.remote.as_deref(), &a.input)?;
    let mode = if remote.is_some() {
        mlpipe::persist::SaveMode::Overwrite // unused: Spark saves a remote model
    } else {
        save_mode(&a.model, a.overwrite)?
    };
    if !(a.train_fraction > 0.0 && a.train_fraction <= 1.0) {
        return Err(usage(format!(
            "--train-fraction must be in (0, 1], got {}",
            a.train_fraction
        )));
    }
    let flags = a.estimator_flags();
    if let Some(algo) = a.algorithm {
        check_flags(&flags, algo)?;
    }
    let t = Instant::now();
    let df = match &remote {
        Some(r) => r.sample()?,
        None => read(&a.input)?,
    };
    let read_s = t.elapsed().as_secs_f64();
    let s = df.schema().clone();
    let Task {
        algo,
        regression,
        string_label,
    } = task(a.algorithm, &df, a.label.as_deref())?;
    let label = a.label.clone().unwrap_or_default();
    check_flags(&flags, algo)?;
    let clustering = algo == Algorithm::Kmeans;
    require_flag_columns(&df, "--features", a.features.as_deref().unwrap_or(&[]))?;
    require_flag_columns(
        &df,
        "--categorical",
        a.categorical.as_deref().unwrap_or(&[]),
    )?;
    require_flag_columns(&df, "--exclude", &a.exclude)?;
    if let Some(w) = &a.weight {
        require_flag_columns(&df, "--weight", std::slice::from_ref(w))?;
    }
    let skip = |name: &String| {
        Some(name) == a.label.as_ref()
            || Some(name) == a.weight.as_ref()
            || a.exclude.contains(name)
    };
    let categorical: Vec<String> = match (&a.categorical, &a.features) {
        (Some(c), _) => c.clone(),
        // Only the named features.
        (None, Some(_)) => vec![],
        (None, None) => {
            let half = df.num_rows() / 2;
            let cap = a.max_categories.min(half.max(1));
            let mut kept = Vec::new();
            let mut left_out = Vec::new();
            for f in s
                .fields()
                .iter()
                .filter(|f| is_string(f.data_type()) && !skip(f.name()))
            {
                let n = distinct_strings(&df, f.name(), cap)?;
                if n > cap {
                    left_out.push(f.name().clone());
                } else {
                    kept.push(f.name().clone());
                }
            }
            if !left_out.is_empty() {
                println!(
                    "left out string column(s) with more than {cap} distinct values (an ID? the cap is half the rows or --max-categories): {}; name them in --categorical to use them, or --exclude them to silence this",
                    left_out.join(", ")
                );
            }
            kept
        }
    };
    let numeric: Vec<String> = match &a.features {
        Some(f) => f.clone(),
        None => s
            .fields()
            .iter()
            .filter(|f| schema::is_numeric(f.data_type()) && !skip(f.name()))
            .map(|f| f.name().clone())
            .collect(),
    };
    if numeric.is_empty() && categorical.is_empty() {
        return Err(usage(
            "no feature columns: pass --features and/or --categorical",
        ));
    }
    // A string label is indexed like Spark's StringIndexer (most frequent -> 0), on all rows
    // so that every class is known, and the fitted indexer goes first in the pipeline: the
    // model makes its own label column, as a PySpark churn pipeline does.
    let lr_label = if string_label {
        if s.field_with_name("label").is_err() {
            "label".to_string()
        } else {
            format!("{label}_indexed")
        }
    } else {
        label.clone()
    };
    let mut pipeline = Pipeline::new();
    let mut label_names = None;
    if string_label && remote.is_some() {
        // On the cluster, the label indexer is fitted there, on every row.
        pipeline = pipeline.with_estimator(
            StringIndexer::new()
                .with_input_col(&label)
                .with_output_col(&lr_label),
        );
    } else if string_label {
        let idx = StringIndexer::new()
            .with_input_col(&label)
            .with_output_col(&lr_label)
            .fit(&df.select([&label])?)?;
        let names = idx.labels()[0].clone();
        println!(
            "label mapping: {}",
            names
                .iter()
                .enumerate()
                .map(|(i, l)| format!("{l} -> {i}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        label_names = Some(names);
        pipeline = pipeline.with_transformer(idx);
    }
    if !regression && !clustering {
        let classes = match &label_names {
            Some(n) => n.len(),
            None if string_label => distinct_strings(&df, &label, usize::MAX)?,
            None => numeric_label_stats(&df, &label)?.0,
        };
        if classes > 2 && matches!(algo, Algorithm::Gbt | Algorithm::Svc) {
            return Err(usage(format!(
                "--algorithm {} classifies two classes (Spark's {}); the label `{label}` has {classes}: use lr, nb, dt or rf",
                algo.flag(),
                algo.spark_name(false)
            )));
        }
        if classes > 2 {
            let what = match (algo, a.family) {
                (Algorithm::Lr, Some(FamilyArg::Binomial)) => {
                    "binomial logistic regression".to_string()
                }
                (Algorithm::Lr, _) => "multinomial logistic regression".to_string(),
                _ => format!("multiclass {}", algo.spark_name(false)),
            };
            note_classes(&df, &label, label_names.as_deref(), &what)?;
        }
    }
    // Trees split on category indices (the assembler keeps them nominal); the others take
    // one-hot vectors.
    let one_hot = !matches!(algo, Algorithm::Dt | Algorithm::Rf | Algorithm::Gbt);
    let mut assembled: Vec<String> = Vec::new();
    if !categorical.is_empty() {
        let c: Vec<&str> = categorical.iter().map(|s| s.as_str()).collect();
        let idx: Vec<String> = categorical.iter().map(|c| format!("{c}_idx")).collect();
        let vec: Vec<String> = categorical.iter().map(|c| format!("{c}_vec")).collect();
        let idx_r: Vec<&str> = idx.iter().map(|s| s.as_str()).collect();
        let vec_r: Vec<&str> = vec.iter().map(|s| s.as_str()).collect();
        pipeline = pipeline.with_estimator(
            StringIndexer::new()
                .with_input_cols(&c)
                .with_output_cols(&idx_r)
                .with_handle_invalid(HandleInvalid::Keep),
        );
        if one_hot {
            pipeline = pipeline.with_estimator(
                OneHotEncoder::new()
                    .with_input_cols(&idx_r)
                    .with_output_cols(&vec_r)
                    .with_handle_invalid(HandleInvalid::Keep),
            );
            assembled.extend(vec);
        } else {
            assembled.extend(idx);
        }
    }
    let mut nums = numeric.clone();
    if let Some(strategy) = a.impute {
        let out: Vec<String> = numeric.iter().map(|c| format!("{c}_imputed")).collect();
        let i_r: Vec<&str> = numeric.iter().map(|s| s.as_str()).collect();
        let o_r: Vec<&str> = out.iter().map(|s| s.as_str()).collect();
        pipeline = pipeline.with_estimator(
            Imputer::new()
                .with_input_cols(&i_r)
                .with_output_cols(&o_r)
                .with_strategy(match strategy {
                    ImputeArg::Mean => ImputerStrategy::Mean,
                    ImputeArg::Median => ImputerStrategy::Median,
                }),
        );
        nums = out;
    }
    assembled.extend(nums);
    let a_r: Vec<&str> = assembled.iter().map(|s| s.as_str()).collect();
    let hi = match a.handle_invalid {
        InvalidArg::Error => HandleInvalid::Error,
        InvalidArg::Skip => HandleInvalid::Skip,
        InvalidArg::Keep => HandleInvalid::Keep,
    };
    let mut estimator = algo.estimator(regression);
    if !clustering {
        estimator.set_param_json("labelCol", json!(lr_label))?;
    }
    if let Some(w) = &a.weight {
        estimator.set_param_json("weightCol", json!(w))?;
    }
    for (flag, value) in &flags {
        if let Some(name) = spark_param(flag, algo) {
            estimator.set_param_json(name, value.clone())?;
        }
    }
    pipeline = pipeline
        .with_transformer(
            VectorAssembler::new()
                .with_input_cols(&a_r)
                .with_output_col("features")
                .with_handle_invalid(hi),
        )
        .with_stage(PipelineStage::Estimator(estimator));
    if let Some(names) = &label_names {
        let n: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
        pipeline = pipeline.with_transformer(
            IndexToString::new()
                .with_input_col("prediction")
                .with_output_col("predictedLabel")
                .with_labels(&n),
        );
    }
    // Keep only the columns the pipeline reads, and let the unsplit data go as soon as the
    // split exists: peak memory is what one copy of the data needs.
    let mut used: Vec<&str> = categorical
        .iter()
        .chain(&numeric)
        .map(|s| s.as_str())
        .collect();
    if !clustering {
        used.push(&label);
    }
    used.extend(a.weight.as_deref());
    if let Some(r) = remote {
        return crate::remote::train(
            r,
            crate::remote::TrainJob {
                pipeline,
                columns: used.iter().map(|c| c.to_string()).collect(),
                label: (!clustering).then(|| lr_label.clone()),
                algorithm: algo.spark_name(regression),
                regression,
                clustering,
                train_fraction: a.train_fraction,
                seed: a.seed.unwrap_or(42),
                model: a.model.to_string_lossy().into_owned(),
                overwrite: a.overwrite,
                report: a.report.clone(),
            },
        );
    }
    let mut df = {
        let all = df;
        all.select(&used)?
    };
    if matches!(a.handle_invalid, InvalidArg::Skip) && a.impute.is_none() {
        // Drop the rows the assembler would skip once, before the split, so that neither
        // the fit nor the scoring copies the data again to drop them.
        let n: Vec<&str> = numeric.iter().map(|s| s.as_str()).collect();
        df = df.drop_invalid(&n)?;
    } else if matches!(a.handle_invalid, InvalidArg::Error) && a.impute.is_none() {
        check_no_nulls(&df, &numeric)?;
    }
    let total_rows = df.num_rows();
    let (train, test) = if a.train_fraction < 1.0 {
        let seed = a.seed.unwrap_or(42);
        let mut parts = df.random_split(&[a.train_fraction, 1.0 - a.train_fraction], seed)?;
        drop(df);
        let test = parts.pop();
        (parts.remove(0), test)
    } else {
        (df, None)
    };
    let t = Instant::now();
    let fitted = pipeline.fit(&train)?;
    let fit_s = t.elapsed().as_secs_f64();
    let (pred_at, pred) = last_predictor(&fitted)
        .ok_or_else(|| Error::Internal("train: the fitted pipeline has no predictor".into()))?;
    let scores = |d: &DataFrame| -> Result<Value> {
        let scored = fitted.transform(d)?;
        let mut m = Map::new();
        // logLoss needs probabilities (a LinearSVC has none).
        for n in pred
            .kind
            .report_metrics()
            .iter()
            .filter(|n| **n != "logLoss" || pred.probability_col.is_some())
        {
            m.insert(
                n.to_string(),
                json!(metric_value(
                    &scored,
                    &pred,
                    &lr_label,
                    a.weight.as_deref(),
                    n
                )?),
            );
        }
        Ok(Value::Object(m))
    };
    let mut metrics = Map::new();
    let train_rows = train.num_rows();
    metrics.insert("train".into(), scores(&train)?);
    drop(train);
    if let Some(test) = &test {
        metrics.insert("test".into(), scores(test)?);
    }
    save(&fitted, &a.model, mode)?;
    let names = pred
        .feature_names
        .clone()
        .or_else(|| {
            let all = crate::model_kind::stages(&fitted);
            crate::inspect::feature_names(&all[..pred_at], &pred.features_col)
        })
        .unwrap_or_default();
    let fitted_values = (pred.fitted)(&names);
    let summary = pred.fit_summary.clone().unwrap_or(Value::Null);
    let report = json!({
        "rows": total_rows,
        "train_rows": train_rows,
        "test_rows": test.as_ref().map_or(0, |t| t.num_rows()),
        "features": names,
        "read_s": read_s,
        "fit_s": fit_s,
        "total_iterations": summary["totalIterations"],
        "final_objective": summary["finalObjective"],
        "converged": pred.converged,
        "intercept": fitted_values.get("intercept").or(fitted_values.get("interceptVector")),
        "coefficients": fitted_values.get("coefficients").or(fitted_values.get("coefficientMatrix")),
        "algorithm": algo.spark_name(regression),
        "fitted": fitted_values,
        "metrics": metrics,
    });
    let iterations = match summary["totalIterations"].as_u64() {
        Some(n) => format!(" ({n} iterations)"),
        None => String::new(),
    };
    println!(
        "trained a {} on {} rows, {} features, in {:.3} s{iterations}; model saved to {}",
        algo.spark_name(regression),
        train_rows,
        pred.num_features,
        fit_s,
        a.model.display()
    );
    if pred.converged == Some(false) {
        println!(
            "warning: {} stopped at --max-iter {} without converging; raise --max-iter (or --tol)",
            algo.spark_name(regression),
            a.max_iter.unwrap_or(100)
        );
    }
    println!("metrics: {}", report["metrics"]);
    if let Some(r) = &a.report {
        write_report(r, &report)?;
    }
    Ok(())
}

/// What `--algorithm` and the label ask for: the algorithm, whether it fits a numeric
/// target, and whether the label holds strings (classes to index).
pub(crate) struct Task {
    pub algo: Algorithm,
    pub regression: bool,
    pub string_label: bool,
}

/// Resolves `--algorithm` against the label, as `train` and `tune` both do: strings are
/// classes; a numeric label with more than two distinct values, not all integers, is a
/// numeric target (a linear regression by default; dt, rf and gbt fit their regressor).
/// Refuses a label for kmeans, no label for the others, linreg on strings and a
/// classifier on a numeric target, in the CLI's terms.
pub(crate) fn task(
    algorithm: Option<Algorithm>,
    df: &DataFrame,
    label: Option<&str>,
) -> Result<Task> {
    match (algorithm, label) {
        (Some(Algorithm::Kmeans), Some(l)) => {
            return Err(usage(format!(
                "--label `{l}`: --algorithm kmeans clusters without a label; drop --label (or --exclude the column)"
            )))
        }
        (Some(Algorithm::Kmeans), None) => {}
        (Some(algo), None) => {
            return Err(usage(format!(
                "--label is required for --algorithm {} (only kmeans takes none)",
                algo.flag()
            )))
        }
        (None, None) => {
            return Err(usage(
                "--label is required (only --algorithm kmeans, which clusters, takes none)",
            ))
        }
        _ => {}
    }
    let (string_label, continuous) = match label {
        Some(l) => {
            let (_, f) = schema::require_column(df.schema(), "train", l)?;
            if is_string(f.data_type()) {
                (true, None)
            } else {
                let (distinct, integers) = numeric_label_stats(df, l)?;
                (false, (distinct > 2 && !integers).then_some(distinct))
            }
        }
        None => (false, None),
    };
    let label = label.unwrap_or_default();
    let algo = match (algorithm, continuous) {
        (Some(algo), _) => algo,
        (None, Some(n)) => {
            println!(
                "the label `{label}` is numeric with {n} distinct non-integer values: fitting a linear regression (--algorithm linreg; pass --algorithm dt, rf or gbt for trees)"
            );
            Algorithm::Linreg
        }
        (None, None) => Algorithm::Lr,
    };
    if algo == Algorithm::Linreg && string_label {
        return Err(usage(format!(
            "--algorithm linreg needs a numeric label; `{label}` holds strings (use lr, nb, dt, rf or gbt to classify)"
        )));
    }
    if let Some(n) = continuous {
        if !algo.has_regressor() {
            return Err(usage(format!(
                "--algorithm {} classifies, but the label `{label}` is numeric with {n} distinct non-integer values; use --algorithm linreg, dt, rf or gbt for a numeric target",
                algo.flag()
            )));
        }
    }
    let regression = algo == Algorithm::Linreg || continuous.is_some();
    if algorithm.is_some() && continuous.is_some() && algo != Algorithm::Linreg {
        println!(
            "the label `{label}` is numeric with non-integer values: fitting a {}",
            algo.spark_name(true)
        );
    }
    Ok(Task {
        algo,
        regression,
        string_label,
    })
}

/// A null in a feature would stop the assembler deep in the fit: say it in the CLI's terms.
fn check_no_nulls(df: &DataFrame, numeric: &[String]) -> Result<()> {
    for c in numeric {
        let col = df.column(c)?;
        let nulls: usize = col.chunks.iter().map(|a| a.null_count()).sum();
        if nulls > 0 {
            return Err(usage(format!(
                "feature column `{c}` has {nulls} null value(s); pass --handle-invalid skip to drop those rows, or --impute mean|median to fill them"
            )));
        }
    }
    Ok(())
}

/// Distinct non-null values of a numeric label, and whether all are integers.
pub(crate) fn numeric_label_stats(df: &DataFrame, col: &str) -> Result<(usize, bool)> {
    let mut seen = HashSet::new();
    let mut integers = true;
    for a in df.column(col)?.chunks {
        let a = cast(&a, &DataType::Float64)?;
        for v in a
            .as_primitive::<arrow::datatypes::Float64Type>()
            .iter()
            .flatten()
        {
            integers &= v.fract() == 0.0;
            seen.insert(v.to_bits());
        }
    }
    Ok((seen.len(), integers))
}

/// For a label with more than two values: the family chosen, classes under 1% of the rows,
/// and string classes differing only by case.
fn note_classes(df: &DataFrame, label: &str, names: Option<&[String]>, what: &str) -> Result<()> {
    println!("the label `{label}` has more than two values: fitting a {what}");
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for a in df.column(label)?.chunks {
        let a = cast(&a, &DataType::Utf8)?;
        for v in a.as_string::<i32>().iter().flatten() {
            *counts.entry(v.to_string()).or_default() += 1;
        }
    }
    let rows = df.num_rows().max(1);
    let rare: Vec<String> = counts
        .iter()
        .filter(|(_, n)| (**n as f64) < 0.01 * rows as f64)
        .map(|(k, n)| format!("{k} ({n} rows)"))
        .collect();
    if !rare.is_empty() {
        println!("warning: classes under 1% of the rows: {}", rare.join(", "));
    }
    if let Some(names) = names {
        let mut by_lower: std::collections::BTreeMap<String, Vec<&str>> = Default::default();
        for n in names {
            by_lower.entry(n.to_lowercase()).or_default().push(n);
        }
        let dup: Vec<String> = by_lower
            .values()
            .filter(|v| v.len() > 1)
            .map(|v| v.join("/"))
            .collect();
        if !dup.is_empty() {
            println!(
                "warning: classes differing only by case: {} (fix the data if they are one class)",
                dup.join(", ")
            );
        }
    }
    Ok(())
}
