//! The data tools on real data against pandas / scikit-learn / scipy reference numbers
//! (venv from scripts/setup-data.sh), and end-to-end with a scripted model.

mod data_common;

use base64::Engine;
use data_common::*;
use serde_json::{json, Value};
use std::sync::Arc;
use vana_core::{Content, LlmAgent, Outcome, Runner};
use vana_testkit::{ScriptedModel, ScriptedTurn};
use vana_tools_data::sql::SqlConfig;

const PANDAS_DESCRIBE: &str = r#"
import json, sys
import pandas as pd
df = pd.read_csv(sys.argv[1])
num = df.describe()
out = {"shape": list(df.shape), "dups": int(df.duplicated().sum()),
       "dtypes": {c: str(t) for c, t in df.dtypes.items()},
       "missing": {c: int(v) for c, v in df.isna().sum().items()},
       "num": {c: {k: (None if pd.isna(v) else float(v)) for k, v in num[c].items()} for c in num.columns},
       "obj": {}}
for c in df.columns:
    if c in num.columns:
        continue
    vc = df[c].value_counts()
    out["obj"][c] = {"count": int(df[c].count()), "unique": int(df[c].nunique()), "top": str(vc.index[0]), "freq": int(vc.iloc[0])}
print(json.dumps(out))
"#;

fn rel_close(a: f64, b: f64, tol: f64) -> bool {
    a == b || (a - b).abs() <= tol * a.abs().max(b.abs())
}

/// Compares analyze_dataset's summary with pandas on the same file, to 1e-9 relative.
fn assert_matches_pandas(ours: &Value, pandas: &Value) {
    assert_eq!(ours["shape"]["rows"], pandas["shape"][0]);
    assert_eq!(ours["shape"]["columns"], pandas["shape"][1]);
    assert_eq!(ours["duplicateRows"], pandas["dups"], "duplicate rows");
    let cols = ours["columns"].as_array().unwrap();
    for c in cols {
        let name = c["name"].as_str().unwrap();
        assert_eq!(c["dtype"], pandas["dtypes"][name], "dtype of {name}");
        assert_eq!(c["missing"], pandas["missing"][name], "missing in {name}");
        if let Some(p) = pandas["num"].get(name) {
            for k in ["count", "mean", "std", "min", "25%", "50%", "75%", "max"] {
                let (a, b) = (c[k].as_f64(), p[k].as_f64());
                match (a, b) {
                    (Some(a), Some(b)) => {
                        assert!(rel_close(a, b, 1e-9), "{name}.{k}: ours {a:.17e} pandas {b:.17e}")
                    }
                    (None, None) => {}
                    _ => panic!("{name}.{k}: ours {:?} pandas {:?}", c[k], p[k]),
                }
            }
        } else {
            let p = &pandas["obj"][name];
            for k in ["count", "unique", "top", "freq"] {
                assert_eq!(c[k], p[k], "{name}.{k}");
            }
        }
    }
    assert_eq!(cols.len() as u64, pandas["shape"][1].as_u64().unwrap());
}

#[tokio::test]
async fn analyze_dataset_equals_pandas_describe_on_a_12000_row_mixed_csv() {
    let env = Env::new(SqlConfig::default());
    let ws = env.workspace("s1");
    std::fs::write(ws.join("mixed.csv"), mixed_csv(12_000, 7)).unwrap();
    let ours = env.call("analyze_dataset", "s1", json!({"source": "mixed.csv"})).await.unwrap().response;
    let pandas = py_json(PANDAS_DESCRIBE, &[ws.join("mixed.csv").to_str().unwrap()]);
    assert_matches_pandas(&ours, &pandas);
    // The data really is mixed: every kind of column is present, with missing values.
    let dtypes: Vec<&str> =
        ours["columns"].as_array().unwrap().iter().map(|c| c["dtype"].as_str().unwrap()).collect();
    for d in ["int64", "float64", "bool", "object"] {
        assert!(dtypes.contains(&d), "{dtypes:?}");
    }
    assert!(ours["missingTotal"].as_u64().unwrap() > 1000);
    assert_eq!(ours["duplicateRows"], 25);
    assert_eq!(ours["shape"]["rows"], 12_025);
}

