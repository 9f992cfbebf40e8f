//! `analyze_dataset` on a 1,000,000-row CSV against pandas' `read_csv` + `describe()` on the
//! same file, in one run: the time ratio and the peak memory of both.
//!
//! Run: `scripts/setup-data.sh && cargo bench -p vana-tools --bench analyze`.
//! Each side runs in its own process (this binary re-executed with `--ours`, and the venv's
//! python), timing parse + statistics inside the process and reporting its peak RSS (VmHWM).
//! Ours loads the file the way the tool does (`Table::from_csv_file`, as `load_file` calls it),
//! just as pandas' `read_csv` is given the path. For a breakdown, run the bench binary as
//! `VANA_BENCH_PHASES=1 <bench binary> --ours <csv file>`: after its measurement it prints the
//! parse and summary times, the summary time without the `id` column (which alone proves the rows
//! distinct, so that the general duplicate search runs) and the in-memory path's times
//! (`std::fs::read` + `Table::from_csv`) on stderr.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const ROWS: usize = 1_000_000;
const RUNS: usize = 3;

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn ours(file: &str) {
    let start = Instant::now();
    let t = vana_tools_data::data::Table::from_csv_file(
        &std::fs::File::open(Path::new(file)).expect("open the CSV"),
    )
    .expect("parse the CSV");
    let parsed = start.elapsed().as_secs_f64();
    let summary = vana_tools_data::data::summary(&t);
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(summary["shape"]["rows"], ROWS);
    println!("{secs} {}", peak_rss_kb());
    if std::env::var_os("VANA_BENCH_PHASES").is_some() {
        // After the measurement: the summary without the `id` column (which alone proves the
        // rows distinct), so the general duplicate search runs; then the in-memory path.
        let mut no_id = t.clone();
        no_id.columns.remove(0);
        let s0 = Instant::now();
        let other = vana_tools_data::data::summary(&no_id);
        let general = s0.elapsed().as_secs_f64();
        drop((t, summary, no_id));
        let start = Instant::now();
        let bytes = std::fs::read(file).expect("read the CSV");
        let read = start.elapsed().as_secs_f64();
        let t = vana_tools_data::data::Table::from_csv(&bytes).expect("parse the CSV");
        let inmem = start.elapsed().as_secs_f64();
        vana_tools_data::data::summary(&t);
        let all = start.elapsed().as_secs_f64();
        eprintln!(
            "file: parse {parsed:.3} s, summary {:.3} s (without id: {general:.3} s, {} duplicates) | \
             in memory: read {read:.3} s, parse {:.3} s, summary {:.3} s",
            secs - parsed,
            other["duplicateRows"],
            inmem - read,
            all - inmem
        );
    }
}

const PANDAS: &str = r#"
import sys, time, resource
import pandas as pd
t = time.perf_counter()
df = pd.read_csv(sys.argv[1])
d = df.describe()
secs = time.perf_counter() - t
assert len(df) == int(sys.argv[2])
print(secs, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"#;

fn write_csv(path: &Path) {
    let mut s = String::with_capacity(ROWS * 60);
    s.push_str("id,region,price,qty,active,score,note\n");
    let mut x: u64 = 42;
    let regions = ["north", "south", "east", "west", "central"];
    for i in 0..ROWS {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let r = (x >> 33) as f64 / (1u64 << 31) as f64;
        let price = if i % 20 == 3 { String::new() } else { format!("{:.4}", 10.0 + 90.0 * r) };
        let qty = if i % 33 == 5 { "NA".into() } else { format!("{}", (x >> 40) % 50) };
        let note = if i % 7 == 0 { "" } else { ["ok", "late", "lost", "early"][(x >> 20) as usize % 4] };
        s.push_str(&format!(
            "{i},{},{price},{qty},{},{:.6},{note}\n",
            regions[(x >> 50) as usize % 5],
            if (x >> 10) & 1 == 1 { "True" } else { "False" },
            1.0e6 * r + i as f64
        ));
    }
    std::fs::write(path, s).expect("write the CSV");
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn parse_pair(out: &[u8]) -> (f64, f64) {
    let s = String::from_utf8_lossy(out);
    let mut it = s.split_whitespace();
    let secs: f64 = it.next().and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("bad output: {s}"));
    let kb: f64 = it.next().and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("bad output: {s}"));
    (secs, kb / 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--ours") {
        ours(&args[i + 1]);
        return;
    }
    let venv = std::env::var_os("VANA_DATA_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache/data-venv"));
    let python = venv.join("bin/python");
    assert!(python.is_file(), "{} is missing: run scripts/setup-data.sh first", python.display());
    let file = std::env::temp_dir().join("vana-bench-analyze-1m.csv");
    write_csv(&file);
    let f = file.to_str().unwrap();
    let me = std::env::current_exe().unwrap();
    let (mut ot, mut om, mut pt, mut pm) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let o = Command::new(&me).args(["--ours", f]).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let (t, m) = parse_pair(&o.stdout);
        ot.push(t);
        om.push(m);
        let p = Command::new(&python).args(["-c", PANDAS, f, &ROWS.to_string()]).output().unwrap();
        assert!(p.status.success(), "{}", String::from_utf8_lossy(&p.stderr));
        let (t, m) = parse_pair(&p.stdout);
        pt.push(t);
        pm.push(m);
    }
    let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0) as f64 / 1e6;
    let (o, p, om, pm) = (median(ot), median(pt), median(om), median(pm));
    println!("analyze_dataset vs pandas, {ROWS} rows x 7 columns ({size:.1} MB CSV), median of {RUNS} runs");
    println!("  vana analyze_dataset (parse + describe + missing + duplicates + text stats): {o:.3} s, peak RSS {om:.0} MiB");
    println!("  pandas read_csv + describe():                                               {p:.3} s, peak RSS {pm:.0} MiB");
    println!("  speed-up: {:.2}x (target >= 3x); memory ratio pandas/vana: {:.2}x", p / o, pm / om);
    let _ = std::fs::remove_file(&file);
}
