//! `classify_text`: zero-shot labels by cosine similarity with the all-MiniLM-L6-v2 embedder
//! (provisioned into $VANA_MODELS_DIR like the router's).

mod common;
use common::*;
use serde_json::json;

#[tokio::test]
async fn texts_get_the_label_they_are_about_with_the_embedders_similarities() {
    let env = Env::new();
    let labels = ["sports", "cooking", "finance", "weather"];
    let texts = [
        "The striker scored twice in the second half and the team won the championship.",
        "Whisk the eggs with sugar, fold in the flour and bake the cake for forty minutes.",
        "The central bank raised interest rates and stock markets fell sharply.",
        "Heavy rain and strong winds are expected tomorrow, with snow in the mountains.",
        "Our goalkeeper saved a penalty in the final minute of the match.",
    ];
    let out = env.ok("classify_text", json!({"texts": texts, "labels": labels})).await;
    let got: Vec<&str> =
        out["results"].as_array().unwrap().iter().map(|r| r["label"].as_str().unwrap()).collect();
    assert_eq!(got, ["sports", "cooking", "finance", "weather", "sports"], "{out}");
    assert_eq!(out["label_counts"][0], json!({"label": "sports", "count": 2}));
    // The similarity is the embedder's own cosine, label phrased by the template.
    let model = vana_assets::ensure(&vana_assets::MINILM_L6_V2, &vana_assets::default_models_dir()).unwrap();
    let e = vana_router::Embedder::load(&model).unwrap();
    let (t, l) = (e.embed(texts[2]), e.embed("This text is about finance."));
    let cos: f32 = t.iter().zip(&l).map(|(a, b)| a * b).sum();
    let reported = &out["results"][2]["scores"][0];
    assert_eq!(reported["label"], "finance");
    assert!((reported["similarity"].as_f64().unwrap() - f64::from(cos)).abs() < 1e-3, "{reported} vs {cos}");
    assert!(out["results"][0]["margin"].as_f64().unwrap() > 0.0);
    // A custom template is used as given.
    let out = env
        .ok(
            "classify_text",
            json!({"text": texts[3], "labels": labels, "hypothesis_template": "A forecast of {}."}),
        )
        .await;
    assert_eq!(out["results"][0]["label"], "weather", "{out}");
}

#[tokio::test]
async fn bad_labels_and_texts_are_refused() {
    let env = Env::new();
    let e = env.err("classify_text", json!({"text": "hello", "labels": ["only"]})).await;
    assert!(e.contains("2 to 50"), "{e}");
    let e = env
        .err(
            "classify_text",
            json!({"text": "hello", "labels": ["a", "b"], "hypothesis_template": "no slot"}),
        )
        .await;
    assert!(e.contains("`{}`"), "{e}");
    let e = env.err("classify_text", json!({"texts": ["fine", ""], "labels": ["a", "b"]})).await;
    assert!(e.contains("`texts[1]` is empty"), "{e}");
    let e = env.err("classify_text", json!({"labels": ["a", "b"]})).await;
    assert!(e.contains("give the text"), "{e}");
}
