//! Local provider benchmark: SmolLM2-135M-Instruct Q4_1, a 200-token prompt, 64 new tokens
//! (greedy). Prints load time, prompt and generation tokens/s and peak RSS of our provider, then
//! the same numbers from llama.cpp itself (llama-bench's method, see `llama_ref.cpp`) on the same
//! GGUF and thread count, and the ratio ours / llama.cpp for generation (target ≥ 0.8).
//!
//! `cargo bench -p vana-local --bench local` (release). `VANA_LOCAL_THREADS` sets the threads
//! of both; `VANA_BENCH_REPS` the repetitions (default 7),
//! `VANA_LOCAL_N_CTX` our context window (default 8192).
//!
//! The reference: the llama.cpp sources vendored in the `llama-cpp-sys-2` crate leave out
//! `tools/llama-bench`, so llama-bench itself cannot be built from them. Instead this bench
//! compiles `llama_ref.cpp` (llama-bench's pp/tg loops: random tokens, `llama_decode`, no
//! sampling) with `c++` against those vendored headers and the static llama.cpp libraries that
//! `llama-cpp-sys-2` built into this target dir (the very same build and CPU flags as ours), into
//! `/tmp` (never into the repository).

use futures::StreamExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use vana_core::{Content, GenerationConfig, LlmRequest, Model};
use vana_local::{LoadOptions, LocalModel, DEFAULT_MODEL};

