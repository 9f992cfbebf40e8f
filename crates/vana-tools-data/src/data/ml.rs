//! `train_model` and `predict`: smartcore models (random forest, logistic/linear regression,
//! k-NN, gradient boosting for regression) with a seeded split, honest test-set metrics,
//! permutation importances, and the fitted model saved in the workspace.

use super::source::{load, source_schema};
use super::table::{fmt_num, ColumnData, Table};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use smartcore::ensemble::random_forest_classifier::{
    RandomForestClassifier, RandomForestClassifierParameters,
};
use smartcore::ensemble::random_forest_regressor::{RandomForestRegressor, RandomForestRegressorParameters};
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::linear::linear_regression::{LinearRegression, LinearRegressionParameters};
use smartcore::linear::logistic_regression::{LogisticRegression, LogisticRegressionParameters};
use smartcore::metrics::distance::euclidian::Euclidian;
use smartcore::neighbors::knn_classifier::{KNNClassifier, KNNClassifierParameters};
use smartcore::neighbors::knn_regressor::{KNNRegressor, KNNRegressorParameters};
use smartcore::xgboost::{XGRegressor, XGRegressorParameters};
use vana_core::{ToolContext, ToolError, ToolOutput};
use vana_toolkit::schemars::JsonSchema;
use vana_toolkit::{SessionFiles, TypedTool};

/// Arguments of `train_model`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct TrainArgs {
    #[schemars(schema_with = "source_schema")]
    source: Value,
    /// The column to predict.
    target_column: String,
    /// The model (default random_forest; gradient_boosting is for regression).
    #[serde(default)]
    #[schemars(extend("enum" = ["random_forest", "logistic_regression", "linear_regression", "knn", "gradient_boosting"]))]
    model_type: Option<String>,
    /// Default: classification for text/boolean targets, regression for numbers.
    #[serde(default)]
    #[schemars(extend("enum" = ["classification", "regression"]))]
    task: Option<String>,
    /// The input columns (default: every other column).
    #[serde(default)]
    features: Option<Vec<String>>,
    /// Fraction held out for testing, 0.05 to 0.5 (default 0.2).
    #[serde(default)]
    test_size: Option<f64>,
    /// Split and forest seed (default 42).
    #[serde(default)]
    #[schemars(with = "Option<u64>")]
    seed: Option<f64>,
    /// Trees of a random forest or gradient boosting (default 100).
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    n_trees: Option<f64>,
    /// Neighbours of k-NN (default 5).
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    k: Option<f64>,
    /// Saved as models/<model_name>.json (default: from the target and model type).
    #[serde(default)]
    model_name: Option<String>,
}

/// Arguments of `predict`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct PredictArgs {
    /// The model's name as train_model returned it (or its file, models/<name>.json).
    model: String,
    /// Rows to predict: objects of feature column to value (missing numbers get the training mean).
    #[serde(default)]
    #[schemars(with = "Option<Vec<serde_json::Map<String, Value>>>")]
    rows: Option<Vec<Value>>,
    /// Or a dataset to predict every row of.
    #[serde(default)]
    #[schemars(schema_with = "source_schema")]
    source: Option<Value>,
}

type M = DenseMatrix<f64>;

/// Largest saved model `predict` reads (1000 trees of a deep forest stay far below it).
const MAX_MODEL_BYTES: u64 = 512 << 20;

/// A fitted smartcore model.
#[derive(Serialize, Deserialize)]
enum Fitted {
    RandomForestClassifier(RandomForestClassifier<f64, u32, M, Vec<u32>>),
    RandomForestRegressor(RandomForestRegressor<f64, f64, M, Vec<f64>>),
    LogisticRegression(LogisticRegression<f64, u32, M, Vec<u32>>),
    LinearRegression(LinearRegression<f64, f64, M, Vec<f64>>),
    KnnClassifier(KNNClassifier<f64, u32, M, Vec<u32>, Euclidian<f64>>),
    KnnRegressor(KNNRegressor<f64, f64, M, Vec<f64>, Euclidian<f64>>),
    GradientBoostingRegressor(XGRegressor<f64, f64, M, Vec<f64>>),
}

