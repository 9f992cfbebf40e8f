//! Sandbox overhead benchmark: bare interpreter vs sandboxed (cold and warm
//! pool), latency medians/p95 and throughput on all cores.
//!
//! Run as root: `cargo bench -p vana-sandbox --bench sandbox`.
//! Bare and sandboxed runs use the same script file, JavaScript heap flag and an
//! equally clean environment; the sandboxed Python and JavaScript runs also go
//! through the notebook-cell wrapper (`echo` in the policy), so its cost is part
//! of the measured overhead.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use vana_sandbox::{ExecutionEngine, ExecutionRequest, SandboxPolicy};

const ITER: usize = 40;
const THROUGHPUT_SECS: f64 = 4.0;
const ROUNDS: usize = 4;

struct Lang {
    name: &'static str,
    interp: &'static str,
    /// Same as the policy's interpreter args (with {heap_mb} = 384 for 512 MB).
    args: &'static [&'static str],
    ext: &'static str,
    code: &'static str,
}

const LANGS: &[Lang] = &[
    Lang { name: "python", interp: "/usr/bin/python3", args: &[], ext: "py", code: "print(1)\n" },
    Lang {
        name: "javascript",
        interp: "/usr/bin/node",
        args: &["--max-old-space-size=384"],
        ext: "js",
        code: "console.log(1)\n",
    },
    Lang { name: "shell", interp: "/bin/sh", args: &[], ext: "sh", code: "echo 1\n" },
];

fn stats(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let med = v[v.len() / 2];
    let p95 = v[((v.len() as f64) * 0.95) as usize - 1];
    (med, p95)
}

/// Same environment as the sandbox gives the language (clean host env otherwise).
fn lang_env(l: &Lang) -> Vec<(String, String)> {
    static CACHE: std::sync::OnceLock<Vec<Vec<(String, String)>>> = std::sync::OnceLock::new();
    let all = CACHE.get_or_init(|| LANGS.iter().map(compute_env).collect());
    let i = LANGS.iter().position(|x| x.name == l.name).unwrap();
    all[i].clone()
}

