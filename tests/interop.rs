//! The interop bridges (features `polars`, `ndarray`, `linfa`): zero-copy round trips
//! (pointer equality), scoring from ndarray, linfa estimators in a pipeline, and the
//! errors for input they cannot take.

#[cfg(feature = "polars")]
mod polars_bridge {
    use mlpipe::arrow::array::AsArray;
    use mlpipe::arrow::datatypes::Float64Type;
    use mlpipe::polars::prelude::*;

    fn frame() -> polars::prelude::DataFrame {
        df!(
            "x" => [1.0f64, 2.0, 3.0],
            "n" => [1i32, 2, 3],
            "b" => [true, false, true],
            "s" => ["a", "b", "a"],
        )
        .unwrap()
    }

    #[test]
    fn from_polars_shares_the_buffers() {
        let pl = frame();
        let df = mlpipe::DataFrame::from_polars(&pl).unwrap();
        let x = df.column("x").unwrap();
        let ours = x.chunks[0].as_primitive::<Float64Type>().values().as_ptr();
        let theirs = pl
            .column("x")
            .unwrap()
            .f64()
            .unwrap()
            .cont_slice()
            .unwrap()
            .as_ptr();
        assert_eq!(ours, theirs, "from_polars copied the f64 column");
        let back = df.to_polars().unwrap();
        assert!(back.equals(&pl));
        let again = back
            .column("x")
            .unwrap()
            .f64()
            .unwrap()
            .cont_slice()
            .unwrap()
            .as_ptr();
        assert_eq!(again, theirs, "to_polars copied the f64 column");
    }

    #[test]
    fn chunks_become_partitions_and_back() {
        let mut a = frame();
        a.vstack_mut(&frame()).unwrap();
        let df = mlpipe::DataFrame::from_polars(&a).unwrap();
        assert_eq!((df.num_partitions(), df.num_rows()), (2, 6));
        let back = df.to_polars().unwrap();
        assert_eq!(back.column("n").unwrap().n_chunks(), 2);
        assert!(back.equals(&a));
    }