/// How one input column becomes model features.
#[derive(Clone, Debug, Serialize, Deserialize)]
enum Feature {
    /// A number (booleans as 0/1); missing values get the training mean.
    Numeric { name: String, fill: f64 },
    /// One 0/1 feature per training category; unknown or missing is all zeros.
    OneHot { name: String, categories: Vec<String> },
}

/// Everything `predict` needs, saved as JSON in the workspace.
#[derive(Serialize, Deserialize)]
struct SavedModel {
    format: u32,
    model_type: String,
    task: String,
    target: String,
    features: Vec<Feature>,
    /// Per expanded feature: (mean, std) used to standardise.
    scale: Vec<(f64, f64)>,
    /// Class labels (classification), index = class id.
    classes: Vec<String>,
    fitted: Fitted,
    metrics: Value,
}

fn bad(s: impl Into<String>) -> ToolError {
    ToolError::InvalidArgs(s.into())
}

fn failed(e: impl std::fmt::Display) -> ToolError {
    ToolError::Failed(format!("model fitting failed: {e}"))
}

/// SplitMix64: a small seeded generator for the split and the permutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}

impl Feature {
    fn name(&self) -> &str {
        match self {
            Feature::Numeric { name, .. } | Feature::OneHot { name, .. } => name,
        }
    }
    fn width(&self) -> usize {
        match self {
            Feature::Numeric { .. } => 1,
            Feature::OneHot { categories, .. } => categories.len(),
        }
    }
}

/// Features from the training rows of `t`.
fn plan_features(t: &Table, names: &[String], rows: &[usize]) -> Result<Vec<Feature>, ToolError> {
    names
        .iter()
        .map(|n| {
            let c = t.column(n).map_err(bad)?;
            Ok(match &c.data {
                ColumnData::Num(_) | ColumnData::Bool(_) => {
                    let vals: Vec<f64> = rows.iter().map(|&i| c.num_at(i)).filter(|x| !x.is_nan()).collect();
                    let fill = if vals.is_empty() { 0.0 } else { vals.iter().sum::<f64>() / vals.len() as f64 };
                    Feature::Numeric { name: n.clone(), fill }
                }
                ColumnData::Text(_) => {
                    let mut cats: Vec<String> = Vec::new();
                    for &i in rows {
                        if let Some(s) = c.text_at(i) {
                            if !cats.contains(&s) {
                                cats.push(s);
                                if cats.len() > 100 {
                                    return Err(bad(format!(
                                        "feature `{n}` has more than 100 categories; drop it from `features` or encode it first"
                                    )));
                                }
                            }
                        }
                    }
                    Feature::OneHot { name: n.clone(), categories: cats }
                }
            })
        })
        .collect()
}

/// Raw feature values of one row, from a lookup of the row's value by column name.
fn encode_row(
    features: &[Feature],
    get: &dyn Fn(&str) -> Value,
    out: &mut Vec<f64>,
) -> Result<(), ToolError> {
    for f in features {
        let v = get(f.name());
        match f {
            Feature::Numeric { name, fill } => out.push(match &v {
                Value::Null => *fill,
                Value::Bool(b) => *b as u8 as f64,
                Value::Number(n) => n.as_f64().unwrap_or(*fill),
                Value::String(s) => s
                    .trim()
                    .parse()
                    .map_err(|_| bad(format!("feature `{name}` must be a number, got \"{s}\"")))?,
                other => return Err(bad(format!("feature `{name}` must be a number, got {other}"))),
            }),
            Feature::OneHot { categories, .. } => {
                let s = match &v {
                    Value::String(s) => Some(s.clone()),
                    Value::Null => None,
                    Value::Number(n) => n.as_f64().map(fmt_num),
                    Value::Bool(b) => Some(if *b { "True".into() } else { "False".into() }),
                    other => Some(other.to_string()),
                };
                out.extend(categories.iter().map(|c| (Some(c) == s.as_ref()) as u8 as f64));
            }
        }
    }
    Ok(())
}

fn matrix(rows: &[Vec<f64>], scale: &[(f64, f64)]) -> Result<M, ToolError> {
    let scaled: Vec<Vec<f64>> =
        rows.iter().map(|r| r.iter().zip(scale).map(|(x, (m, s))| (x - m) / s).collect()).collect();
    M::from_2d_vec(&scaled).map_err(failed)
}

