//! `analyze_sentiment` against the reference Python `vaderSentiment` 3.3.2 (scripts/setup-nlp.sh),
//! and what a user sees from its inputs and errors.

mod common;
use common::*;
use serde_json::{json, Value};

const REFERENCE: &str = r#"
import json, sys
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
a = SentimentIntensityAnalyzer()
print(json.dumps([a.polarity_scores(t) for t in json.load(sys.stdin)]))
"#;

#[tokio::test]
async fn scores_equal_the_reference_vader_on_630_varied_texts() {
    let mut texts = sentiment_sentences(16, 600);
    // The reference's own demo and tricky sentences.
    texts.extend(
        [
            "VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!",
            "The book was only kind of good.",
            "The plot was good, but the characters are uncompelling and the dialog is not great.",
            "Make sure you :) or :D today!",
            "Catch utf-8 emoji such as 💘 and 💋 and 😁",
            "Sentiment analysis has never been this good!",
            "Roger Dodger is one of the least compelling variations on this theme.",
            "Roger Dodger is at least compelling as a variation on the theme.",
            "Not such a badass after all.",
            "good good but bad bad good",
        ]
        .map(String::from),
    );
    // Long texts (over 64 words, with "but"): the "but" rule's indexed path.
    let parts = sentiment_sentences(17, 200);
    texts.extend(parts.chunks(10).map(|c| c.join(" but ")));
    let reference = py_json(REFERENCE, &json!(texts));
    let env = Env::new();
    let out = env.ok("analyze_sentiment", json!({"texts": texts})).await;
    assert_eq!(out["count"], texts.len());
    // The listing stops at 200 items; the scores of every text come from the library itself.
    let v = vana_tools_nlp::vader::Vader::get();
    let mut differ = Vec::new();
    for (i, t) in texts.iter().enumerate() {
        let got = v.polarity_scores(t);
        let want = &reference[i];
        for (k, g) in [("compound", got.compound), ("pos", got.pos), ("neu", got.neu), ("neg", got.neg)] {
            let w = want[k].as_f64().unwrap();
            if (g - w).abs() > 1e-4 {
                differ.push(format!("{t:?}: {k} {g} vs reference {w}"));
            }
        }
        if i < 200 {
            assert_eq!(out["items"][i]["compound"].as_f64().unwrap(), got.compound);
        }
    }
    assert!(differ.is_empty(), "{} of {} differ:\n{}", differ.len(), texts.len(), differ.join("\n"));
    // The set is varied: both signs and neutral occur, and many use "but", caps, emoji.
    let compounds: Vec<f64> =
        reference.as_array().unwrap().iter().map(|s| s["compound"].as_f64().unwrap()).collect();
    assert!(compounds.iter().filter(|c| **c > 0.05).count() > 100);
    assert!(compounds.iter().filter(|c| **c < -0.05).count() > 100);
    assert!(texts.iter().filter(|t| t.to_lowercase().contains(" but ")).count() > 100);
}

#[tokio::test]
async fn the_aggregate_sums_up_a_dataset_column() {
    let env = Env::new();
    env.put(
        "s1",
        "reviews.csv",
        b"id,review\n1,I love this phone. It is great!\n2,Terrible battery and awful screen.\n3,It arrived on Tuesday.\n4,Not bad at all\n",
    );
    let out = env.ok("analyze_sentiment", json!({"source": "reviews.csv", "column": "review"})).await;
    let agg = &out["aggregate"];
    assert_eq!(out["count"], 4);
    assert_eq!(agg["positive"], 2, "{out}");
    assert_eq!(agg["negative"], 1);
    assert_eq!(agg["neutral"], 1);
    assert_eq!(agg["share_positive"], 0.5);
    assert_eq!(agg["most_positive"][0]["index"], 0, "{out}");
    assert_eq!(agg["most_negative"][0]["text"], "Terrible battery and awful screen.");
    let items = out["items"].as_array().unwrap();
    let mean = items.iter().map(|i| i["compound"].as_f64().unwrap()).sum::<f64>() / 4.0;
    assert!((agg["mean_compound"].as_f64().unwrap() - mean).abs() < 1e-4);
    // The same data inline, as JSON rows or a SQL result, scores the same.
    let rows: Vec<Value> = items.iter().map(|i| json!({"review": i["text"]})).collect();
    let inline = env.ok("analyze_sentiment", json!({"source": {"json": rows}, "column": "review"})).await;
    assert_eq!(inline["aggregate"], out["aggregate"]);
}

#[tokio::test]
async fn bad_input_is_refused_with_a_clear_error() {
    let env = Env::new();
    assert!(env.err("analyze_sentiment", json!({"text": "   "})).await.contains("`text` is empty"));
    assert!(env.err("analyze_sentiment", json!({})).await.contains("exactly one of"));
    let big = "good ".repeat(2 * 1024 * 1024);
    let e = env.err("analyze_sentiment", json!({"text": big})).await;
    assert!(e.contains("the limit is 2097152 bytes"), "{e}");
    env.put("s1", "r.csv", b"id,review\n1,fine\n");
    let e = env.err("analyze_sentiment", json!({"source": "r.csv", "column": "text"})).await;
    assert!(e.contains("no column `text`") && e.contains("`review`"), "{e}");
    env.put("s1", "latin1.csv", b"id,review\n1,caf\xe9 tr\xe8s bon\n");
    let e = env.err("analyze_sentiment", json!({"source": "latin1.csv", "column": "review"})).await;
    assert!(e.contains("not UTF-8"), "{e}");
    let e = env.err("analyze_sentiment", json!({"source": "../etc/passwd", "column": "x"})).await;
    assert!(e.to_lowercase().contains("workspace") || e.contains(".."), "{e}");
}