    #[cfg(feature = "ndarray")]
    #[test]
    fn vectors_map_to_arrays_without_copy() {
        let x = mlpipe::ndarray::array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]];
        let df = mlpipe::DataFrame::from_array2(x, None).unwrap();
        let pl = df.to_polars().unwrap();
        assert_eq!(
            pl.column("features").unwrap().dtype(),
            &DataType::Array(Box::new(DataType::Float64), 2)
        );
        let back = mlpipe::DataFrame::from_polars(&pl).unwrap();
        assert_eq!(
            back.to_array2("features").unwrap(),
            df.to_array2("features").unwrap()
        );
        let p0 = df.vector_views("features").unwrap()[0].as_ptr();
        let p1 = back.vector_views("features").unwrap()[0].as_ptr();
        assert_eq!(
            p0, p1,
            "the vector column was copied on the way through polars"
        );
    }

    /// The string bytes and the 16-byte views of a polars `String` column are the same
    /// memory in mlpipe and back in polars; an mlpipe `Utf8` column (as read from CSV)
    /// keeps its string bytes too, polars only building views over them.
    #[test]
    fn strings_share_their_buffers() {
        use mlpipe::arrow::array::{Array, StringArray};
        // Strings longer than 12 bytes live in a data buffer, not inside their views.
        let long = [
            "a string longer than twelve bytes",
            "another long string value",
            "short",
        ];
        let pl = df!("s" => long).unwrap();
        let pl_arr = |pl: &polars::prelude::DataFrame| {
            let ca = pl.column("s").unwrap().str().unwrap().clone();
            let a = ca.downcast_iter().next().unwrap().clone();
            (
                a.views().as_ptr() as usize,
                a.data_buffers()[0].as_ptr() as usize,
            )
        };
        let (pl_views, pl_data) = pl_arr(&pl);
        let df = mlpipe::DataFrame::from_polars(&pl).unwrap();
        let ours = df.column("s").unwrap().chunks[0].as_string_view().clone();
        assert_eq!(ours.len(), 3);
        assert_eq!(
            (
                ours.views().as_ptr() as usize,
                ours.data_buffers()[0].as_ptr() as usize
            ),
            (pl_views, pl_data),
            "from_polars copied the string column"
        );
        let back = df.to_polars().unwrap();
        assert_eq!(
            pl_arr(&back),
            (pl_views, pl_data),
            "to_polars copied the string column"
        );
        assert!(back.equals(&pl));

        let utf8 = StringArray::from(long.to_vec());
        let values = utf8.values().as_ptr() as usize;
        let schema = std::sync::Arc::new(mlpipe::arrow::datatypes::Schema::new(vec![
            mlpipe::arrow::datatypes::Field::new(
                "s",
                mlpipe::arrow::datatypes::DataType::Utf8,
                false,
            ),
        ]));
        let batch = mlpipe::arrow::array::RecordBatch::try_new(
            schema.clone(),
            vec![std::sync::Arc::new(utf8)],
        )
        .unwrap();
        let df = mlpipe::DataFrame::try_new(schema, vec![batch]).unwrap();
        let pl = df.to_polars().unwrap();
        assert_eq!(
            pl_arr(&pl).1,
            values,
            "to_polars copied the Utf8 column's bytes"
        );
        assert_eq!(
            pl.column("s").unwrap().str().unwrap().get(1),
            Some("another long string value")
        );
    }

    #[test]
    fn lazy_frames_collect_in() {
        let lf = frame().lazy().filter(col("x").gt(lit(1.5)));
        let df = mlpipe::DataFrame::from_polars_lazy(lf).unwrap();
        assert_eq!(df.num_rows(), 2);
    }

    #[test]
    fn unrepresentable_dtypes_name_the_column_and_the_cast() {
        let rows = [
            Series::new("".into(), &[1.0, 2.0]),
            Series::new("".into(), &[3.0]),
        ];
        let list = Series::new("v".into(), &rows);
        let pl = polars::prelude::DataFrame::new(2, vec![list.into_column()]).unwrap();
        let err = mlpipe::DataFrame::from_polars(&pl).unwrap_err();
        assert_eq!(
            err.to_string(),
            "DataFrame: from_polars: column `v` has polars dtype list[f64], which mlpipe cannot represent; a vector column must be Array(Float64, n): cast it with `col(\"v\").cast(DataType::Array(Box::new(DataType::Float64), n))` (a List needs the same length in every row)"
        );
        let pl = df!("n" => [1i32, 2])
            .unwrap()
            .lazy()
            .select([col("n").cast(DataType::Binary)])
            .collect()
            .unwrap();
        let err = mlpipe::DataFrame::from_polars(&pl).unwrap_err();
        assert_eq!(
            err.to_string(),
            "DataFrame: from_polars: column `n` has polars dtype binary, which mlpipe cannot represent; cast it to Float64, Int64, Boolean or String, or to Array(Float64, n) for a vector"
        );
    }

    /// A sparse vector column with a sparse row, a dense row, a null and an empty sparse
    /// row, in two partitions.
    fn sparse_frame() -> mlpipe::DataFrame {
        use mlpipe::arrow::array::RecordBatch;
        use mlpipe::arrow::datatypes::Schema;
        use mlpipe::frame::vector::{sparse_vector_field, SparseVectorBuilder};
        use std::sync::Arc;
        let schema = Arc::new(Schema::new(vec![sparse_vector_field("v", 4, true)]));
        let mut a = SparseVectorBuilder::new(4);
        a.push(&[1, 3], &[2.5, -1.0]).unwrap();
        a.push_dense(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        let mut b = SparseVectorBuilder::new(4);
        b.push_null();
        b.push(&[], &[]).unwrap();
        let parts = [a, b]
            .into_iter()
            .map(|builder| RecordBatch::try_new(schema.clone(), vec![builder.finish().unwrap()]))
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        mlpipe::DataFrame::try_new(schema, parts).unwrap()
    }

    fn rows(df: &mlpipe::DataFrame) -> Vec<Option<(bool, Vec<f64>)>> {
        use mlpipe::frame::vector::{At, VectorBlock};
        let mut out = Vec::new();
        for (p, chunk) in df.column("v").unwrap().chunks.iter().enumerate() {
            let at = At {
                stage: "test",
                column: "v",
                partition: p,
            };
            let block = VectorBlock::new(chunk.as_ref(), 4, at).unwrap();
            for r in 0..block.len() {
                out.push(
                    block
                        .row(r)
                        .map(|row| (row.as_dense().is_none(), row.to_vec())),
                );
            }
        }
        out
    }

    #[test]
    fn sparse_vectors_go_to_a_struct_column_and_back() {
        let df = sparse_frame();
        let pl = df.to_polars().unwrap();
        let DataType::Struct(fields) = pl.column("v").unwrap().dtype() else {
            panic!("a sparse vector column should be a polars struct");
        };
        let names: Vec<&str> = fields.iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, ["type", "size", "indices", "values"]);
        assert_eq!(pl.column("v").unwrap().n_chunks(), 2);
        assert_eq!(pl.column("v").unwrap().null_count(), 1);

        let back = mlpipe::DataFrame::from_polars(&pl).unwrap();
        let field = back.schema().field_with_name("v").unwrap().clone();
        assert!(mlpipe::frame::vector::is_sparse_vector_type(
            field.data_type()
        ));
        assert_eq!(mlpipe::frame::vector::field_vector_size(&field), Some(4));
        assert_eq!(back.num_partitions(), 2);
        // Each row keeps its layout (sparse or dense) and its values.
        let expected = vec![
            Some((true, vec![0.0, 2.5, 0.0, -1.0])),
            Some((false, vec![1.0, 2.0, 3.0, 4.0])),
            None,
            Some((true, vec![0.0; 4])),
        ];
        assert_eq!(rows(&df), expected);
        assert_eq!(rows(&back), expected);
        // The index and value buffers are shared, only the offsets were widened.
        let values_ptr = |df: &mlpipe::DataFrame| {
            df.column("v").unwrap().chunks[0]
                .as_struct()
                .column(3)
                .as_list::<i32>()
                .values()
                .as_primitive::<Float64Type>()
                .values()
                .as_ptr()
        };
        assert_eq!(values_ptr(&df), values_ptr(&back), "the values were copied");
    }

    #[test]
    fn a_struct_column_with_mixed_vector_sizes_is_refused() {
        let pl = sparse_frame().to_polars().unwrap();
        let other = {
            use mlpipe::arrow::array::RecordBatch;
            use mlpipe::arrow::datatypes::Schema;
            use mlpipe::frame::vector::{sparse_vector_field, SparseVectorBuilder};
            use std::sync::Arc;
            let schema = Arc::new(Schema::new(vec![sparse_vector_field("v", 3, true)]));
            let mut b = SparseVectorBuilder::new(3);
            b.push(&[0], &[1.0]).unwrap();
            let batch = RecordBatch::try_new(schema.clone(), vec![b.finish().unwrap()]).unwrap();
            mlpipe::DataFrame::try_new(schema, vec![batch])
                .unwrap()
                .to_polars()
                .unwrap()
        };
        let mut mixed = pl.clone();
        mixed.vstack_mut(&other).unwrap();
        let err = mlpipe::DataFrame::from_polars(&mixed).unwrap_err();
        assert_eq!(
            err.to_string(),
            "DataFrame: from_polars: column `v` mixes vector sizes: 4 (chunk 0, row 0) and 3 (chunk 2, row 0); every vector of a column must have the same size"
        );
    }

    #[test]
    fn a_struct_that_is_not_a_vector_is_refused_with_the_layout() {
        let pl = df!("a" => [1i32, 2], "b" => [1.0f64, 2.0])
            .unwrap()
            .lazy()
            .select([as_struct(vec![col("a"), col("b")]).alias("s")])
            .collect()
            .unwrap();
        let err = mlpipe::DataFrame::from_polars(&pl).unwrap_err();
        assert!(
            err.to_string().starts_with("DataFrame: from_polars: column `s` has polars dtype struct[2], which mlpipe cannot represent; unnest it into separate columns (`.unnest([\"s\"])`); a sparse vector is a struct of exactly `type` (Int8)"),
            "{err}"
        );
    }
}