const PROMPT_TOKENS: u32 = 200;
const GEN_TOKENS: u32 = 64;

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: then one quick round,
    // without the reference, as a smoke test.
    let benching = std::env::args().any(|a| a == "--bench");
    let reps: usize = match std::env::var("VANA_BENCH_REPS").ok().and_then(|v| v.parse().ok()) {
        Some(n) if benching => n,
        _ if benching => 7,
        _ => 1,
    };
    let options = LoadOptions::default();
    let path =
        vana_local::model_path(DEFAULT_MODEL, &vana_assets::default_models_dir()).expect("SmolLM2 GGUF");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();

    // Our provider twice: as configured (several conversations cached, `slots`), and with one
    // slot (a single conversation, as llama-bench measures). Loads are timed on first load.
    let started = Instant::now();
    let model = LocalModel::load(&path, &options).expect("load").with_temperature(0.0);
    let load = started.elapsed();

    // Find the number of filler words giving a 200-token prompt (chat template included).
    let prompt = |words: usize, run: usize| {
        let filler: Vec<&str> = FILLER.split_whitespace().cycle().take(words).collect();
        format!(
            "Run {run}. {} Now write a long, detailed essay about the history of the sea.",
            filler.join(" ")
        )
    };
    let count = |text: String| {
        rt.block_on(generate(&model, text, 1));
        model.last_stats().unwrap().prompt_tokens
    };
    // A smoke run skips the search and generates a few tokens only.
    let n_new = if benching { GEN_TOKENS } else { 8 };
    let (mut lo, mut hi) = if benching { (1usize, 400usize) } else { (140, 140) };
    while lo < hi {
        let mid = (lo + hi) / 2;
        if count(prompt(mid, 0)) < PROMPT_TOKENS {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let words = lo;

    // Warm-up (this also fills the configured model's slots with other conversations), then
    // `reps` rounds of one run of each (interleaved, so all see the same machine load); medians
    // are reported. A different first word each run defeats the prompt cache.
    for w in 0..if benching { options.slots as usize } else { 1 } {
        rt.block_on(generate(&model, prompt(words, 1000 + w), n_new));
    }
    // Peak RSS of one loaded model that has served requests (before the second one loads).
    let rss = peak_rss_kib();
    let single_options = LoadOptions { slots: 1, ..options.clone() };
    let single = LocalModel::load(&path, &single_options).expect("load").with_temperature(0.0);
    rt.block_on(generate(&single, prompt(words, 1000), n_new));
    let mut ours = [Runs::default(), Runs::default(), Runs::default()];
    let (mut n_prompt, mut n_gen) = (0, 0);
    let mut ref_error = None;
    for run in 0..reps {
        for (i, m) in [&model, &single].into_iter().enumerate() {
            rt.block_on(generate(m, prompt(words, run + 1), n_new));
            let s = m.last_stats().unwrap();
            ours[i].pp.push(s.prompt_tokens_evaluated as f64 / s.prompt_time.as_secs_f64());
            ours[i].tg.push(s.generated_tokens as f64 / s.generation_time.as_secs_f64());
            n_prompt = s.prompt_tokens;
            n_gen = s.generated_tokens;
        }
        if !benching {
            ref_error = Some("smoke run (cargo test): no reference; use cargo bench".to_string());
        } else if ref_error.is_none() {
            match reference(&path, options.threads, n_prompt, GEN_TOKENS, 1) {
                Ok((p, t)) => {
                    ours[2].pp.push(p);
                    ours[2].tg.push(t);
                }
                Err(e) => ref_error = Some(e),
            }
        }
    }
    let [configured, single, reference] = ours.map(|r| (median(r.pp), median(r.tg)));

    println!(
        "vana-local bench: {} ({} threads, n_ctx {}, {reps} rounds, medians; {n_prompt}-token prompt, {n_gen} new tokens, greedy)",
        path.display(),
        options.threads,
        model.info().n_ctx
    );
    println!(
        "  load {:.0} ms | peak RSS {:.1} MiB (process, one model loaded and used)",
        load.as_secs_f64() * 1e3,
        rss as f64 / 1024.0
    );
    println!(
        "  ours, {} slots (all holding other conversations): prompt {:.1} tok/s | generation {:.1} tok/s",
        options.slots, configured.0, configured.1
    );
    println!("  ours, 1 slot: prompt {:.1} tok/s | generation {:.1} tok/s", single.0, single.1);
    match ref_error {
        None => {
            println!(
                "  llama.cpp (llama-bench method): prompt {:.1} tok/s | generation {:.1} tok/s",
                reference.0, reference.1
            );
            println!(
                "  ratio ours/llama.cpp, generation (target >= 0.80): {:.2} with 1 slot, {:.2} with {} | prompt: {:.2}, {:.2}",
                single.1 / reference.1,
                configured.1 / reference.1,
                options.slots,
                single.0 / reference.0,
                configured.0 / reference.0
            );
        }
        Some(e) => println!("  llama.cpp reference not run: {e}"),
    }
}

#[derive(Default)]
struct Runs {
    pp: Vec<f64>,
    tg: Vec<f64>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

async fn generate(model: &LocalModel, text: String, max_tokens: u32) {
    let request = LlmRequest {
        contents: vec![Content::user_text(text)],
        config: GenerationConfig { max_output_tokens: Some(max_tokens), ..Default::default() },
        ..Default::default()
    };
    let mut stream = model.generate(request.into(), false).await.expect("generate");
    while let Some(r) = stream.next().await {
        r.expect("response");
    }
}

/// VmHWM (peak resident set) of this process, KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// The llama-cpp-sys-2 build output dir of this target dir (the newest one with libllama.a).
fn sys_out_dir() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let profile_dir = exe.parent().and_then(Path::parent).ok_or("no target dir")?;
    let build = profile_dir.join("build");
    let mut best: Option<(std::time::SystemTime, PathBuf)> = None;
    for entry in std::fs::read_dir(&build).map_err(|e| format!("{}: {e}", build.display()))?.flatten() {
        let out = entry.path().join("out");
        let lib = ["lib", "lib64"].iter().map(|d| out.join(d).join("libllama.a")).find(|p| p.is_file());
        if entry.file_name().to_string_lossy().starts_with("llama-cpp-sys-2-") {
            if let Some(lib) = lib {
                let t = lib.metadata().and_then(|m| m.modified()).map_err(|e| e.to_string())?;
                if best.as_ref().is_none_or(|(bt, _)| t > *bt) {
                    best = Some((t, out));
                }
            }
        }
    }
    best.map(|(_, p)| p)
        .ok_or_else(|| format!("no llama-cpp-sys-2 build with libllama.a under {}", build.display()))
}

/// Builds (once) and runs `llama_ref.cpp`; returns (prompt tok/s, generation tok/s).
fn reference(
    model: &Path,
    threads: u32,
    n_prompt: u32,
    n_gen: u32,
    reps: usize,
) -> Result<(f64, f64), String> {
    let out = sys_out_dir()?;
    let cache = std::fs::read_to_string(out.join("build/CMakeCache.txt"))
        .map_err(|e| format!("CMakeCache.txt: {e}"))?;
    let src = cache
        .lines()
        .find_map(|l| l.strip_prefix("CMAKE_HOME_DIRECTORY:INTERNAL="))
        .map(PathBuf::from)
        .ok_or("CMakeCache.txt names no source dir")?;
    let lib = ["lib", "lib64"].iter().map(|d| out.join(d)).find(|d| d.join("libllama.a").is_file()).unwrap();
    let ref_src = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/llama_ref.cpp");
    let bin = std::env::temp_dir()
        .join(format!("vana-llama-ref-{:x}", fingerprint(&[&lib.join("libllama.a"), &ref_src])));
    if !bin.is_file() {
        let status = Command::new(std::env::var("CXX").unwrap_or_else(|_| "c++".into()))
            .args(["-O3", "-std=c++17"])
            .arg(&ref_src)
            .arg("-I")
            .arg(src.join("include"))
            .arg("-I")
            .arg(src.join("ggml/include"))
            .arg("-L")
            .arg(&lib)
            .args(["-lllama", "-lggml", "-lggml-cpu", "-lggml-base", "-fopenmp", "-lpthread", "-lm", "-o"])
            .arg(&bin)
            .status()
            .map_err(|e| format!("cannot run c++: {e}"))?;
        if !status.success() {
            return Err(format!("compiling {} failed", ref_src.display()));
        }
    }
    let output = Command::new(&bin)
        .arg(model)
        .args([threads.to_string(), n_prompt.to_string(), n_gen.to_string(), reps.to_string()])
        .output()
        .map_err(|e| format!("{}: {e}", bin.display()))?;
    if !output.status.success() {
        return Err(format!("{} failed: {}", bin.display(), String::from_utf8_lossy(&output.stderr)));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let value = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .ok_or_else(|| format!("no {key} in: {text}"))
    };
    Ok((value("pp_tps")?, value("tg_tps")?))
}

/// A cheap fingerprint of files (path, size, mtime) naming the cached reference binary.
fn fingerprint(files: &[&Path]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for f in files {
        f.hash(&mut h);
        if let Ok(m) = std::fs::metadata(f) {
            m.len().hash(&mut h);
            m.modified().ok().hash(&mut h);
        }
    }
    h.finish()
}

const FILLER: &str = "The harbour town woke slowly as fishing boats returned with nets full of silver \
fish, gulls circling above the masts while merchants opened their stalls along the stone quay and \
children ran between barrels of salt, ropes and crates of oranges brought from distant islands.";
