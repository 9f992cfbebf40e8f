//! `fetch_url`'s Markdown extraction (charset decoding, Readability, Markdown: the content side
//! of a fetch, `fetch::render`) against trafilatura (the reference extractor) over the same
//! real documentation pages (Debian's python3-doc, written by nobody here), both on the same
//! number of cores, measured in the same run: pages per second of each and their ratio, and how
//! far the main text agrees (token F1 of VANA's `text` against trafilatura's `txt`, per page and
//! on average, with precision and recall to tell kept boilerplate from dropped content).
//!
//! `scripts/bench-research.sh` (installs trafilatura into `.cache/research-venv` first), or
//! `cargo bench -p vana-tools-web --bench extract` with `$TRAFILATURA_PYTHON` naming a Python
//! that has trafilatura. `BENCH_CORES` (2) and `BENCH_ROUNDS` (5) change the run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use vana_tools_web::fetch::{render, Body, Format};

const PYDOC: &str = "/usr/share/doc/python3-doc/html";

/// 38 pages: library reference pages of every size, tutorial, HOWTO and FAQ pages.
const PAGES: &[&str] = &[
    "library/json.html",
    "library/csv.html",
    "library/re.html",
    "library/datetime.html",
    "library/collections.html",
    "library/itertools.html",
    "library/functools.html",
    "library/pathlib.html",
    "library/subprocess.html",
    "library/logging.html",
    "library/argparse.html",
    "library/sqlite3.html",
    "library/string.html",
    "library/threading.html",
    "library/socket.html",
    "library/pickle.html",
    "library/random.html",
    "library/math.html",
    "library/heapq.html",
    "library/shutil.html",
    "library/textwrap.html",
    "library/base64.html",
    "library/hashlib.html",
    "library/tempfile.html",
    "library/uuid.html",
    "library/glob.html",
    "library/zipfile.html",
    "library/enum.html",
    "library/dataclasses.html",
    "library/contextlib.html",
    "tutorial/introduction.html",
    "tutorial/controlflow.html",
    "tutorial/datastructures.html",
    "tutorial/classes.html",
    "howto/regex.html",
    "howto/sorting.html",
    "howto/logging.html",
    "faq/programming.html",
];

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("TRAFILATURA_PYTHON") {
        return Some(PathBuf::from(p));
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache/research-venv/bin/python");
    venv.exists().then_some(venv)
}

fn body(rel: &str, bytes: Vec<u8>) -> Body {
    let url = format!("http://127.0.0.1/{rel}");
    Body {
        url: url.clone(),
        final_url: url,
        status: 200,
        content_type: Some("text/html".into()),
        bytes,
        cut: false,
        from_cache: false,
    }
}

/// One page through `fetch_url`'s rendering, as the tool returns it.
fn extract(rt: &tokio::runtime::Runtime, body: &Body, format: Format) -> String {
    let page = rt.block_on(render(body, format, usize::MAX, false)).expect("an HTML page renders");
    page.response["content"].as_str().unwrap_or_default().to_string()
}

/// Lower-cased words (runs of letters and digits), counted.
fn tokens(text: &str) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for t in text.split(|c: char| !c.is_alphanumeric()).filter(|t| !t.is_empty()) {
        *out.entry(t.to_lowercase()).or_insert(0) += 1;
    }
    out
}

/// (precision, recall, F1) of `ours` against `reference`, over token multisets.
fn f1(ours: &str, reference: &str) -> (f64, f64, f64) {
    let (a, b) = (tokens(ours), tokens(reference));
    let overlap: usize = a.iter().map(|(t, n)| (*n).min(*b.get(t).unwrap_or(&0))).sum();
    let (na, nb) = (a.values().sum::<usize>(), b.values().sum::<usize>());
    if na == 0 || nb == 0 {
        return (0.0, 0.0, if na == nb { 1.0 } else { 0.0 });
    }
    let (p, r) = (overlap as f64 / na as f64, overlap as f64 / nb as f64);
    (p, r, if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) })
}

