//! [`RemoteFrame`]: a lazy Spark DataFrame (a Spark Connect relation).

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use spark_connect_proto as pb;

use super::session::{relation, Session};
use super::vector::{from_spark_batch, from_spark_schema};
use crate::error::{Error, Result};
use crate::frame::DataFrame;

/// A DataFrame that lives on the Spark cluster: a plan the server runs when a result is
/// asked for. Cheap to clone; building one (`select`, `random_split`, a remote transform)
/// sends nothing.
///
/// # Examples
/// ```no_run
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::connect::Session;
/// let spark = Session::connect("sc://127.0.0.1:15002")?;
/// let data = spark.read_parquet(["/data/churn.parquet"])?;
/// let [train, test] = data.random_split([0.8, 0.2], 42)?;
/// let local = test.select(["tenure", "churn"])?.collect()?; // a local mlpipe DataFrame
/// println!("{} test rows here, {} training rows there", local.num_rows(), train.count()?);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct RemoteFrame {
    session: Session,
    relation: pb::Relation,
}

impl RemoteFrame {
    pub(crate) fn new(session: Session, relation: pb::Relation) -> Self {
        Self { session, relation }
    }

    /// The session the frame belongs to.
    pub fn session(&self) -> &Session {
        &self.session
    }

    pub(crate) fn relation(&self) -> &pb::Relation {
        &self.relation
    }

    /// Runs the plan and brings every row here as a local [`DataFrame`] (one partition per
    /// Arrow batch the server sent; Spark ML vector columns become mlpipe vector columns).
    ///
    /// # Errors
    /// [`Error::Remote`] with Spark's message when the plan fails on the cluster (a missing
    /// file, a missing column) or the connection drops.
    pub fn collect(&self) -> Result<DataFrame> {
        let (schema, batches) = self.session.collect_relation(self.relation.clone())?;
        let batches: Vec<RecordBatch> = batches
            .iter()
            .enumerate()
            .map(|(i, b)| from_spark_batch(b, i))
            .collect::<Result<_>>()?;
        let schema: SchemaRef = match batches.first() {
            Some(b) => b.schema(),
            None => Arc::new(from_spark_schema(&schema)),
        };
        DataFrame::try_new(schema, batches)
    }

    /// The number of rows (Spark's `count()`, computed on the cluster).
    pub fn count(&self) -> Result<u64> {
        let count = expr(pb::expression::ExprType::UnresolvedFunction(
            pb::expression::UnresolvedFunction {
                function_name: "count".into(),
                arguments: vec![expr(pb::expression::ExprType::Literal(
                    pb::expression::Literal {
                        literal_type: Some(pb::expression::literal::LiteralType::Integer(1)),
                        ..Default::default()
                    },
                ))],
                ..Default::default()
            },
        ));
        let agg = pb::Aggregate {
            input: Some(Box::new(self.relation.clone())),
            group_type: pb::aggregate::GroupType::Groupby as i32,
            aggregate_expressions: vec![count],
            ..Default::default()
        };
        let (_, batches) = self
            .session
            .collect_relation(relation(pb::relation::RelType::Aggregate(Box::new(agg))))?;
        let n = batches
            .first()
            .filter(|b| b.num_columns() == 1 && b.num_rows() == 1)
            .and_then(|b| {
                arrow::array::AsArray::as_primitive_opt::<arrow::datatypes::Int64Type>(
                    b.column(0).as_ref(),
                )
                .map(|a| a.value(0))
            })
            .ok_or_else(|| {
                self.session
                    .error("count: the server's answer is not one count".into())
            })?;
        Ok(n.max(0) as u64)
    }

    /// The schema as mlpipe sees it (vector columns with their length), from the first row
    /// (a one-row Spark job).
    pub fn schema(&self) -> Result<SchemaRef> {
        Ok(self.limit(1).collect()?.schema().clone())
    }

    /// The first `n` rows (Spark's `limit`), still remote.
    pub fn limit(&self, n: i32) -> RemoteFrame {
        let limit = pb::Limit {
            input: Some(Box::new(self.relation.clone())),
            limit: n,
        };
        self.derive(pb::relation::RelType::Limit(Box::new(limit)))
    }

    /// The given columns, in that order (Spark's `select` by name).
    ///
    /// # Errors
    /// [`Error::Frame`] when no column is given. A missing column is reported by the server
    /// when the frame is used.
    pub fn select(&self, cols: impl IntoIterator<Item = impl AsRef<str>>) -> Result<RemoteFrame> {
        let expressions: Vec<pb::Expression> =
            cols.into_iter().map(|c| column(c.as_ref())).collect();
        if expressions.is_empty() {
            return Err(Error::Frame("select: give at least one column".into()));
        }
        let project = pb::Project {
            input: Some(Box::new(self.relation.clone())),
            expressions,
        };
        Ok(self.derive(pb::relation::RelType::Project(Box::new(project))))
    }