#[tokio::test]
async fn analyze_dataset_equals_pandas_on_a_multi_megabyte_csv_parsed_in_parallel() {
    // Over 1 MiB, so the file is parsed in blocks on several threads (where there are several
    // cores); quoted fields, a column that turns to text late (re-read as text), and duplicate
    // rows that no single column rules out.
    let env = Env::new(SqlConfig::default());
    let ws = env.workspace("s1");
    let csv = mixed_csv(60_000, 13);
    assert!(csv.len() > 4 << 20, "{} bytes", csv.len());
    std::fs::write(ws.join("big.csv"), &csv).unwrap();
    let ours = env.call("analyze_dataset", "s1", json!({"source": "big.csv"})).await.unwrap().response;
    let pandas = py_json(PANDAS_DESCRIBE, &[ws.join("big.csv").to_str().unwrap()]);
    assert_matches_pandas(&ours, &pandas);
    assert_eq!(ours["duplicateRows"], 25);
    let code = ours["columns"].as_array().unwrap().iter().find(|c| c["name"] == "code").unwrap();
    assert_eq!(code["dtype"], "object");
    // Read from memory instead of the file: the same analysis, value for value.
    let t = vana_tools_data::data::Table::from_csv(csv.as_bytes()).unwrap();
    let inline = vana_tools_data::data::summary(&t);
    for k in ["columns", "missingTotal", "duplicateRows", "shape"] {
        assert_eq!(ours[k], inline[k], "{k}");
    }
}

const SKLEARN_CSV: &str = r#"
import sys
from sklearn.datasets import load_iris, load_wine
for name, loader in (("iris", load_iris), ("wine", load_wine)):
    b = loader(as_frame=True)
    df = b.frame.copy()
    df["target"] = [str(b.target_names[t]) for t in b.target]
    df = df.rename(columns={"target": "species" if name == "iris" else "cultivar"})
    df.to_csv(f"{sys.argv[1]}/{name}.csv", index=False)
print("{}")
"#;

#[tokio::test]
async fn iris_and_wine_match_pandas_and_a_random_forest_classifies_iris() {
    let env = Env::new(SqlConfig::default());
    let ws = env.workspace("s");
    py_json(SKLEARN_CSV, &[ws.to_str().unwrap()]);
    for f in ["iris.csv", "wine.csv"] {
        let ours = env.call("analyze_dataset", "s", json!({"source": f})).await.unwrap().response;
        let pandas = py_json(PANDAS_DESCRIBE, &[ws.join(f).to_str().unwrap()]);
        assert_matches_pandas(&ours, &pandas);
    }
    let r = env
        .call("train_model", "s", json!({"source": "iris.csv", "target_column": "species", "model_type": "random_forest", "seed": 7}))
        .await
        .unwrap()
        .response;
    assert_eq!(r["task"], "classification");
    let acc = r["metrics"]["accuracy"].as_f64().unwrap();
    assert!(acc >= 0.9, "random forest test accuracy {acc} < 0.9: {r}");
    assert_eq!(r["split"]["testRows"], 30);
    let cm = r["metrics"]["confusionMatrix"]["matrix"].as_array().unwrap();
    let total: u64 = cm.iter().flat_map(|row| row.as_array().unwrap()).map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(total, 30);
    assert_eq!(r["metrics"]["perClass"].as_array().unwrap().len(), 3);
    // Petal measurements matter more than sepal width.
    let imp = r["featureImportances"]["values"].as_array().unwrap();
    let top = imp[0]["feature"].as_str().unwrap();
    assert!(top.starts_with("petal"), "{imp:?}");
    // The model is saved and predicts clear-cut flowers correctly.
    assert!(ws.join(r["model"].as_str().unwrap()).is_file());
    let p = env
        .call("predict", "s", json!({"model": r["model"], "rows": [
            {"sepal length (cm)": 5.1, "sepal width (cm)": 3.5, "petal length (cm)": 1.4, "petal width (cm)": 0.2},
            {"sepal length (cm)": 6.7, "sepal width (cm)": 3.0, "petal length (cm)": 5.8, "petal width (cm)": 2.2}
        ]}))
        .await
        .unwrap()
        .response;
    assert_eq!(p["predictions"], json!(["setosa", "virginica"]));
    // Logistic regression and k-NN on wine also do real work.
    for m in ["logistic_regression", "knn"] {
        let r = env
            .call(
                "train_model",
                "s",
                json!({"source": "wine.csv", "target_column": "cultivar", "model_type": m}),
            )
            .await
            .unwrap()
            .response;
        assert!(r["metrics"]["accuracy"].as_f64().unwrap() >= 0.85, "{m}: {}", r["metrics"]);
    }
}

