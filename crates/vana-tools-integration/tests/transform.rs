//! `transform_data`: jq filters give what Debian's `jq` CLI gives on a fixture set; conversions,
//! renames, selections and coercions on CSV/TSV/JSON/JSONL; hostile filters and paths refused.

mod common;

use common::*;
use serde_json::{json, Value};
use vana_core::ToolError;

const ORDERS: &str = include_str!("fixtures/orders.json");
const FILTERS: &str = include_str!("fixtures/jq-filters.txt");

/// Numbers compared as f64 (jq 1.6 prints `1.0` as `1`, jaq keeps `1.0`); everything else exactly.
fn norm(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64().unwrap()),
        Value::Array(a) => Value::Array(a.iter().map(norm).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), norm(v))).collect()),
        other => other.clone(),
    }
}

/// What `jq -c FILTER file` prints, as the tool's JSON output shapes it: one value as itself,
/// several as an array.
fn jq(filter: &str, file: &std::path::Path) -> Value {
    let out = std::process::Command::new("jq")
        .arg("-c")
        .arg(filter)
        .arg(file)
        .output()
        .expect("Debian's jq is missing: run scripts/setup-integration.sh (apt-get install -y jq)");
    assert!(out.status.success(), "jq {filter}: {}", String::from_utf8_lossy(&out.stderr));
    let vals: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    if vals.len() == 1 {
        vals.into_iter().next().unwrap()
    } else {
        Value::Array(vals)
    }
}

#[tokio::test]
async fn jq_filters_give_the_same_output_as_the_jq_cli() {
    let f = local();
    f.put("orders.json", ORDERS.as_bytes());
    let file = f.dir.path().join("orders.json");
    std::fs::write(&file, ORDERS).unwrap();
    let mut checked = 0;
    for (i, filter) in FILTERS.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        let expected = jq(filter, &file);
        let name = format!("out/{i}.json");
        let out =
            f.ok("transform_data", json!({"source": "orders.json", "filter": filter, "output": name})).await;
        assert_eq!(out["written"], name);
        let got: Value = serde_json::from_slice(&f.get(&name)).unwrap();
        assert_eq!(norm(&got), norm(&expected), "filter #{i} `{filter}`");
        checked += 1;
    }
    assert!(checked >= 50, "{checked} filters");
}

#[tokio::test]
async fn a_json_stream_runs_the_filter_on_each_value_like_jq() {
    let f = local();
    let lines = "{\"a\":1,\"b\":\"x\"}\n{\"a\":2,\"b\":\"y\"}\n\n{\"a\":3,\"b\":\"z\"}\n";
    f.put("events.jsonl", lines.as_bytes());
    let file = f.dir.path().join("events.jsonl");
    std::fs::write(&file, lines).unwrap();
    for filter in [".a", "select(.a > 1) | .b", "{b, double: (.a * 2)}"] {
        let out = f
            .ok("transform_data", json!({"source": "events.jsonl", "filter": filter, "output": "o.json"}))
            .await;
        assert_eq!(out["inputs"], 3);
        let got: Value = serde_json::from_slice(&f.get("o.json")).unwrap();
        assert_eq!(norm(&got), norm(&jq(filter, &file)), "{filter}");
    }
}