    /// Splits the rows at random in the proportions `weights` (normalised to sum to 1) with
    /// Spark's `randomSplit(weights, seed)`: the same seed on the same data gives the same
    /// split, on the cluster.
    ///
    /// # Errors
    /// [`Error::Frame`] for a negative weight or weights that sum to zero.
    pub fn random_split<const N: usize>(
        &self,
        weights: [f64; N],
        seed: i64,
    ) -> Result<[RemoteFrame; N]> {
        let v = self.random_split_vec(&weights, seed)?;
        v.try_into()
            .map_err(|_| Error::Internal("random_split made another number of frames".into()))
    }

    /// [`RemoteFrame::random_split`] with any number of weights.
    pub fn random_split_vec(&self, weights: &[f64], seed: i64) -> Result<Vec<RemoteFrame>> {
        if let Some(w) = weights.iter().find(|w| w.is_nan() || **w < 0.0) {
            return Err(Error::Frame(format!(
                "random_split: weights must be non-negative, got {w}"
            )));
        }
        let total: f64 = weights.iter().sum();
        if weights.is_empty() || total <= 0.0 || !total.is_finite() {
            return Err(Error::Frame(format!(
                "random_split: the weights must sum to a positive number, got {weights:?}"
            )));
        }
        // As PySpark's randomSplit: consecutive [lower, upper) bounds of the normalised
        // cumulative weights, each a deterministic-order Sample with the same seed.
        let mut bounds = vec![0.0];
        for w in weights {
            bounds.push(bounds[bounds.len() - 1] + w / total);
        }
        Ok(bounds
            .windows(2)
            .map(|b| {
                let sample = pb::Sample {
                    input: Some(Box::new(self.relation.clone())),
                    lower_bound: b[0],
                    upper_bound: b[1],
                    with_replacement: Some(false),
                    seed: Some(seed),
                    deterministic_order: true,
                };
                self.derive(pb::relation::RelType::Sample(Box::new(sample)))
            })
            .collect())
    }

    /// The rows where `condition` holds (Spark's `filter`), still remote.
    pub(crate) fn filter(&self, condition: pb::Expression) -> RemoteFrame {
        let f = pb::Filter {
            input: Some(Box::new(self.relation.clone())),
            condition: Some(condition),
        };
        self.derive(pb::relation::RelType::Filter(Box::new(f)))
    }

    /// Every column and `e` as the column `name` (`select("*", e.alias(name))`).
    pub(crate) fn with_column_expr(&self, e: pb::Expression, name: &str) -> RemoteFrame {
        let star = expr(pb::expression::ExprType::UnresolvedStar(
            pb::expression::UnresolvedStar::default(),
        ));
        let alias = expr(pb::expression::ExprType::Alias(Box::new(
            pb::expression::Alias {
                expr: Some(Box::new(e)),
                name: vec![name.to_string()],
                metadata: None,
            },
        )));
        let project = pb::Project {
            input: Some(Box::new(self.relation.clone())),
            expressions: vec![star, alias],
        };
        self.derive(pb::relation::RelType::Project(Box::new(project)))
    }

    /// Asks the cluster to cache the frame (PySpark's `persist(MEMORY_AND_DISK_DESER)`,
    /// what its validators do with each split); [`RemoteFrame::unpersist`] undoes it.
    pub(crate) fn persist(&self) -> Result<()> {
        let level = pb::StorageLevel {
            use_disk: true,
            use_memory: true,
            use_off_heap: false,
            deserialized: true,
            replication: 1,
        };
        self.session
            .analyze(pb::analyze_plan_request::Analyze::Persist(
                pb::analyze_plan_request::Persist {
                    relation: Some(self.relation.clone()),
                    storage_level: Some(level),
                },
            ))
            .map(|_| ())
    }

    /// Drops the frame's cached copy on the cluster (not waiting for it).
    pub(crate) fn unpersist(&self) -> Result<()> {
        self.session
            .analyze(pb::analyze_plan_request::Analyze::Unpersist(
                pb::analyze_plan_request::Unpersist {
                    relation: Some(self.relation.clone()),
                    blocking: Some(false),
                },
            ))
            .map(|_| ())
    }

    /// A frame over another relation of the same session.
    pub(crate) fn derive(&self, rel: pb::relation::RelType) -> RemoteFrame {
        RemoteFrame::new(self.session.clone(), relation(rel))
    }
}

pub(crate) fn expr(e: pb::expression::ExprType) -> pb::Expression {
    pb::Expression {
        common: None,
        expr_type: Some(e),
    }
}

/// A column by name, quoted so that dots and spaces are part of the name.
pub(crate) fn column(name: &str) -> pb::Expression {
    expr(pb::expression::ExprType::UnresolvedAttribute(
        pb::expression::UnresolvedAttribute {
            unparsed_identifier: format!("`{}`", name.replace('`', "``")),
            ..Default::default()
        },
    ))
}