impl Fitted {
    fn predict(&self, x: &M) -> Result<Vec<f64>, ToolError> {
        let cls = |v: Vec<u32>| v.into_iter().map(|c| c as f64).collect();
        Ok(match self {
            Fitted::RandomForestClassifier(m) => cls(m.predict(x).map_err(failed)?),
            Fitted::LogisticRegression(m) => cls(m.predict(x).map_err(failed)?),
            Fitted::KnnClassifier(m) => cls(m.predict(x).map_err(failed)?),
            Fitted::RandomForestRegressor(m) => m.predict(x).map_err(failed)?,
            Fitted::LinearRegression(m) => m.predict(x).map_err(failed)?,
            Fitted::KnnRegressor(m) => m.predict(x).map_err(failed)?,
            Fitted::GradientBoostingRegressor(m) => m.predict(x).map_err(failed)?,
        })
    }
}

fn fit(
    model_type: &str,
    classify: bool,
    x: &M,
    y: &[f64],
    seed: u64,
    args: &TrainArgs,
) -> Result<Fitted, ToolError> {
    let n_trees = args.n_trees.unwrap_or(100.0).clamp(1.0, 1000.0);
    let k = args.k.unwrap_or(5.0).clamp(1.0, 1000.0) as usize;
    let yc: Vec<u32> = y.iter().map(|v| *v as u32).collect();
    let yr: Vec<f64> = y.to_vec();
    Ok(match (model_type, classify) {
        ("random_forest", true) => Fitted::RandomForestClassifier(
            RandomForestClassifier::fit(x, &yc, RandomForestClassifierParameters::default().with_n_trees(n_trees as u16).with_seed(seed)).map_err(failed)?,
        ),
        ("random_forest", false) => Fitted::RandomForestRegressor(
            RandomForestRegressor::fit(x, &yr, RandomForestRegressorParameters::default().with_n_trees(n_trees as usize).with_seed(seed)).map_err(failed)?,
        ),
        ("logistic_regression", true) => Fitted::LogisticRegression(LogisticRegression::fit(x, &yc, LogisticRegressionParameters::default()).map_err(failed)?),
        ("logistic_regression", false) => return Err(bad("logistic_regression is for classification; use linear_regression for a numeric target or set task = classification")),
        ("linear_regression", false) => Fitted::LinearRegression(LinearRegression::fit(x, &yr, LinearRegressionParameters::default()).map_err(failed)?),
        ("linear_regression", true) => return Err(bad("linear_regression is for regression; use logistic_regression for classification")),
        ("knn", true) => Fitted::KnnClassifier(KNNClassifier::fit(x, &yc, KNNClassifierParameters::default().with_k(k)).map_err(failed)?),
        ("knn", false) => Fitted::KnnRegressor(KNNRegressor::fit(x, &yr, KNNRegressorParameters::default().with_k(k)).map_err(failed)?),
        ("gradient_boosting", false) => Fitted::GradientBoostingRegressor(
            XGRegressor::fit(x, &yr, XGRegressorParameters::default().with_n_estimators(n_trees as usize)).map_err(failed)?,
        ),
        ("gradient_boosting", true) => return Err(bad("smartcore has gradient boosting for regression only; use random_forest or logistic_regression for classification")),
        (other, _) => return Err(bad(format!("unknown model_type `{other}`; use random_forest, logistic_regression, linear_regression, knn or gradient_boosting"))),
    })
}

/// Accuracy, per-class precision/recall/F1 and the confusion matrix (rows = actual).
fn classification_metrics(y: &[f64], p: &[f64], classes: &[String]) -> Value {
    let k = classes.len();
    let mut cm = vec![vec![0usize; k]; k];
    for (a, b) in y.iter().zip(p) {
        cm[*a as usize][*b as usize] += 1;
    }
    let correct: usize = (0..k).map(|i| cm[i][i]).sum();
    let per_class: Vec<Value> = (0..k)
        .map(|c| {
            let tp = cm[c][c] as f64;
            let predicted: usize = (0..k).map(|r| cm[r][c]).sum();
            let support: usize = cm[c].iter().sum();
            let precision = if predicted > 0 { tp / predicted as f64 } else { 0.0 };
            let recall = if support > 0 { tp / support as f64 } else { 0.0 };
            let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
            json!({"class": classes[c], "precision": precision, "recall": recall, "f1": f1, "support": support})
        })
        .collect();
    let macro_f1 = per_class.iter().map(|c| c["f1"].as_f64().unwrap_or(0.0)).sum::<f64>() / k.max(1) as f64;
    json!({
        "accuracy": correct as f64 / y.len().max(1) as f64,
        "macroF1": macro_f1,
        "perClass": per_class,
        "confusionMatrix": {"labels": classes, "rowsAreActual": true, "matrix": cm},
    })
}