#[tokio::test]
async fn regression_metrics_equal_their_definitions() {
    let env = Env::new(SqlConfig::default());
    let ws = env.workspace("s");
    let mut r = Rng(3);
    let mut csv = String::from("x1,x2,y\n");
    for _ in 0..400 {
        let (a, b) = (r.f() * 10.0, r.f() * 5.0);
        csv.push_str(&format!("{a},{b},{}\n", 3.0 * a - 2.0 * b + 1.0 + 0.1 * r.normal()));
    }
    std::fs::write(ws.join("lin.csv"), csv).unwrap();
    let out = env
        .call(
            "train_model",
            "s",
            json!({"source": "lin.csv", "target_column": "y", "model_type": "linear_regression"}),
        )
        .await
        .unwrap()
        .response;
    assert_eq!(out["task"], "regression");
    let m = &out["metrics"];
    assert!(m["r2"].as_f64().unwrap() > 0.999, "{m}");
    assert!(
        m["rmse"].as_f64().unwrap() < 0.15
            && m["mae"].as_f64().unwrap() < m["rmse"].as_f64().unwrap() + 1e-12,
        "{m}"
    );
    let p = env
        .call("predict", "s", json!({"model": out["model"], "rows": [{"x1": 2.0, "x2": 1.0}]}))
        .await
        .unwrap()
        .response;
    assert!((p["predictions"][0].as_f64().unwrap() - 5.0).abs() < 0.1, "{p}");
    let gb = env
        .call(
            "train_model",
            "s",
            json!({"source": "lin.csv", "target_column": "y", "model_type": "gradient_boosting"}),
        )
        .await
        .unwrap()
        .response;
    assert!(gb["metrics"]["r2"].as_f64().unwrap() > 0.9, "{}", gb["metrics"]);
}

const SCIPY_TESTS: &str = r#"
import json, sys
import pandas as pd
from scipy import stats
df = pd.read_csv(sys.argv[1])
a = df[df.region == "north"].revenue.dropna(); b = df[df.region == "south"].revenue.dropna()
d = df[["region", "note"]].dropna()
ct = pd.crosstab(d.region, d.note)
chi = stats.chi2_contingency(ct, correction=False)
groups = [g.revenue.dropna() for _, g in df.groupby("region")]
pc = df[["price", "revenue"]].dropna()
print(json.dumps({
  "t": list(map(float, stats.ttest_ind(a, b, equal_var=False))),
  "t_eq": list(map(float, stats.ttest_ind(a, b, equal_var=True))),
  "chi": [float(chi[0]), float(chi[1]), int(chi[2])],
  "anova": list(map(float, stats.f_oneway(*groups))),
  "pearson": list(map(float, stats.pearsonr(pc.price, pc.revenue))),
  "spearman": list(map(float, stats.spearmanr(pc.price, pc.revenue))),
}))
"#;

