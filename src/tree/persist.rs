//! Spark ML's on-disk format for the six tree models, both ways.
//!
//! Reads what Spark 3.x and 4.x write: `metadata/`, `data/` (one node table: one row per
//! node for a decision tree, `(treeID, nodeData)` rows for an ensemble, any number of part
//! files, any row order) and, for ensembles, `treesMetadata/` (columns read by position:
//! Spark 4.x names them `_1/_2/_3`, Spark 3.x `treeID/metadata/weights`). Writes Spark
//! 4.3's layout with exactly the params each Spark class has.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Float64Builder, Int32Array, Int64Array, ListBuilder,
    RecordBatch, StringArray, StructArray,
};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Fields, Float64Type, Int64Type, Schema};
use serde_json::{json, Map, Value};

use super::models::*;
use super::node::{DecisionTree, NodeData, Split, TreeEnsemble};
use super::params::*;
use crate::error::{Error, Result};
use crate::param::{random_uid, Params};
use crate::persist::{format, read_metadata, Metadata, SparkPersist};
use crate::pipeline::Transformer;

const DTC: &str = "org.apache.spark.ml.classification.DecisionTreeClassificationModel";
const DTR: &str = "org.apache.spark.ml.regression.DecisionTreeRegressionModel";
const RFC: &str = "org.apache.spark.ml.classification.RandomForestClassificationModel";
const RFR: &str = "org.apache.spark.ml.regression.RandomForestRegressionModel";
const GBTC: &str = "org.apache.spark.ml.classification.GBTClassificationModel";
const GBTR: &str = "org.apache.spark.ml.regression.GBTRegressionModel";

/// Loads a saved tree model (any of the six) from `dir` whose metadata is `md`.
///
/// # Errors
/// [`Error::File`] naming the file for a missing or corrupt node table, ids that are not
/// 0..n−1, a tree count that disagrees with the metadata, or params that do not fit.
fn load_tree_model(dir: &Path, md: &Metadata) -> Result<Box<dyn Transformer>> {
    let short = md.class.rsplit('.').next().unwrap_or("");
    let uid = md.uid.clone();
    let mdir = dir.join("metadata");
    let int = |k: &str| -> Result<usize> {
        md.raw
            .get(k)
            .and_then(Value::as_u64)
            .map(|v| v as usize)
            .ok_or_else(|| Error::file(&mdir, format!("metadata lacks `{k}`")))
    };
    let num_features = int("numFeatures")?;
    Ok(match short {
        "DecisionTreeClassificationModel" => {
            let k = int("numClasses")?;
            let tree = single_tree(dir, num_features, k)?;
            Box::new(DecisionTreeClassificationModel::new(
                uid,
                md.params_as(dir)?,
                tree,
            )?)
        }
        "DecisionTreeRegressionModel" => {
            let tree = single_tree(dir, num_features, 0)?;
            Box::new(DecisionTreeRegressionModel::new(
                uid,
                md.params_as(dir)?,
                tree,
            )?)
        }
        "RandomForestClassificationModel" => {
            let k = int("numClasses")?;
            let e = ensemble(dir, num_features, k, Some(int("numTrees")?))?;
            Box::new(RandomForestClassificationModel::new(
                uid,
                md.params_as(dir)?,
                e,
            )?)
        }
        "RandomForestRegressionModel" => {
            let e = ensemble(dir, num_features, 0, Some(int("numTrees")?))?;
            Box::new(RandomForestRegressionModel::new(
                uid,
                md.params_as(dir)?,
                e,
            )?)
        }
        "GBTClassificationModel" => {
            let e = ensemble(dir, num_features, 0, Some(int("numTrees")?))?;
            // Spark's loader skips `impurity` (old models stored "gini", SPARK-25959).
            let mut md = md.clone();
            md.params.remove("impurity");
            Box::new(GBTClassificationModel::new(uid, md.params_as(dir)?, e)?)
        }
        "GBTRegressionModel" => {
            let e = ensemble(dir, num_features, 0, Some(int("numTrees")?))?;
            Box::new(GBTRegressionModel::new(uid, md.params_as(dir)?, e)?)
        }
        other => {
            return Err(Error::file(
                mdir,
                format!("{other} is not a tree model class"),
            ))
        }
    })
}