#[cfg(feature = "ndarray")]
mod ndarray_bridge {
    use mlpipe::classification::LogisticRegression;
    use mlpipe::feature::VectorAssembler;
    use mlpipe::interop::ndarray::PredictArray;
    use mlpipe::ndarray::{array, Array1, Array2};
    use mlpipe::prelude::*;

    #[test]
    fn views_share_the_column_buffer() {
        let x = array![[1.0, 2.0], [3.0, 4.0]];
        let moved = x.clone();
        let ptr = moved.as_ptr();
        let df = DataFrame::from_array2(moved, None).unwrap();
        let v = df.vector_views("features").unwrap();
        assert_eq!(v[0].as_ptr(), ptr, "from_array2 copied a row-major array");
        assert_eq!(df.to_array2("features").unwrap(), x);
        let split = df.repartition(2).unwrap();
        assert_eq!(split.vector_views("features").unwrap().len(), 2);
        assert_eq!(split.to_array2("features").unwrap(), x);
        // A column-major array is copied once, into row-major order.
        let t: Array2<f64> = x.t().to_owned();
        let df = DataFrame::from_array2(t.reversed_axes(), None).unwrap();
        assert_eq!(df.to_array2("features").unwrap(), x);
    }

    #[test]
    fn label_length_mismatch_is_an_error() {
        let err =
            DataFrame::from_array2(Array2::zeros((3, 2)), Some(Array1::zeros(2))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "DataFrame: from_array2: the features have 3 rows but the label has 2 values; pass one label per row"
        );
    }