#[tokio::test]
async fn csv_becomes_jsonl_with_renames_selection_and_coercion_and_failures_are_reported() {
    let f = local();
    let csv = "order id,qty,price,paid,zip\n1,2,9.50,yes,01234\n2,x,12,no,99999\n3,,abc,maybe,00001\n";
    f.put("in/orders.csv", csv.as_bytes());
    let out = f
        .ok(
            "transform_data",
            json!({
                "source": "in/orders.csv",
                "rename": {"order id": "id"},
                "coerce": {"id": "integer", "qty": "integer", "price": "number", "paid": "boolean", "zip": "string"},
                "select": ["id", "qty", "price", "paid", "zip"],
                "output": "out/orders.jsonl"
            }),
        )
        .await;
    assert_eq!(out["input_format"], "csv");
    assert_eq!(out["output_format"], "jsonl");
    assert_eq!(out["records"], 3);
    let text = String::from_utf8(f.get("out/orders.jsonl")).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    // Keys in the order of `select`, zip codes kept as strings with their leading zeros.
    assert_eq!(rows[0], r#"{"id":1,"qty":2,"price":9.50,"paid":true,"zip":"01234"}"#);
    assert_eq!(rows[2], r#"{"id":3,"qty":null,"price":"abc","paid":"maybe","zip":"00001"}"#);
    let fails = &out["coercion_failures"];
    assert_eq!(fails["count"], 3, "{fails}");
    assert_eq!(fails["by_field"], json!({"paid": 1, "price": 1, "qty": 1}));
    assert_eq!(fails["examples"][0], json!({"record": 2, "field": "qty", "value": "x", "to": "integer"}));

    // Back to TSV: columns in their original order, nested values as JSON.
    let out = f
        .ok("transform_data", json!({"source": "out/orders.jsonl", "filter": ". + {tags: [\"a\"]}", "output": "out/orders.tsv"}))
        .await;
    assert_eq!(out["records"], 3);
    let tsv = String::from_utf8(f.get("out/orders.tsv")).unwrap();
    let mut lines = tsv.lines();
    assert_eq!(lines.next().unwrap(), "id\tqty\tprice\tpaid\tzip\ttags");
    assert_eq!(lines.next().unwrap(), "1\t2\t9.50\ttrue\t01234\t\"[\"\"a\"\"]\"");
}

#[tokio::test]
async fn inline_data_and_sql_results_are_sources_and_small_results_come_back_inline() {
    let f = local();
    let out = f
        .ok(
            "transform_data",
            json!({"source": {"csv": "a,b\n1,2\n3,4\n"}, "filter": "map(.a)", "output_format": "json"}),
        )
        .await;
    assert_eq!(serde_json::from_str::<Value>(out["result"].as_str().unwrap()).unwrap(), json!(["1", "3"]));
    let sql = json!({"columns": ["id", "name"], "rows": [[1, "ann"], [2, "bo"]]});
    let out = f.ok("transform_data", json!({"source": sql, "output_format": "csv"})).await;
    assert_eq!(out["source"], "SQL result");
    assert_eq!(out["result"], "id,name\n1,ann\n2,bo\n");
    let out = f
        .ok("transform_data", json!({"source": {"json": {"x": {"y": [1, 2]}}}, "filter": ".x.y | add"}))
        .await;
    assert_eq!(out["preview"], json!([3]));
}

#[tokio::test]
async fn hostile_filters_paths_and_bad_data_get_clear_errors_and_write_nothing() {
    let f = local();
    f.put("d.json", br#"[{"a": 1}]"#);
    std::env::set_var("VANA_TRANSFORM_SECRET", "s3cret");
    for filter in ["env.VANA_TRANSFORM_SECRET", "$ENV.VANA_TRANSFORM_SECRET", "input", "halt_error", "debug"]
    {
        let err = f
            .call("transform_data", json!({"source": "d.json", "filter": filter, "output": "o.json"}))
            .await
            .unwrap_err();
        assert!(matches!(err, ToolError::InvalidArgs(_)), "{filter}: {err:?}");
        assert!(!err.to_string().contains("s3cret"), "{filter}: {err}");
    }
    let err = f.call("transform_data", json!({"source": "d.json", "filter": ".[] | "})).await.unwrap_err();
    assert!(err.to_string().contains("does not parse"), "{err}");
    // Unbounded recursion would overflow the stack and abort the process: refused before it runs.
    for filter in ["def f: 1 + f; f", "def a: [b]; def b: a; a", "def f(x): f(x + 1); f(0)"] {
        let err = f
            .call("transform_data", json!({"source": "d.json", "filter": filter, "output": "o.json"}))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("recursive functions"), "{filter}: {err}");
    }
    // jq's recursive built-ins still run, deep ones included.
    let out = f
        .ok(
            "transform_data",
            json!({"source": {"json": 0}, "filter": "[limit(200000; recurse(. + 1))] | length"}),
        )
        .await;
    assert_eq!(out["preview"], json!([200000]));
    let err = f
        .call("transform_data", json!({"source": "d.json", "filter": ".[] | .a + \"x\""}))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("the jq filter failed"), "{err}");
    for (args, want) in [
        (json!({"source": "../etc/passwd", "input_format": "csv"}), "workspace"),
        (json!({"source": "/etc/passwd", "input_format": "csv"}), ""),
        (json!({"source": "d.json", "output": "../../escape.json"}), ""),
        (json!({"source": "missing.csv"}), "session workspace"),
        (json!({"source": "d.json", "coerce": {"a": "date"}}), "not integer"),
        (json!({"source": {"json": "{not json"}}), "not valid JSON"),
        (json!({"source": {"csv": "a,b\n1,2,3\n"}}), ""),
        (json!({"source": "d.json", "output_format": "xml"}), "not csv"),
        (json!({"source": {"json": [1, 2]}, "output_format": "csv"}), "not an object"),
    ] {
        let err = f.call("transform_data", args.clone()).await.unwrap_err();
        assert!(matches!(err, ToolError::InvalidArgs(_) | ToolError::Blocked(_)), "{args}: {err:?}");
        assert!(err.to_string().contains(want), "{args}: {err}");
    }
    let ws = f.workspaces.open("s").unwrap().unwrap();
    assert!(ws.stat("o.json").unwrap().is_none(), "nothing was written");
    assert!(!f.dir.path().join("escape.json").exists());
}