fn ints(s: &StructArray, name: &str, file: &Path) -> Result<Vec<i64>> {
    let c = s
        .column_by_name(name)
        .ok_or_else(|| Error::file(file, format!("node table lacks `{name}`")))?;
    let c = cast(c, &DataType::Int64)
        .map_err(|e| Error::file(file, format!("`{name}` is not an integer column: {e}")))?;
    let a = c.as_primitive::<Int64Type>();
    if a.null_count() > 0 {
        return Err(Error::file(file, format!("`{name}` has nulls")));
    }
    Ok(a.values().to_vec())
}

fn doubles(s: &StructArray, name: &str, file: &Path) -> Result<Vec<f64>> {
    let c = s
        .column_by_name(name)
        .ok_or_else(|| Error::file(file, format!("node table lacks `{name}`")))?;
    let c = cast(c, &DataType::Float64)
        .map_err(|e| Error::file(file, format!("`{name}` is not a double column: {e}")))?;
    let a = c.as_primitive::<Float64Type>();
    if a.null_count() > 0 {
        return Err(Error::file(file, format!("`{name}` has nulls")));
    }
    Ok(a.values().to_vec())
}

fn double_lists(s: &StructArray, name: &str, file: &Path) -> Result<Vec<Vec<f64>>> {
    let c = s
        .column_by_name(name)
        .ok_or_else(|| Error::file(file, format!("node table lacks `{name}`")))?;
    let l = c
        .as_list_opt::<i32>()
        .ok_or_else(|| Error::file(file, format!("`{name}` is not a list column")))?;
    (0..l.len())
        .map(|i| {
            if l.is_null(i) {
                return Ok(Vec::new());
            }
            let v = cast(&l.value(i), &DataType::Float64).map_err(|e| {
                Error::file(file, format!("`{name}` is not a list of doubles: {e}"))
            })?;
            Ok(v.as_primitive::<Float64Type>().values().to_vec())
        })
        .collect()
}

/// Node rows `(id, NodeData)` of a node-table struct.
fn node_rows(s: &StructArray, file: &Path) -> Result<Vec<(i64, NodeData)>> {
    let ids = ints(s, "id", file)?;
    let prediction = doubles(s, "prediction", file)?;
    let impurity = doubles(s, "impurity", file)?;
    let stats = double_lists(s, "impurityStats", file)?;
    // Spark < 3.0 wrote no rawCount: -1.
    let raw_count = match s.column_by_name("rawCount") {
        Some(_) => ints(s, "rawCount", file)?,
        None => vec![-1; s.len()],
    };
    let gain = doubles(s, "gain", file)?;
    let left = ints(s, "leftChild", file)?;
    let right = ints(s, "rightChild", file)?;
    let split = s
        .column_by_name("split")
        .and_then(|c| c.as_struct_opt())
        .ok_or_else(|| Error::file(file, "node table lacks the `split` struct"))?;
    let feature = ints(split, "featureIndex", file)?;
    let cats = double_lists(split, "leftCategoriesOrThreshold", file)?;
    let num_cats = ints(split, "numCategories", file)?;
    let mut out = Vec::with_capacity(ids.len());
    for (i, stats) in stats.into_iter().enumerate() {
        let split = if left[i] == -1 {
            None
        } else if num_cats[i] == -1 {
            let t = cats[i].first().copied().ok_or_else(|| {
                Error::file(
                    file,
                    format!("node {}: continuous split without a threshold", ids[i]),
                )
            })?;
            Some(Split::continuous(to_usize(feature[i], ids[i], file)?, t))
        } else {
            Some(Split::categorical(
                to_usize(feature[i], ids[i], file)?,
                cats[i].clone(),
                to_usize(num_cats[i], ids[i], file)?,
            ))
        };
        let to_i32 = |v: i64| i32::try_from(v).unwrap_or(i32::MIN);
        out.push((
            ids[i],
            NodeData {
                prediction: prediction[i],
                impurity: impurity[i],
                impurity_stats: stats,
                raw_count: raw_count[i],
                gain: gain[i],
                left_child: to_i32(left[i]),
                right_child: to_i32(right[i]),
                split,
            },
        ));
    }
    Ok(out)
}

fn to_usize(v: i64, id: i64, file: &Path) -> Result<usize> {
    usize::try_from(v).map_err(|_| Error::file(file, format!("node {id}: negative index {v}")))
}