    #[test]
    fn predict_array_matches_transform() {
        let x = array![[0.0, 1.0], [1.0, 0.0], [0.2, 0.9], [0.9, 0.1], [0.4, 0.6]];
        let y = Array1::from(vec![1.0, 0.0, 1.0, 0.0, 1.0]);
        let df = DataFrame::from_array2(x.clone(), Some(y)).unwrap();
        let model = LogisticRegression::new()
            .with_reg_param(0.1)
            .fit(&df)
            .unwrap();
        let via_frame = model
            .transform(&df)
            .unwrap()
            .to_array1("prediction")
            .unwrap();
        assert_eq!(model.predict_array(x.view()).unwrap(), via_frame);
        assert_eq!(model.predict_row(x.row(1)).unwrap(), via_frame[1]);
        let err = model
            .predict_array(Array2::zeros((1, 3)).view())
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::FeatureCount {
                    expected: 2,
                    found: 3,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn predict_array_through_an_assembler_pipeline() {
        let x = array![[0.0, 1.0], [1.0, 0.0], [0.2, 0.9], [0.9, 0.1]];
        let y = Array1::from(vec![1.0, 0.0, 1.0, 0.0]);
        let cols: Vec<std::sync::Arc<dyn mlpipe::arrow::array::Array>> = x
            .columns()
            .into_iter()
            .map(|c| std::sync::Arc::new(mlpipe::arrow::array::Float64Array::from(c.to_vec())) as _)
            .collect();
        let batch = mlpipe::arrow::array::RecordBatch::try_from_iter([
            ("a", cols[0].clone()),
            ("b", cols[1].clone()),
            (
                "label",
                std::sync::Arc::new(mlpipe::arrow::array::Float64Array::from(y.to_vec())) as _,
            ),
        ])
        .unwrap();
        let df = DataFrame::from_batches(vec![batch]).unwrap();
        let pipe = Pipeline::new()
            .with_transformer(
                VectorAssembler::new()
                    .with_input_cols(["a", "b"])
                    .with_output_col("features"),
            )
            .with_estimator(LogisticRegression::new());
        let model = pipe.fit(&df).unwrap();
        let expected = model
            .transform(&df)
            .unwrap()
            .to_array1("prediction")
            .unwrap();
        assert_eq!(model.predict_array(x.view()).unwrap(), expected);
    }
}

#[cfg(feature = "linfa")]
mod linfa_bridge {
    use mlpipe::interop::linfa::{LinfaEstimator, LinfaSvmClassifierModel};
    use mlpipe::linfa::dataset::Records;
    use mlpipe::linfa_svm::Svm;
    use mlpipe::ndarray::{array, Array1};
    use mlpipe::persist::{load_stage, save, SaveMode};
    use mlpipe::prelude::*;

    fn xor() -> DataFrame {
        let x = array![
            [0.0, 0.0],
            [1.0, 1.0],
            [0.0, 1.0],
            [1.0, 0.0],
            [0.1, 0.1],
            [0.9, 0.1]
        ];
        let y = Array1::from(vec![0.0, 0.0, 1.0, 1.0, 0.0, 1.0]);
        DataFrame::from_array2(x, Some(y)).unwrap()
    }

    #[test]
    fn svm_with_a_kernel_runs_in_a_pipeline_and_saves() {
        let df = xor();
        let svm = LinfaEstimator::new(Svm::<f64, bool>::params().gaussian_kernel(0.5));
        let model = Pipeline::new().with_estimator(svm).fit(&df).unwrap();
        let out = model.transform(&df).unwrap();
        // XOR labels, which the Gaussian-kernel SVM fits exactly on its training points.
        assert_eq!(
            out.to_array1("prediction").unwrap(),
            df.to_array1("label").unwrap()
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pm");
        save(&model, &path, SaveMode::Overwrite).unwrap();
        let back = load_stage(&path).unwrap();
        let again = back.transform(&df).unwrap();
        assert_eq!(
            again.to_array1("prediction").unwrap(),
            out.to_array1("prediction").unwrap()
        );
        let stage = path.join("stages");
        assert!(std::fs::read_dir(&stage).unwrap().count() == 1);
        assert!(model.stage::<LinfaSvmClassifierModel>().is_ok());
    }

    #[test]
    fn dataset_round_trip() {
        let df = xor();
        let ds = df.to_linfa_dataset::<bool>("features", "label").unwrap();
        assert_eq!(ds.nsamples(), 6);
        let back = DataFrame::from_linfa_dataset(&ds).unwrap();
        assert_eq!(
            back.to_array2("features").unwrap(),
            df.to_array2("features").unwrap()
        );
        assert_eq!(
            back.to_array1("label").unwrap(),
            df.to_array1("label").unwrap()
        );
    }

    #[test]
    fn bad_labels_and_columns_are_errors() {
        let x = array![[0.0], [1.0]];
        let df = DataFrame::from_array2(x, Some(Array1::from(vec![0.0, 2.0]))).unwrap();
        let svm = LinfaEstimator::new(Svm::<f64, bool>::params().gaussian_kernel(0.5));
        let err = svm.fit(&df).unwrap_err();
        assert_eq!(
            err.to_string(),
            "LinfaEstimator: label 2 in column `label` (partition 0, row 1); this linfa algorithm needs labels that are 0 or 1 (a binary label)"
        );
        let err = svm.clone().with_features_col("feats").fit(&df).unwrap_err();
        assert!(matches!(err, Error::ColumnNotFound { .. }), "{err}");
        let model = svm.fit(&xor()).unwrap();
        let err = model.transform(&df).unwrap_err();
        assert!(
            matches!(
                err,
                Error::FeatureCount {
                    expected: 2,
                    found: 1,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn a_linfa_fit_error_names_the_stage() {
        // Negative C: linfa-svm's params check refuses it.
        let df = xor();
        let svm = LinfaEstimator::new(Svm::<f64, bool>::params().pos_neg_weights(-1.0, 1.0));
        let err = svm.fit(&df).unwrap_err().to_string();
        assert!(err.starts_with("Pipeline: LinfaEstimator linfa_"), "{err}");
        // linfa-svm's own message (SvmError::InvalidC), after the stage and its uid.
        assert!(
            err.ends_with(": the linfa algorithm failed to fit: Negative C value (-1.0, 1.0) (positive, negative samples"),
            "{err}"
        );
    }
}