fn compute_env(l: &Lang) -> Vec<(String, String)> {
    let p = SandboxPolicy::builtin();
    let mut env: Vec<(String, String)> = vec![
        ("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into()),
        ("LANG".into(), "C.UTF-8".into()),
        ("LC_ALL".into(), "C.UTF-8".into()),
    ];
    if let Ok((_, cfg)) = p.language(l.name) {
        env.extend(cfg.env.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    env
}

fn bare_once(l: &Lang, script: &std::path::Path) {
    let out = Command::new(l.interp)
        .args(l.args)
        .arg(script)
        .env_clear()
        .envs(lang_env(l))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.stdout, b"1\n");
}

fn sandboxed_once(e: &ExecutionEngine, l: &Lang) -> bool {
    let r = e.execute(ExecutionRequest::new(l.name, l.code)).unwrap();
    assert_eq!(r.stdout, "1\n", "{r:?}");
    r.warm_start
}

/// CPU time (user + system) of this process and its reaped children, ms.
fn cpu_ms() -> f64 {
    let get = |who| {
        // SAFETY: getrusage fills a plain struct.
        let mut r: libc::rusage = unsafe { std::mem::zeroed() };
        unsafe { libc::getrusage(who, &mut r) };
        let tv = |t: libc::timeval| t.tv_sec as f64 * 1e3 + t.tv_usec as f64 / 1e3;
        tv(r.ru_utime) + tv(r.ru_stime)
    };
    get(libc::RUSAGE_SELF) + get(libc::RUSAGE_CHILDREN)
}

fn time_ms(f: impl FnOnce()) -> f64 {
    let t = Instant::now();
    f();
    t.elapsed().as_secs_f64() * 1000.0
}

fn throughput(threads: usize, f: Arc<dyn Fn() + Send + Sync>, secs: f64) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let hs: Vec<_> = (0..threads)
        .map(|_| {
            let (stop, count, f) = (stop.clone(), count.clone(), f.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    f();
                    count.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(secs));
    stop.store(true, Ordering::Relaxed);
    for h in hs {
        h.join().unwrap();
    }
    count.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let root = std::env::temp_dir().join(format!("vana-sandbox-bench-{}", std::process::id()));
    let mut cold_policy = SandboxPolicy::builtin();
    cold_policy.limits.pool_size = 0;
    let cold = ExecutionEngine::new(cold_policy, root.join("cold")).expect("engine");
    let mut warm_policy = SandboxPolicy::builtin();
    warm_policy.limits.pool_size = 2;
    let warm = ExecutionEngine::new(warm_policy, root.join("warm")).expect("engine");
    let scripts = root.join("bare");
    std::fs::create_dir_all(&scripts).unwrap();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);

    println!("vana-sandbox benchmark: {ITER} runs each, medians and p95 in ms, {cores} cores");
    println!(
        "{:<11} {:>16} {:>16} {:>16} {:>9} {:>9} {:>9} {:>9}",
        "language", "bare", "cold", "warm", "cold-bare", "warm-bare", "cold/bare", "warm/bare"
    );
    for l in LANGS {
        let script = scripts.join(format!("main.{}", l.ext));
        std::fs::write(&script, l.code).unwrap();
        // warm-up
        for _ in 0..3 {
            bare_once(l, &script);
            sandboxed_once(&cold, l);
            sandboxed_once(&warm, l);
        }
        let mut bare = Vec::new();
        let mut c = Vec::new();
        let mut w = Vec::new();
        let mut warm_hits = 0;
        let settle = |e: &ExecutionEngine| {
            // Let the pool finish refilling so it does not steal CPU from the next measurement.
            while e.warm_ready() < 2 {
                std::thread::sleep(Duration::from_millis(1));
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        for _ in 0..ITER {
            settle(&warm);
            bare.push(time_ms(|| bare_once(l, &script)));
            settle(&warm);
            c.push(time_ms(|| {
                sandboxed_once(&cold, l);
            }));
            settle(&warm);
            w.push(time_ms(|| {
                if sandboxed_once(&warm, l) {
                    warm_hits += 1;
                }
            }));
        }
        let (bm, bp) = stats(bare);
        let (cm, cp) = stats(c);
        let (wm, wp) = stats(w);
        println!(
            "{:<11} {:>7.2} ({:>6.2}) {:>7.2} ({:>6.2}) {:>7.2} ({:>6.2}) {:>9.2} {:>9.2} {:>9.2} {:>9.2}   [warm hits {warm_hits}/{ITER}]",
            l.name, bm, bp, cm, cp, wm, wp, cm - bm, wm - bm, cm / bm, wm / bm
        );
    }

    println!(
        "\nCPU per run (user+sys of this process and its children, pool refills included; kernel worker threads not counted), ms:"
    );
    for l in LANGS {
        let script = scripts.join(format!("main.{}", l.ext));
        let n = 30;
        let per_run = |f: &dyn Fn()| {
            let c0 = cpu_ms();
            for _ in 0..n {
                f();
            }
            c0
        };
        let c0 = per_run(&|| bare_once(l, &script));
        let bare = (cpu_ms() - c0) / n as f64;
        let c0 = per_run(&|| {
            sandboxed_once(&cold, l);
        });
        let cold_cpu = (cpu_ms() - c0) / n as f64;
        while warm.warm_ready() < 2 {
            std::thread::sleep(Duration::from_millis(1));
        }
        let c0 = per_run(&|| {
            sandboxed_once(&warm, l);
        });
        while warm.warm_ready() < 2 {
            std::thread::sleep(Duration::from_millis(1));
        }
        let warm_cpu = (cpu_ms() - c0) / n as f64;
        println!(
            "{:<11} bare {:>6.2}  sandboxed(pool) {:>6.2} (bare/sandboxed {:>5.1}%)  sandboxed(cold) {:>6.2} ({:>5.1}%)",
            l.name,
            bare,
            warm_cpu,
            100.0 * bare / warm_cpu,
            cold_cpu,
            100.0 * bare / cold_cpu
        );
    }

    for threads in [cores, 2 * cores] {
        println!(
            "\nthroughput, {threads} client threads on {cores} cores, {ROUNDS} interleaved rounds of {:.1} s per mode (runs/s):",
            THROUGHPUT_SECS / ROUNDS as f64
        );
        for (idx, l) in LANGS.iter().enumerate() {
            let script = scripts.join(format!("main.{}", l.ext));
            let modes: Vec<Arc<dyn Fn() + Send + Sync>> = vec![
                Arc::new(move || bare_once(&LANGS[idx], &script)),
                {
                    let w = warm.clone();
                    Arc::new(move || {
                        sandboxed_once(&w, &LANGS[idx]);
                    })
                },
                {
                    let c = cold.clone();
                    Arc::new(move || {
                        sandboxed_once(&c, &LANGS[idx]);
                    })
                },
            ];
            // Interleave the modes so load drift on a shared machine hits all alike.
            let mut sums = [0.0f64; 3];
            for _ in 0..ROUNDS {
                for (m, f) in modes.iter().enumerate() {
                    sums[m] += throughput(threads, f.clone(), THROUGHPUT_SECS / ROUNDS as f64);
                }
            }
            let [bare, pool, cold_t] = sums.map(|x| x / ROUNDS as f64);
            println!(
                "{:<11} bare {:>7.1}  sandboxed(pool) {:>7.1} ({:>5.1}%)  sandboxed(cold) {:>7.1} ({:>5.1}%)",
                l.name,
                bare,
                pool,
                100.0 * pool / bare,
                cold_t,
                100.0 * cold_t / bare
            );
        }
    }
    drop((cold, warm));
    let _ = std::fs::remove_dir_all(&root);
}