/// Sorts node rows by id, checks ids are 0..n−1 and builds the tree.
fn build_tree(
    mut rows: Vec<(i64, NodeData)>,
    num_features: usize,
    num_classes: usize,
    file: &Path,
    what: &str,
) -> Result<DecisionTree> {
    rows.sort_by_key(|(id, _)| *id);
    if let Some((i, (id, _))) = rows
        .iter()
        .enumerate()
        .find(|(i, (id, _))| *id != *i as i64)
    {
        return Err(Error::file(
            file,
            format!(
                "{what}: node ids are not 0..{}: position {i} holds id {id}",
                rows.len()
            ),
        ));
    }
    let nodes = rows.into_iter().map(|(_, n)| n).collect();
    DecisionTree::from_nodes(nodes, num_features, num_classes)
        .map_err(|e| Error::file(file, format!("{what}: {e}")))
}

fn single_tree(dir: &Path, num_features: usize, num_classes: usize) -> Result<DecisionTree> {
    let ddir = dir.join("data");
    let mut rows = Vec::new();
    for (file, b) in format::read_parquet_dir(&ddir)? {
        rows.extend(node_rows(&StructArray::from(b), &file)?);
    }
    build_tree(rows, num_features, num_classes, &ddir, "tree")
}

fn ensemble(
    dir: &Path,
    num_features: usize,
    num_classes: usize,
    num_trees: Option<usize>,
) -> Result<TreeEnsemble> {
    let ddir = dir.join("data");
    let mut by_tree: std::collections::BTreeMap<i64, Vec<(i64, NodeData)>> = Default::default();
    for (file, b) in format::read_parquet_dir(&ddir)? {
        let s = StructArray::from(b);
        let ids = ints(&s, "treeID", &file)?;
        let nodes = s
            .column_by_name("nodeData")
            .and_then(|c| c.as_struct_opt())
            .ok_or_else(|| Error::file(&file, "ensemble data lacks the `nodeData` struct"))?;
        for (t, row) in ids.into_iter().zip(node_rows(nodes, &file)?) {
            by_tree.entry(t).or_default().push(row);
        }
    }
    // Tree weights from treesMetadata, read by position (tree index, metadata, weight).
    let tdir = dir.join("treesMetadata");
    let mut weights: std::collections::BTreeMap<i64, f64> = Default::default();
    for (file, b) in format::read_parquet_dir(&tdir)? {
        if b.num_columns() < 3 {
            return Err(Error::file(
                &file,
                "treesMetadata needs 3 columns (tree, metadata, weight)",
            ));
        }
        let t = cast(b.column(0), &DataType::Int64)
            .map_err(|e| Error::file(&file, format!("tree index column: {e}")))?;
        let w = cast(b.column(2), &DataType::Float64)
            .map_err(|e| Error::file(&file, format!("weight column: {e}")))?;
        let (t, w) = (
            t.as_primitive::<Int64Type>(),
            w.as_primitive::<Float64Type>(),
        );
        for i in 0..b.num_rows() {
            weights.insert(t.value(i), w.value(i));
        }
    }
    let n = by_tree.len();
    if let Some(expected) = num_trees {
        if expected != n {
            return Err(Error::file(
                &ddir,
                format!("holds {n} trees but the metadata says numTrees = {expected}"),
            ));
        }
    }
    if weights.len() != n {
        return Err(Error::file(
            &tdir,
            format!("has {} tree weights for {n} trees", weights.len()),
        ));
    }
    let mut trees = Vec::with_capacity(n);
    let mut ws = Vec::with_capacity(n);
    for (i, (t, rows)) in by_tree.into_iter().enumerate() {
        if t != i as i64 {
            return Err(Error::file(
                &ddir,
                format!("tree ids are not 0..{n}: found {t}"),
            ));
        }
        trees.push(build_tree(
            rows,
            num_features,
            num_classes,
            &ddir,
            &format!("tree {t}"),
        )?);
        ws.push(weights[&t]);
    }
    TreeEnsemble::new(trees, ws, num_features, num_classes)
}

// ---------------------------------------------------------------------------------------
// Writing

fn list_field(name: &str) -> Field {
    Field::new(
        name,
        DataType::List(Arc::new(Field::new("element", DataType::Float64, false))),
        true,
    )
}

fn split_fields() -> Fields {
    Fields::from(vec![
        Field::new("featureIndex", DataType::Int32, false),
        list_field("leftCategoriesOrThreshold"),
        Field::new("numCategories", DataType::Int32, false),
    ])
}

