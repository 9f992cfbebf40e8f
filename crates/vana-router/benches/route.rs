//! Per-decision routing latency over `eval/routing.yaml`, with a baseline measured in the same
//! run so the numbers can be compared across machines and load.
//!
//! Baseline: one 384 → 1536 dense layer (the FFN up-projection, a packed [`Linear`]) over as
//! many rows as the request has tokens. The encoder's pure matrix work is exactly 18 of those
//! (per layer: QKV 1152 + output 384 + up 1536 + down 1536 outputs = 3 × 1536 × 384 MACs per
//! token, six layers), so `route / baseline ≈ 18` would mean no overhead at all; the excess is
//! streaming 42 MB of cold weights, attention, layer norms, GELU, tokenizing and scoring.
//!
//! `cargo bench -p vana-router --bench route` (release). Without `--bench` (as under
//! `cargo test --all-targets`) it routes a few requests only, as a smoke test.

use std::sync::Arc;
use std::time::{Duration, Instant};
use vana_router::eval::percentile;
use vana_router::linear::Linear;
use vana_router::{AgentProfile, Embedder, EvalSet, Router};

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let models = vana_assets::default_models_dir();
    let dir = vana_assets::ensure(&vana_assets::MINILM_L6_V2, &models).expect("all-MiniLM-L6-v2");
    let start = Instant::now();
    let embedder = Arc::new(Embedder::load(&dir).expect("load the model"));
    let load = start.elapsed();
    let agents = AgentProfile::load_dir(&root.join("agents")).expect("agents/*.yaml");
    let set = EvalSet::load(&root.join("eval/routing.yaml")).expect("eval/routing.yaml");
    let start = Instant::now();
    let router = Router::new(embedder.clone(), &agents);
    let refs: usize = agents.iter().map(|a| 1 + a.examples.len()).sum();
    let build = start.elapsed();

    // A deterministic, non-trivial 384 -> 1536 layer and input.
    let weights: Vec<f32> = (0..1536 * 384usize).map(|i| ((i * 7919 % 1000) as f32 - 500.0) * 1e-4).collect();
    let baseline = Linear::new(&weights, &vec![0.01; 1536], 1536, 384);
    let max_tokens = 256;
    let input: Vec<f32> = (0..max_tokens * 384).map(|i| ((i % 97) as f32 - 48.0) * 1e-2).collect();
    let mut output = vec![0.0f32; max_tokens * 1536];

    let cases: Vec<&str> =
        set.cases.iter().map(|c| c.request.as_str()).take(if full { usize::MAX } else { 3 }).collect();
    let rounds = if full { 5 } else { 1 };
    for text in cases.iter().take(5) {
        router.route(text);
    }
    let (mut route, mut base, mut tokenize, mut ratios, mut tokens) = (vec![], vec![], vec![], vec![], 0);
    for _ in 0..rounds {
        for text in &cases {
            let t = Instant::now();
            let ids = embedder.tokenizer().encode(text);
            tokenize.push(t.elapsed());
            tokens += ids.len();
            let rows = ids.len();

            let decision = router.route(text);
            std::hint::black_box(&decision);

            let t = Instant::now();
            baseline.forward(&input[..rows * 384], &mut output[..rows * 1536]);
            std::hint::black_box(&output);
            let b = t.elapsed();

            ratios.push(decision.elapsed.as_secs_f64() / b.as_secs_f64());
            route.push(decision.elapsed);
            base.push(b);
        }
    }
    for v in [&mut route, &mut base, &mut tokenize] {
        v.sort();
    }
    ratios.sort_by(f64::total_cmp);
    let n = route.len();
    println!("model load {:.0} ms; router build {:.0} ms ({refs} reference texts)", ms(load), ms(build));
    println!(
        "{n} decisions ({} requests x {rounds} rounds), mean {:.1} tokens per request",
        cases.len(),
        tokens as f64 / n as f64
    );
    println!(
        "route:    p50 {:.2} ms  p95 {:.2} ms  mean {:.2} ms",
        ms(percentile(&route, 0.5)),
        ms(percentile(&route, 0.95)),
        ms(route.iter().sum::<Duration>() / n as u32)
    );
    println!(
        "baseline (one 384->1536 matmul over the request's tokens): p50 {:.3} ms  p95 {:.3} ms",
        ms(percentile(&base, 0.5)),
        ms(percentile(&base, 0.95))
    );
    println!(
        "ratio route/baseline per decision: p50 {:.1}  p95 {:.1}  (pure matmul work = 18)",
        ratios[(n - 1) / 2],
        ratios[((n as f64 * 0.95).ceil() as usize).clamp(1, n) - 1]
    );
    println!("tokenizer alone: p50 {:.1} us", percentile(&tokenize, 0.5).as_secs_f64() * 1e6);
}