/// R², MAE and RMSE.
fn regression_metrics(y: &[f64], p: &[f64]) -> Value {
    let n = y.len().max(1) as f64;
    let mean = y.iter().sum::<f64>() / n;
    let ss_res: f64 = y.iter().zip(p).map(|(a, b)| (a - b).powi(2)).sum();
    let ss_tot: f64 = y.iter().map(|a| (a - mean).powi(2)).sum();
    json!({
        "r2": if ss_tot > 0.0 { 1.0 - ss_res / ss_tot } else { f64::NAN },
        "mae": y.iter().zip(p).map(|(a, b)| (a - b).abs()).sum::<f64>() / n,
        "rmse": (ss_res / n).sqrt(),
    })
}

fn score(classify: bool, y: &[f64], p: &[f64]) -> f64 {
    if classify {
        y.iter().zip(p).filter(|(a, b)| a == b).count() as f64 / y.len().max(1) as f64
    } else {
        let mean = y.iter().sum::<f64>() / y.len().max(1) as f64;
        let ss_res: f64 = y.iter().zip(p).map(|(a, b)| (a - b).powi(2)).sum();
        let ss_tot: f64 = y.iter().map(|a| (a - mean).powi(2)).sum();
        1.0 - ss_res / ss_tot
    }
}

/// Trains a model on a dataset and saves it in the workspace.
pub struct TrainModel {
    ws: SessionFiles,
}

impl TrainModel {
    /// The tool over the session workspaces.
    pub fn new(ws: SessionFiles) -> Self {
        TrainModel { ws }
    }
}