#[tokio::test]
async fn statistical_tests_equal_scipy() {
    let env = Env::new(SqlConfig::default());
    let ws = env.workspace("s");
    // Revenue depends on region so the tests have something to find.
    let mut csv = mixed_csv(3000, 11);
    csv = csv
        .lines()
        .enumerate()
        .map(|(i, l)| match l.rsplit_once(',') {
            Some((head, rev)) if i > 0 && l.contains(",north,") => {
                format!("{head},{:.2}", rev.parse::<f64>().unwrap() + 60.0)
            }
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(ws.join("d.csv"), &csv).unwrap();
    let sp = py_json(SCIPY_TESTS, &[ws.join("d.csv").to_str().unwrap()]);
    let call = |args: Value| {
        let mut a = args;
        a["source"] = json!("d.csv");
        env.call("statistical_analysis", "s", a)
    };
    let close = |ours: &Value, key: &str, want: f64| {
        let got = ours[key].as_f64().unwrap();
        assert!(rel_close(got, want, 1e-6), "{key}: ours {got} scipy {want}: {ours}");
    };
    // Compare only the two groups scipy compared.
    let two = call(json!({"test": "t_test", "a": "revenue", "b": "price"})).await.unwrap().response;
    assert!(two["pValue"].as_f64().unwrap() < 1e-10);
    let mut sub = String::from("region,revenue\n");
    let t = vana_tools_data::data::Table::from_csv(csv.as_bytes()).unwrap();
    let (reg, rev) = (t.column("region").unwrap(), t.column("revenue").unwrap());
    for i in 0..t.rows {
        let g = reg.text_at(i).unwrap();
        if g == "north" || g == "south" {
            sub.push_str(&format!("{g},{}\n", rev.text_at(i).unwrap_or_default()));
        }
    }
    std::fs::write(ws.join("ns.csv"), sub).unwrap();
    for (eq, key) in [(false, "t"), (true, "t_eq")] {
        let r = env.call("statistical_analysis", "s", json!({"source": "ns.csv", "test": "t_test", "column": "revenue", "group": "region", "equal_var": eq})).await.unwrap().response;
        // scipy's order is north - south; ours is first-seen order.
        let sign = if r["groupA"] == "north" { 1.0 } else { -1.0 };
        assert!(
            rel_close(sign * r["statistic"].as_f64().unwrap(), sp[key][0].as_f64().unwrap(), 1e-9),
            "{r} vs {}",
            sp[key]
        );
        close(&r, "pValue", sp[key][1].as_f64().unwrap());
        assert_eq!(r["significant"], true);
    }
    let chi = call(json!({"test": "chi_square", "a": "region", "b": "note"})).await.unwrap().response;
    close(&chi, "statistic", sp["chi"][0].as_f64().unwrap());
    close(&chi, "pValue", sp["chi"][1].as_f64().unwrap());
    assert_eq!(chi["df"].as_f64().unwrap(), sp["chi"][2].as_f64().unwrap());
    let an = call(json!({"test": "anova", "column": "revenue", "group": "region"})).await.unwrap().response;
    close(&an, "statistic", sp["anova"][0].as_f64().unwrap());
    close(&an, "pValue", sp["anova"][1].as_f64().unwrap());
    for m in ["pearson", "spearman"] {
        let r = call(json!({"test": "correlation", "a": "price", "b": "revenue", "method": m}))
            .await
            .unwrap()
            .response;
        close(&r, "statistic", sp[m][0].as_f64().unwrap());
        close(&r, "pValue", sp[m][1].as_f64().unwrap());
    }
    let e = call(json!({"test": "t_test", "column": "revenue", "group": "region"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("5 groups") && e.contains("anova"), "{e}");
}

fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    assert_eq!(&bytes[12..16], b"IHDR");
    (
        u32::from_be_bytes(bytes[16..20].try_into().unwrap()),
        u32::from_be_bytes(bytes[20..24].try_into().unwrap()),
    )
}

fn svg_marks(svg: &str, element: &str) -> usize {
    svg.split(&format!("<{element}"))
        .skip(1)
        .filter(|e| e.split('>').next().unwrap_or("").contains("fill=\"#1F77B4\""))
        .count()
}

fn svg_size(svg: &str) -> (u32, u32) {
    let head = &svg[svg.find("<svg").expect("an <svg> element")..];
    let attr = |k: &str| -> u32 {
        let s = &head[head.find(&format!("{k}=\"")).unwrap() + k.len() + 2..];
        s[..s.find('"').unwrap()].parse().unwrap()
    };
    (attr("width"), attr("height"))
}

#[tokio::test]
async fn charts_are_valid_png_and_svg_with_one_mark_per_value() {
    let env = Env::new(SqlConfig::default());
    let ws = env.workspace("s");
    std::fs::write(ws.join("mixed.csv"), mixed_csv(2000, 5)).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    // Bar: revenue by month (12 months from the date column's month, via a derived CSV).
    let mut csv = String::from("month,revenue\n");
    for m in 1..=12 {
        for k in 0..3 {
            csv.push_str(&format!("2024-{m:02},{}\n", 100 * m + k));
        }
    }
    let out = env.call("visualize_data", "s", json!({"source": {"csv": csv}, "chart": "bar", "x": "month", "y": "revenue", "width": 640, "height": 400})).await.unwrap();
    assert_eq!(out.response["marks"], 12);
    assert_eq!(out.artifacts.len(), 2);
    let png = b64.decode(&out.artifacts[0].data).unwrap();
    assert_eq!(out.artifacts[0].mime_type, "image/png");
    assert_eq!(png_size(&png), (640, 400));
    let svg = String::from_utf8(b64.decode(&out.artifacts[1].data).unwrap()).unwrap();
    assert_eq!(out.artifacts[1].mime_type, "image/svg+xml");
    assert_eq!(svg_size(&svg), (640, 400));
    assert_eq!(svg_marks(&svg, "rect"), 12, "one bar per month");
    assert!(svg.contains("2024-01") && svg.contains("sum of revenue"), "axis labels are drawn");
    // Saved in the workspace too, byte for byte.
    let files: Vec<&str> =
        out.response["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    assert_eq!(std::fs::read(ws.join(files[0])).unwrap(), png);
    // The bar heights are the sums: the tallest bar is December's (3 * 1200 + 3).
    // Scatter: one point per row with both values.
    let out = env
        .call(
            "visualize_data",
            "s",
            json!({"source": "mixed.csv", "chart": "scatter", "x": "price", "y": "revenue", "format": "svg"}),
        )
        .await
        .unwrap();
    let svg = String::from_utf8(b64.decode(&out.artifacts[0].data).unwrap()).unwrap();
    let t = vana_tools_data::data::Table::from_csv(&std::fs::read(ws.join("mixed.csv")).unwrap()).unwrap();
    let both = t
        .column("price")
        .unwrap()
        .nums()
        .unwrap()
        .iter()
        .zip(t.column("revenue").unwrap().nums().unwrap())
        .filter(|(a, b)| !a.is_nan() && !b.is_nan())
        .count();
    assert_eq!(svg.matches("<circle").count(), both);
    assert_eq!(out.response["marks"], both);
    assert_eq!(svg_size(&svg), (800, 500));
    // Histogram: one bar per bin, counts add up to the present values.
    let out = env
        .call(
            "visualize_data",
            "s",
            json!({"source": "mixed.csv", "chart": "histogram", "x": "revenue", "bins": 15, "format": "png"}),
        )
        .await
        .unwrap();
    assert_eq!(out.response["marks"], 15);
    assert_eq!(png_size(&b64.decode(&out.artifacts[0].data).unwrap()), (800, 500));
    let out = env
        .call(
            "visualize_data",
            "s",
            json!({"source": "mixed.csv", "chart": "histogram", "x": "revenue", "bins": 15, "format": "svg"}),
        )
        .await
        .unwrap();
    let svg = String::from_utf8(b64.decode(&out.artifacts[0].data).unwrap()).unwrap();
    assert_eq!(svg_marks(&svg, "rect"), 15);
    // Box plot per region and line chart.
    let out = env
        .call(
            "visualize_data",
            "s",
            json!({"source": "mixed.csv", "chart": "box", "x": "region", "y": "revenue", "format": "svg"}),
        )
        .await
        .unwrap();
    let svg = String::from_utf8(b64.decode(&out.artifacts[0].data).unwrap()).unwrap();
    assert_eq!(svg_marks(&svg, "rect"), 5);
    let out = env
        .call("visualize_data", "s", json!({"source": "mixed.csv", "chart": "heatmap", "format": "svg"}))
        .await
        .unwrap();
    assert_eq!(out.response["marks"], 25, "5 numeric columns: id, price, qty, score, revenue");
    // Bad input is a clear error and writes nothing.
    let before = std::fs::read_dir(ws.join("charts")).unwrap().count();
    let e = env
        .call(
            "visualize_data",
            "s",
            json!({"source": "mixed.csv", "chart": "scatter", "x": "region", "y": "revenue"}),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("region") && e.contains("not numeric"), "{e}");
    let e = env
        .call("visualize_data", "s", json!({"source": "mixed.csv", "chart": "pie", "x": "region"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("pie") && e.contains("histogram"), "{e}");
    assert_eq!(std::fs::read_dir(ws.join("charts")).unwrap().count(), before);
}

#[tokio::test]
async fn sources_inline_json_and_bad_paths() {
    let env = Env::new(SqlConfig::default());
    let r = env
        .call(
            "analyze_dataset",
            "s",
            json!({"source": {"json": [{"a": 1, "b": "x"}, {"a": 3, "b": null}, {"a": null, "b": "x"}]}}),
        )
        .await
        .unwrap()
        .response;
    assert_eq!(r["columns"][0]["mean"], 2.0);
    assert_eq!(r["columns"][0]["missing"], 1);
    assert_eq!(r["columns"][1]["top"], "x");
    let e = env
        .call("analyze_dataset", "s", json!({"source": "../../etc/passwd"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("inside the session workspace"), "{e}");
    let e = env.call("analyze_dataset", "s", json!({"source": "nope.csv"})).await.unwrap_err().to_string();
    assert!(e.contains("nope.csv") && e.contains("workspace"), "{e}");
    let e = env
        .call("analyze_dataset", "s", json!({"source": {"csv": "a,b\n1,2,3\n"}}))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("row 1"), "{e}");
    let c = env
        .call(
            "analyze_dataset",
            "s",
            json!({"source": {"csv": "a,b,c\n1,2,x\n2,4,y\n3,7,z\n"}, "analysis_type": "correlation"}),
        )
        .await
        .unwrap()
        .response;
    assert_eq!(c["columns"], json!(["a", "b"]));
    assert!((c["matrix"][0][1].as_f64().unwrap() - 0.9933992677987828).abs() < 1e-12, "{c}");
}

#[tokio::test]
async fn a_file_uploaded_with_a_message_is_a_source_by_its_name() {
    use base64::Engine;
    let env = Env::new(SqlConfig::default());
    let csv = "region,revenue\nNorth,10\nSouth,30\nNorth,20\n";
    let mut upload = vana_core::Event::new("inv", "user");
    upload.content = Some(vana_core::Content {
        role: "user".into(),
        parts: vec![
            vana_core::Part::text("here is my data"),
            vana_core::Part::inline_data(vana_core::Blob {
                mime_type: "text/csv".into(),
                data: base64::engine::general_purpose::STANDARD.encode(csv),
                display_name: Some("upload.csv".into()),
            }),
        ],
    });
    let mut ctx = vana_core::ToolContext::standalone("test", "u", "s-up");
    ctx.events = std::sync::Arc::new(vec![std::sync::Arc::new(upload)]);
    let tool = env.tools.get("analyze_dataset").unwrap();
    for source in [json!("upload.csv"), json!({"artifact": "upload.csv"})] {
        let r = tool.call(json!({"source": source}), ctx.clone()).await.unwrap().response;
        assert_eq!(r["shape"]["rows"], 3, "{r}");
        assert_eq!(r["source"], "uploaded upload.csv");
        assert_eq!(r["columns"][1]["mean"], 20.0, "{r}");
    }
    let e = tool.call(json!({"source": {"artifact": "other.csv"}}), ctx).await.unwrap_err().to_string();
    assert!(
        e.contains("no uploaded file named `other.csv`") && e.contains("uploaded files: upload.csv"),
        "{e}"
    );
}

#[tokio::test]
async fn analyze_this_csv_and_plot_revenue_by_month_end_to_end() {
    let env = Env::new(SqlConfig::default());
    let ws = env.workspace("placeholder");
    let mut csv = String::from("month,region,revenue\n");
    for m in 1..=6 {
        for (k, reg) in ["north", "south"].iter().enumerate() {
            csv.push_str(&format!("2025-{m:02},{reg},{}\n", 1000 * m + 10 * k));
        }
    }
    let _ = ws;
    let model = Arc::new(ScriptedModel::named(
        "ds",
        vec![
            ScriptedTurn::call("analyze_dataset", json!({"source": "sales.csv"})),
            ScriptedTurn::call(
                "visualize_data",
                json!({"source": "sales.csv", "chart": "bar", "x": "month", "y": "revenue"}),
            ),
            ScriptedTurn::text("Revenue grows every month; the chart is attached."),
        ],
    ));
    let agent = LlmAgent::builder("data_science", model.clone())
        .tool(env.tools.get("analyze_dataset").unwrap())
        .tool(env.tools.get("visualize_data").unwrap())
        .build();
    let store: Arc<dyn vana_core::SessionStore> = Arc::new(vana_testkit::MemoryStore::new());
    let runner = Runner::new(agent, store);
    let session = runner.create_session("u1").await.unwrap().id;
    std::fs::write(env.workspace(&session).join("sales.csv"), csv).unwrap();
    let inv = runner
        .run("u1", &session, Content::user_text("analyze this CSV and plot revenue by month"), false)
        .await
        .unwrap();
    let (events, outcome) = inv.collect().await;
    assert_eq!(outcome, Outcome::Done);
    let responses: Vec<_> = events.iter().flat_map(|e| e.function_responses()).collect();
    let names: Vec<&str> = responses.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, vec!["analyze_dataset", "visualize_data"]);
    assert_eq!(responses[0].response["shape"]["rows"], 12);
    assert_eq!(responses[1].response["marks"], 6);
    let blobs: Vec<_> = events
        .iter()
        .filter_map(|e| e.content.as_ref())
        .flat_map(|c| c.parts.iter())
        .filter_map(|p| p.inline_data.as_ref())
        .collect();
    let png = blobs.iter().find(|b| b.mime_type == "image/png").expect("an inline PNG chart in the events");
    let bytes = base64::engine::general_purpose::STANDARD.decode(&png.data).unwrap();
    assert_eq!(png_size(&bytes), (800, 500));
    // The model's second request saw the analysis numbers (mean revenue 3505).
    let req = &model.requests()[1];
    assert!(format!("{:?}", req.contents).contains("3505"), "the tool result reached the model");
}

const PANDAS_CLEAN: &str = r#"
import json, sys
import pandas as pd
df = pd.read_csv(sys.argv[1])
med = float(df.price.median())
df = df.drop_duplicates()
df["price"] = df.price.fillna(med)
df["code"] = pd.to_numeric(df.code, errors="coerce")
q1, q3 = df.revenue.quantile(0.25), df.revenue.quantile(0.75)
k = df[(df.revenue >= q1 - 1.5 * (q3 - q1)) & (df.revenue <= q3 + 1.5 * (q3 - q1)) | df.revenue.isna()]
k = k.dropna(subset=["qty"])
print(json.dumps({"median": med, "rows": len(k), "price_mean": float(k.price.mean()), "code_missing": int(k.code.isna().sum())}))
"#;

#[tokio::test]
async fn clean_data_matches_pandas_and_bad_operations_write_nothing() {
    let env = Env::new(SqlConfig::default());
    let ws = env.workspace("s");
    std::fs::write(ws.join("mixed.csv"), mixed_csv(5000, 9)).unwrap();
    let ops = json!([
        {"op": "drop_duplicates"},
        {"op": "fill_missing", "column": "price", "strategy": "median"},
        {"op": "cast", "column": "code", "to": "number", "errors": "coerce"},
        {"op": "filter_outliers", "column": "revenue", "method": "iqr"},
        {"op": "drop_missing", "columns": ["qty"]}
    ]);
    let r = env
        .call("clean_data", "s", json!({"source": "mixed.csv", "operations": ops}))
        .await
        .unwrap()
        .response;
    let pd = py_json(PANDAS_CLEAN, &[ws.join("mixed.csv").to_str().unwrap()]);
    assert_eq!(r["output"], "mixed_clean.csv");
    assert_eq!(r["steps"][0]["rowsRemoved"], 25);
    assert!(rel_close(
        r["steps"][1]["columns"]["price"]["with"].as_f64().unwrap(),
        pd["median"].as_f64().unwrap(),
        1e-12
    ));
    assert_eq!(r["after"]["rows"], pd["rows"]);
    let a = env.call("analyze_dataset", "s", json!({"source": "mixed_clean.csv"})).await.unwrap().response;
    let col = |n: &str| a["columns"].as_array().unwrap().iter().find(|c| c["name"] == n).unwrap().clone();
    assert_eq!(col("price")["missing"], 0);
    assert!(rel_close(col("price")["mean"].as_f64().unwrap(), pd["price_mean"].as_f64().unwrap(), 1e-9));
    assert_eq!(col("code")["dtype"], "float64");
    assert_eq!(col("code")["missing"], pd["code_missing"]);
    assert_eq!(a["duplicateRows"], 0);
    // A failing step (casting text to numbers without coerce) writes nothing.
    let e = env
        .call("clean_data", "s", json!({"source": "mixed.csv", "output": "bad.csv", "operations": [{"op": "drop_duplicates"}, {"op": "cast", "column": "region", "to": "number"}]}))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("region") && e.contains("coerce"), "{e}");
    assert!(!ws.join("bad.csv").exists());
}