fn node_fields() -> Fields {
    Fields::from(vec![
        Field::new("id", DataType::Int32, false),
        Field::new("prediction", DataType::Float64, false),
        Field::new("impurity", DataType::Float64, false),
        list_field("impurityStats"),
        Field::new("rawCount", DataType::Int64, false),
        Field::new("gain", DataType::Float64, false),
        Field::new("leftChild", DataType::Int32, false),
        Field::new("rightChild", DataType::Int32, false),
        Field::new("split", DataType::Struct(split_fields()), true),
    ])
}

fn double_list_array(values: impl Iterator<Item = Vec<f64>>) -> ArrayRef {
    let mut b = ListBuilder::new(Float64Builder::new()).with_field(Arc::new(Field::new(
        "element",
        DataType::Float64,
        false,
    )));
    for v in values {
        b.values().append_slice(&v);
        b.append(true);
    }
    Arc::new(b.finish())
}

/// The node table of `trees` in Spark's struct layout.
fn node_struct(trees: &[DecisionTree]) -> Result<StructArray> {
    let nodes: Vec<(usize, &NodeData)> = trees
        .iter()
        .flat_map(|t| t.nodes().iter().enumerate())
        .collect();
    let i32s = |f: &dyn Fn(usize, &NodeData) -> i64| -> Result<ArrayRef> {
        let v: std::result::Result<Vec<i32>, _> =
            nodes.iter().map(|(i, n)| i32::try_from(f(*i, n))).collect();
        let v = v.map_err(|_| Error::Internal("tree index out of int32 range".into()))?;
        Ok(Arc::new(Int32Array::from(v)))
    };
    let f64s = |f: &dyn Fn(&NodeData) -> f64| -> ArrayRef {
        Arc::new(Float64Array::from(
            nodes.iter().map(|(_, n)| f(n)).collect::<Vec<_>>(),
        ))
    };
    let split = StructArray::try_new(
        split_fields(),
        vec![
            i32s(&|_, n| n.split.as_ref().map_or(-1, |s| s.feature() as i64))?,
            double_list_array(nodes.iter().map(|(_, n)| match &n.split {
                None => Vec::new(),
                Some(Split::Continuous { threshold, .. }) => vec![*threshold],
                Some(Split::Categorical {
                    left_categories, ..
                }) => left_categories.clone(),
            })),
            i32s(&|_, n| match &n.split {
                Some(Split::Categorical { num_categories, .. }) => *num_categories as i64,
                _ => -1,
            })?,
        ],
        None,
    )
    .map_err(|e| Error::Internal(format!("tree split column: {e}")))?;
    StructArray::try_new(
        node_fields(),
        vec![
            i32s(&|i, _| i as i64)?,
            f64s(&|n| n.prediction),
            f64s(&|n| n.impurity),
            double_list_array(nodes.iter().map(|(_, n)| n.impurity_stats.clone())),
            Arc::new(Int64Array::from(
                nodes.iter().map(|(_, n)| n.raw_count).collect::<Vec<_>>(),
            )),
            f64s(&|n| n.gain),
            i32s(&|_, n| n.left_child as i64)?,
            i32s(&|_, n| n.right_child as i64)?,
            Arc::new(split),
        ],
        None,
    )
    .map_err(|e| Error::Internal(format!("tree node table: {e}")))
}

/// Spark's SQL schema JSON of a node struct (for the Parquet row-metadata footer).
fn node_sql_type() -> Value {
    let list = json!({"type": "array", "elementType": "double", "containsNull": false});
    let f = |name: &str, t: Value, nullable: bool| json!({"name": name, "type": t, "nullable": nullable, "metadata": {}});
    json!({"type": "struct", "fields": [
        f("id", json!("integer"), false),
        f("prediction", json!("double"), false),
        f("impurity", json!("double"), false),
        f("impurityStats", list.clone(), true),
        f("rawCount", json!("long"), false),
        f("gain", json!("double"), false),
        f("leftChild", json!("integer"), false),
        f("rightChild", json!("integer"), false),
        f("split", json!({"type": "struct", "fields": [
            f("featureIndex", json!("integer"), false),
            f("leftCategoriesOrThreshold", list, true),
            f("numCategories", json!("integer"), false),
        ]}), true),
    ]})
}