fn train(ws: &SessionFiles, ctx: &ToolContext, args: &TrainArgs) -> Result<Value, ToolError> {
    let (t, from) = load(ws, ctx, &args.source)?;
    let target = args.target_column.as_str();
    let model_type = args.model_type.as_deref().unwrap_or("random_forest");
    let yc = t.column(target).map_err(bad)?;
    let classify = match args.task.as_deref() {
        Some("classification") => true,
        Some("regression") => false,
        Some(other) => {
            return Err(bad(format!("`task` must be classification or regression, got `{other}`")))
        }
        None => !matches!(yc.data, ColumnData::Num(_)) || model_type == "logistic_regression",
    };
    if !classify && yc.nums().is_none() {
        return Err(bad(format!(
            "target `{target}` is {} and not numeric; regression needs a numeric target",
            yc.dtype()
        )));
    }
    let features: Vec<String> = match &args.features {
        None => t.columns.iter().filter(|c| c.name != target).map(|c| c.name.clone()).collect(),
        Some(f) => f.clone(),
    };
    if features.is_empty() || features.iter().any(|f| f == target) {
        return Err(bad("`features` must name at least one column other than the target"));
    }
    let test_size = args.test_size.unwrap_or(0.2);
    if !(0.05..=0.5).contains(&test_size) {
        return Err(bad(format!("`test_size` must be between 0.05 and 0.5, got {test_size}")));
    }
    let seed = args.seed.unwrap_or(42.0) as u64;
    // Rows with a target value.
    let mut rows: Vec<usize> = (0..t.rows).filter(|&i| yc.text_at(i).is_some()).collect();
    if rows.len() < 10 {
        return Err(bad(format!("only {} rows have a `{target}` value; at least 10 are needed", rows.len())));
    }
    let mut rng = Rng(seed);
    rng.shuffle(&mut rows);
    let n_test = ((rows.len() as f64 * test_size).round() as usize).max(1);
    let (test_rows, train_rows) = rows.split_at(n_test);
    let plan = plan_features(&t, &features, train_rows)?;
    let mut classes: Vec<String> = Vec::new();
    let label = |i: usize, classes: &mut Vec<String>| -> f64 {
        if classify {
            let s = yc.text_at(i).unwrap_or_default();
            match classes.iter().position(|c| *c == s) {
                Some(p) => p as f64,
                None => {
                    classes.push(s);
                    (classes.len() - 1) as f64
                }
            }
        } else {
            yc.num_at(i)
        }
    };
    let encode = |rows: &[usize]| -> Result<Vec<Vec<f64>>, ToolError> {
        rows.iter()
            .map(|&i| {
                let mut r = Vec::new();
                encode_row(&plan, &|n| t.column(n).map(|c| c.json_at(i)).unwrap_or(Value::Null), &mut r)?;
                Ok(r)
            })
            .collect()
    };
    let xtr = encode(train_rows)?;
    let xte = encode(test_rows)?;
    let ytr: Vec<f64> = train_rows.iter().map(|&i| label(i, &mut classes)).collect();
    let yte: Vec<f64> = test_rows.iter().map(|&i| label(i, &mut classes)).collect();
    if classify && classes.len() < 2 {
        return Err(bad(format!("target `{target}` has a single class; classification needs at least two")));
    }
    if classify && classes.len() > 100 {
        return Err(bad(format!(
            "target `{target}` has {} classes; for a numeric target use task = regression",
            classes.len()
        )));
    }
    let width = xtr[0].len();
    let scale: Vec<(f64, f64)> = (0..width)
        .map(|j| {
            let n = xtr.len() as f64;
            let m = xtr.iter().map(|r| r[j]).sum::<f64>() / n;
            let s = (xtr.iter().map(|r| (r[j] - m).powi(2)).sum::<f64>() / n).sqrt();
            (m, if s > 0.0 { s } else { 1.0 })
        })
        .collect();
    let fitted = fit(model_type, classify, &matrix(&xtr, &scale)?, &ytr, seed, args)?;
    let pred = fitted.predict(&matrix(&xte, &scale)?)?;
    let mut metrics = if classify {
        classification_metrics(&yte, &pred, &classes)
    } else {
        regression_metrics(&yte, &pred)
    };
    let base = score(classify, &yte, &pred);
    // Permutation importance on the test set: how much the score drops when a feature is shuffled.
    let mut importances = Vec::new();
    let mut offset = 0;
    for f in &plan {
        let w = f.width();
        let mut drops = Vec::new();
        for rep in 0..5u64 {
            let mut perm: Vec<usize> = (0..xte.len()).collect();
            Rng(seed ^ (rep + 1).wrapping_mul(0x1234_5678_9ABC)).shuffle(&mut perm);
            let shuffled: Vec<Vec<f64>> = xte
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let mut r = r.clone();
                    r[offset..offset + w].copy_from_slice(&xte[perm[i]][offset..offset + w]);
                    r
                })
                .collect();
            let p = fitted.predict(&matrix(&shuffled, &scale)?)?;
            drops.push(base - score(classify, &yte, &p));
        }
        importances.push((f.name().to_string(), drops.iter().sum::<f64>() / drops.len() as f64));
        offset += w;
    }
    importances.sort_by(|a, b| b.1.total_cmp(&a.1));
    let name = match args.model_name.as_deref() {
        Some(n) => n.trim_end_matches(".json").to_string(),
        None => super::slug(&format!("{target}_{model_type}")),
    };
    let file = format!("models/{name}.json");
    metrics["testRows"] = json!(yte.len());
    metrics["trainRows"] = json!(ytr.len());
    let saved = SavedModel {
        format: 1,
        model_type: model_type.into(),
        task: if classify { "classification" } else { "regression" }.into(),
        target: target.into(),
        features: plan,
        scale,
        classes: classes.clone(),
        fitted,
        metrics: metrics.clone(),
    };
    let bytes =
        serde_json::to_vec(&saved).map_err(|e| ToolError::Failed(format!("cannot save the model: {e}")))?;
    let file = ws.write(ctx, &file, &bytes)?;
    Ok(json!({
        "source": from,
        "modelType": model_type,
        "task": saved.task,
        "target": target,
        "features": features,
        "classes": if classify { json!(classes) } else { Value::Null },
        "split": {"testSize": test_size, "seed": seed, "trainRows": ytr.len(), "testRows": yte.len()},
        "metrics": metrics,
        "featureImportances": {
            "method": "permutation importance on the test set (mean score drop over 5 shuffles)",
            "values": importances.iter().map(|(n, v)| json!({"feature": n, "importance": v})).collect::<Vec<_>>()
        },
        "model": file,
    }))
}

