//! Forecasting and business insights on synthetic series with known structure.

mod data_common;

use base64::Engine;
use data_common::*;
use serde_json::{json, Value};
use vana_tools_data::sql::SqlConfig;

fn monthly(n: usize, seed: u64) -> Vec<(String, f64)> {
    let mut r = Rng(seed);
    (0..n)
        .map(|t| {
            let (y, m) = (2015 + t / 12, 1 + t % 12);
            let v = 200.0
                + 2.0 * t as f64
                + 40.0 * (2.0 * std::f64::consts::PI * t as f64 / 12.0).sin()
                + 5.0 * r.normal();
            (format!("{y:04}-{m:02}"), v)
        })
        .collect()
}

#[tokio::test]
async fn forecast_of_a_seasonal_series_beats_seasonal_naive_out_of_sample() {
    let env = Env::new(SqlConfig::default());
    let ws = env.workspace("s");
    let all = monthly(108, 21);
    let (train, future) = all.split_at(96);
    let mut csv = String::from("month,sales\n");
    for (d, v) in train {
        csv.push_str(&format!("{d},{v}\n"));
    }
    std::fs::write(ws.join("sales.csv"), csv).unwrap();
    let out = env
        .call(
            "perform_predictive_analysis",
            "s",
            json!({"source": "sales.csv", "date_column": "month", "value_column": "sales", "horizon": 12}),
        )
        .await
        .unwrap();
    let r = &out.response;
    assert_eq!(r["frequency"], "monthly");
    assert_eq!(r["seasonLength"], 12);
    let methods = r["backtest"]["methods"].as_array().unwrap();
    assert_eq!(methods.len(), 3, "{r}");
    let rmse = |name: &str| methods.iter().find(|m| m["method"] == name).unwrap()["rmse"].as_f64().unwrap();
    let chosen = r["method"].as_str().unwrap();
    assert_ne!(chosen, "seasonal_naive", "trend + season should beat repeating last year: {r}");
    assert!(rmse(chosen) < rmse("seasonal_naive"));
    // On the 12 months the tool never saw, the forecast beats seasonal naive too.
    let fc = r["forecast"].as_array().unwrap();
    assert_eq!(fc.len(), 12);
    assert_eq!(fc[0]["date"], "2023-01");
    assert_eq!(fc[11]["date"], "2023-12");
    let naive: Vec<f64> = train[84..].iter().map(|p| p.1).collect();
    let mae = |pred: &dyn Fn(usize) -> f64| {
        future.iter().enumerate().map(|(k, p)| (p.1 - pred(k)).abs()).sum::<f64>() / 12.0
    };
    let ours = mae(&|k| fc[k]["forecast"].as_f64().unwrap());
    let base = mae(&|k| naive[k]);
    assert!(ours < base, "forecast MAE {ours} vs seasonal naive {base}");
    let inside = future
        .iter()
        .zip(fc)
        .filter(|(p, f)| f["lower95"].as_f64().unwrap() <= p.1 && p.1 <= f["upper95"].as_f64().unwrap())
        .count();
    assert!(inside >= 10, "only {inside}/12 inside the 95% intervals");
    // The chart: history and forecast points, a PNG of the stated size.
    assert_eq!(out.artifacts.len(), 2);
    let b64 = base64::engine::general_purpose::STANDARD;
    let png = b64.decode(&out.artifacts[0].data).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), 900);
    let svg = String::from_utf8(b64.decode(&out.artifacts[1].data).unwrap()).unwrap();
    assert_eq!(svg.matches("<circle").count(), 108);
    // Too short or non-date input is a clear error.
    let e = env
        .call(
            "perform_predictive_analysis",
            "s",
            json!({"source": {"csv": "d,v\nmonday,1\n"}, "date_column": "d", "value_column": "v"}),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("monday") && e.contains("not a date"), "{e}");
}

#[tokio::test]
async fn business_insights_find_growth_the_strong_segment_and_the_anomaly() {
    let env = Env::new(SqlConfig::default());
    let ws = env.workspace("s");
    let mut r = Rng(5);
    let mut csv = String::from("date,region,revenue\n");
    let mut totals = Vec::new();
    for day in 0..60 {
        let date = format!("2025-{:02}-{:02}", 1 + day / 30, 1 + day % 30);
        let mut total = 0.0;
        for (k, reg) in ["north", "south", "west"].iter().enumerate() {
            let mut v = 100.0 + day as f64 + 10.0 * r.normal() + if *reg == "west" { 50.0 } else { 0.0 };
            if day == 40 && k == 0 {
                v += 900.0;
            }
            v = (v * 100.0).round() / 100.0;
            total += v;
            csv.push_str(&format!("{date},{reg},{v}\n"));
        }
        totals.push((date, total));
    }
    std::fs::write(ws.join("rev.csv"), csv).unwrap();
    let out = env
        .call("generate_business_insights", "s", json!({"source": "rev.csv", "value_column": "revenue"}))
        .await
        .unwrap()
        .response;
    assert_eq!(out["dateColumn"], "date");
    assert_eq!(out["segmentColumn"], "region");
    let facts = out["facts"].as_array().unwrap();
    let of = |t: &str| -> Vec<&Value> { facts.iter().filter(|f| f["type"] == t).collect() };
    let g = of("growth")[0];
    assert_eq!(g["from"], "2025-01-01");
    assert_eq!(g["to"], "2025-02-30");
    assert!((g["fromValue"].as_f64().unwrap() - totals[0].1).abs() < 1e-9);
    let want = (totals[59].1 - totals[0].1) / totals[0].1 * 100.0;
    assert!((g["changePercent"].as_f64().unwrap() - want).abs() < 1e-9);
    let anomalies = of("anomaly");
    assert_eq!(anomalies.len(), 1, "{anomalies:?}");
    assert_eq!(anomalies[0]["date"], totals[40].0);
    let strong = of("segment_outperforms");
    assert!(strong.iter().any(|f| f["segment"] == "west"), "{facts:?}");
    let diff = of("segment_difference")[0];
    assert!(diff["pValue"].as_f64().unwrap() < 0.05 && diff["significant"] == true, "{diff}");
    assert_eq!(of("top_movers")[0]["movers"].as_array().unwrap().len(), 3);
    let e = env
        .call("generate_business_insights", "s", json!({"source": "rev.csv", "value_column": "region"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("not numeric"), "{e}");
}