/// Writes the node/tree table `batch` as the Parquet part of `dir` (Spark 4.3's layout).
fn write_parquet(dir: &Path, batch: &RecordBatch, sql_schema: Value) -> Result<()> {
    format::write_parquet(dir, batch, sql_schema, format::SPARK_VERSION)
}

/// Spark's metadata JSON stamped with the 4.x version (whose readers expect the 4.x
/// `treesMetadata` columns), plus the extra top-level keys.
fn metadata_json(
    class: &str,
    uid: &str,
    params: Value,
    defaults: Value,
    extra: &[(&str, Value)],
) -> Value {
    let mut md = format::metadata_json(class, uid, params, defaults, format::SPARK_VERSION);
    for (k, v) in extra {
        md[*k] = v.clone();
    }
    md
}

fn write_single(dir: &Path, md: Value, tree: &DecisionTree) -> Result<()> {
    format::write_metadata_json(dir, &md)?;
    let s = node_struct(std::slice::from_ref(tree))?;
    write_parquet(&dir.join("data"), &RecordBatch::from(s), node_sql_type())
}

/// Keeps only the keys `tree_defaults` has (the per-tree class's params).
fn restrict(v: &Value, tree_defaults: &Value) -> Value {
    match (v, tree_defaults) {
        (Value::Object(m), Value::Object(keys)) => Value::Object(
            m.iter()
                .filter(|(k, _)| keys.contains_key(*k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<Map<_, _>>(),
        ),
        _ => Value::Object(Map::new()),
    }
}

#[allow(clippy::too_many_arguments)]
fn write_ensemble(
    dir: &Path,
    md: Value,
    e: &TreeEnsemble,
    tree_class: &str,
    tree_uid_prefix: &str,
    params: Value,
    defaults: Value,
    tree_defaults: Value,
) -> Result<()> {
    format::write_metadata_json(dir, &md)?;
    // data: (treeID, nodeData)
    let tree_ids: Vec<i32> = e
        .trees
        .iter()
        .enumerate()
        .flat_map(|(t, tree)| std::iter::repeat_n(t as i32, tree.num_nodes()))
        .collect();
    let nodes = node_struct(&e.trees)?;
    let schema = Arc::new(Schema::new(vec![
        Field::new("treeID", DataType::Int32, false),
        Field::new("nodeData", DataType::Struct(node_fields()), true),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![Arc::new(Int32Array::from(tree_ids)), Arc::new(nodes)],
    )
    .map_err(|e| Error::Internal(format!("ensemble node table: {e}")))?;
    let sql = json!({"type": "struct", "fields": [
        {"name": "treeID", "type": "integer", "nullable": false, "metadata": {}},
        {"name": "nodeData", "type": node_sql_type(), "nullable": true, "metadata": {}},
    ]});
    write_parquet(&dir.join("data"), &batch, sql)?;
    // treesMetadata: (_1 tree index, _2 tree metadata JSON, _3 weight)
    let tree_params = restrict(&params, &tree_defaults);
    let tree_param_defaults = restrict(&defaults, &tree_defaults);
    let metas: Vec<String> = (0..e.trees.len())
        .map(|_| {
            metadata_json(
                tree_class,
                &random_uid(tree_uid_prefix),
                tree_params.clone(),
                tree_param_defaults.clone(),
                &[],
            )
            .to_string()
        })
        .collect();
    let schema = Arc::new(Schema::new(vec![
        Field::new("_1", DataType::Int32, false),
        Field::new("_2", DataType::Utf8, true),
        Field::new("_3", DataType::Float64, false),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int32Array::from_iter_values(0..e.trees.len() as i32)),
            Arc::new(StringArray::from(metas)),
            Arc::new(Float64Array::from(e.tree_weights.clone())),
        ],
    )
    .map_err(|e| Error::Internal(format!("treesMetadata: {e}")))?;
    let sql = json!({"type": "struct", "fields": [
        {"name": "_1", "type": "integer", "nullable": false, "metadata": {}},
        {"name": "_2", "type": "string", "nullable": true, "metadata": {}},
        {"name": "_3", "type": "double", "nullable": false, "metadata": {}},
    ]});
    write_parquet(&dir.join("treesMetadata"), &batch, sql)
}

impl SparkPersist for DecisionTreeClassificationModel {
    const SPARK_CLASS: &'static str = DTC;
    fn read_spark(dir: &Path, md: &Metadata) -> Result<Self> {
        read_as(dir, md)
    }
    fn write_spark(&self, dir: &Path) -> Result<()> {
        let md = metadata_json(
            DTC,
            self.uid(),
            self.params().to_json(),
            DecisionTreeClassifierParams::default().to_json(),
            &[
                ("numFeatures", json!(self.num_features())),
                ("numClasses", json!(self.num_classes())),
            ],
        );
        write_single(dir, md, self.tree())
    }
}

impl SparkPersist for DecisionTreeRegressionModel {
    const SPARK_CLASS: &'static str = DTR;
    fn read_spark(dir: &Path, md: &Metadata) -> Result<Self> {
        read_as(dir, md)
    }
    fn write_spark(&self, dir: &Path) -> Result<()> {
        let md = metadata_json(
            DTR,
            self.uid(),
            self.params().to_json(),
            DecisionTreeRegressorParams::default().to_json(),
            &[("numFeatures", json!(self.num_features()))],
        );
        write_single(dir, md, self.tree())
    }
}

macro_rules! persist_ensemble {
    ($ty:ident, $class:expr, $params:ty, $tree_class:expr, $prefix:expr, $tree_params:ty,
     |$m:ident| $extra:expr) => {
        impl SparkPersist for $ty {
            const SPARK_CLASS: &'static str = $class;
            fn read_spark(dir: &Path, md: &Metadata) -> Result<Self> {
                read_as(dir, md)
            }
            fn write_spark(&self, dir: &Path) -> Result<()> {
                let $m = self;
                let params = self.params().to_json();
                let defaults = <$params>::default().to_json();
                let md = metadata_json(
                    $class,
                    self.uid(),
                    params.clone(),
                    defaults.clone(),
                    &$extra,
                );
                let e = TreeEnsemble::new(
                    self.trees().to_vec(),
                    self.tree_weights().to_vec(),
                    self.num_features(),
                    0,
                )?;
                write_ensemble(
                    dir,
                    md,
                    &e,
                    $tree_class,
                    $prefix,
                    params,
                    defaults,
                    <$tree_params>::default().to_json(),
                )
            }
        }
    };
}

persist_ensemble!(
    RandomForestClassificationModel,
    RFC,
    RandomForestClassifierParams,
    DTC,
    "dtc",
    DecisionTreeClassifierParams,
    |m| [
        ("numFeatures", json!(m.num_features())),
        ("numClasses", json!(m.num_classes())),
        ("numTrees", json!(m.num_trees())),
    ]
);
persist_ensemble!(
    RandomForestRegressionModel,
    RFR,
    RandomForestRegressorParams,
    DTR,
    "dtr",
    DecisionTreeRegressorParams,
    |m| [
        ("numFeatures", json!(m.num_features())),
        ("numTrees", json!(m.num_trees()))
    ]
);
persist_ensemble!(
    GBTClassificationModel,
    GBTC,
    GBTClassifierParams,
    DTR,
    "dtr",
    DecisionTreeRegressorParams,
    |m| [
        ("numFeatures", json!(m.num_features())),
        ("numTrees", json!(m.num_trees()))
    ]
);
persist_ensemble!(
    GBTRegressionModel,
    GBTR,
    GBTRegressorParams,
    DTR,
    "dtr",
    DecisionTreeRegressorParams,
    |m| [
        ("numFeatures", json!(m.num_features())),
        ("numTrees", json!(m.num_trees()))
    ]
);

/// Reads the tree model in `dir` as the concrete type `T` (the registry asked for it by
/// class name, so any other type is a bug).
fn read_as<T: Transformer + Clone + 'static>(dir: &Path, md: &Metadata) -> Result<T> {
    let model = load_tree_model(dir, md)?;
    model.downcast_ref::<T>().cloned().ok_or_else(|| {
        Error::Internal(format!(
            "{} did not load as {}",
            md.class,
            std::any::type_name::<T>()
        ))
    })
}

/// Loads a saved tree model directory (any of the six classes), written by Spark 3.x/4.x
/// or mlpipe.
///
/// # Errors
/// As [`crate::persist::load_stage`].
pub fn load_tree(dir: impl AsRef<Path>) -> Result<Box<dyn Transformer>> {
    let dir = dir.as_ref();
    let md = read_metadata(dir)?;
    load_tree_model(dir, &md)
}