#[async_trait]
impl TypedTool for TrainModel {
    type Args = TrainArgs;

    fn name(&self) -> &'static str {
        "train_model"
    }
    fn description(&self) -> &'static str {
        "Train a classification or regression model (random_forest, logistic_regression, linear_regression, knn, \
         gradient_boosting for regression) with a seeded train/test split. Returns test-set metrics (accuracy, \
         precision/recall/F1 per class and confusion matrix; or R², MAE, RMSE) and permutation feature importances, \
         and saves the model under models/ in the workspace for `predict`."
    }
    async fn run(&self, args: TrainArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let ws = self.ws.clone();
        tokio::task::spawn_blocking(move || train(&ws, &ctx, &args).map(ToolOutput::json))
            .await
            .map_err(|e| ToolError::Failed(format!("training crashed: {e}")))?
    }
}

/// Applies a saved model to new rows.
pub struct Predict {
    ws: SessionFiles,
}

impl Predict {
    /// The tool over the session workspaces.
    pub fn new(ws: SessionFiles) -> Self {
        Predict { ws }
    }
}

fn predict(ws: &SessionFiles, ctx: &ToolContext, args: &PredictArgs) -> Result<Value, ToolError> {
    let name = args.model.as_str();
    let file = if name.contains('/') || name.ends_with(".json") {
        name.to_string()
    } else {
        format!("models/{name}.json")
    };
    let bytes = ws.read(ctx, &file, MAX_MODEL_BYTES).map_err(|e| match e {
        ToolError::InvalidArgs(e) => {
            bad(format!("cannot read model `{file}` ({e}); train_model returns the saved model's name"))
        }
        other => other,
    })?;
    let m: SavedModel = serde_json::from_slice(&bytes)
        .map_err(|e| bad(format!("`{file}` is not a model saved by train_model: {e}")))?;
    let rows: Vec<Value> = match (&args.rows, &args.source) {
        (Some(r), _) => r.clone(),
        (_, Some(source)) => {
            let (t, _) = load(ws, ctx, source)?;
            (0..t.rows).map(|i| t.row_json(i)).collect()
        }
        _ => return Err(bad("give `rows` (an array of objects with the feature columns) or a `source`")),
    };
    if rows.is_empty() {
        return Err(bad("`rows` is empty"));
    }
    let mut x = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let o =
            r.as_object().ok_or_else(|| bad(format!("row {} must be an object of column: value", i + 1)))?;
        let missing: Vec<&str> =
            m.features.iter().map(Feature::name).filter(|n| !o.contains_key(*n)).collect();
        if missing.len() == m.features.len() {
            return Err(bad(format!(
                "row {} has none of the model's features ({})",
                i + 1,
                m.features.iter().map(Feature::name).collect::<Vec<_>>().join(", ")
            )));
        }
        let mut v = Vec::new();
        encode_row(&m.features, &|n| o.get(n).cloned().unwrap_or(Value::Null), &mut v)?;
        x.push(v);
    }
    let p = m.fitted.predict(&matrix(&x, &m.scale)?)?;
    let preds: Vec<Value> = p
        .iter()
        .map(|v| if m.task == "classification" { json!(m.classes.get(*v as usize)) } else { json!(v) })
        .collect();
    Ok(
        json!({"model": file, "modelType": m.model_type, "task": m.task, "target": m.target, "predictions": preds,
              "testMetrics": m.metrics}),
    )
}

#[async_trait]
impl TypedTool for Predict {
    type Args = PredictArgs;

    fn name(&self) -> &'static str {
        "predict"
    }
    fn description(&self) -> &'static str {
        "Predict with a model saved by train_model: give `model` (its name) and `rows` (objects with the feature \
         columns; missing numbers get the training mean) or a `source` dataset."
    }
    async fn run(&self, args: PredictArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let ws = self.ws.clone();
        tokio::task::spawn_blocking(move || predict(&ws, &ctx, &args).map(ToolOutput::json))
            .await
            .map_err(|e| ToolError::Failed(format!("prediction crashed: {e}")))?
    }
}