fn main() {
    let cores = env_usize("BENCH_CORES", 2).max(1);
    let rounds = env_usize("BENCH_ROUNDS", 5).max(1);
    let files: Vec<String> = PAGES.iter().map(|p| format!("{PYDOC}/{p}")).collect();
    let bodies: Vec<Body> = PAGES
        .iter()
        .zip(&files)
        .map(|(rel, f)| {
            let bytes = std::fs::read(f).unwrap_or_else(|e| {
                panic!("{f}: {e} (run scripts/setup-research.sh: apt-get install python3-doc)")
            });
            body(rel, bytes)
        })
        .collect();
    let total_bytes: usize = bodies.iter().map(|b| b.bytes.len()).sum();
    println!(
        "BENCH extraction: {} python3-doc pages ({:.1} MiB), {rounds} rounds, {cores} cores each (this machine: {})",
        bodies.len(),
        total_bytes as f64 / 1048576.0,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );

    // VANA: `cores` threads take pages from one queue; a warm-up pass first.
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let texts: Vec<String> = bodies.iter().map(|b| extract(&rt, b, Format::Text)).collect();
    let next = AtomicUsize::new(0);
    let jobs = rounds * bodies.len();
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..cores {
            s.spawn(|| {
                let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= jobs {
                        break;
                    }
                    std::hint::black_box(extract(&rt, &bodies[i % bodies.len()], Format::Markdown));
                }
            });
        }
    });
    let vana_pps = jobs as f64 / start.elapsed().as_secs_f64();
    println!("BENCH vana fetch_url markdown: {vana_pps:.1} pages/s");

    let Some(py) = python() else {
        println!(
            "BENCH trafilatura: not installed (run scripts/bench-research.sh, or set TRAFILATURA_PYTHON); \
             no ratio or agreement"
        );
        return;
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/reference/trafilatura_extract.py");
    let out = Command::new(&py)
        .arg(&script)
        .arg(cores.to_string())
        .arg(rounds.to_string())
        .args(&files)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", py.display()));
    assert!(out.status.success(), "trafilatura failed: {}", String::from_utf8_lossy(&out.stderr));
    let reference: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("the reference prints JSON");
    let ref_pps = reference["pages_per_sec"].as_f64().unwrap();
    println!(
        "BENCH trafilatura {} markdown ({cores} processes): {ref_pps:.1} pages/s",
        reference["version"].as_str().unwrap_or("?")
    );
    let ratio = vana_pps / ref_pps;
    println!(
        "BENCH speed ratio vana/trafilatura: {ratio:.2}x (target >= 5x: {})",
        if ratio >= 5.0 { "met" } else { "NOT met" }
    );

    let ref_texts: Vec<&str> =
        reference["texts"].as_array().unwrap().iter().map(|t| t.as_str().unwrap_or("")).collect();
    let mut sum = (0.0, 0.0, 0.0);
    for ((rel, ours), theirs) in PAGES.iter().zip(&texts).zip(&ref_texts) {
        let (p, r, f) = f1(ours, theirs);
        sum = (sum.0 + p, sum.1 + r, sum.2 + f);
        println!(
            "BENCH   {rel:<32} F1 {f:.3}  precision {p:.3}  recall {r:.3}  ({} vs {} words)",
            tokens(ours).values().sum::<usize>(),
            tokens(theirs).values().sum::<usize>()
        );
    }
    let n = PAGES.len() as f64;
    let mean_f1 = sum.2 / n;
    println!(
        "BENCH main-text agreement with trafilatura: mean token F1 {mean_f1:.3} (precision {:.3}, recall {:.3}; target >= 0.9: {})",
        sum.0 / n,
        sum.1 / n,
        if mean_f1 >= 0.9 { "met" } else { "NOT met" }
    );
}
