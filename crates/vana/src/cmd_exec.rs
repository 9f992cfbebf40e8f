//! `vana exec`: runs code in the sandbox directly, prints its output and a resource line.

use anyhow::{anyhow, bail, Context, Result};
use std::io::Write;
use std::path::Path;
use std::time::Duration;
use vana_app::exec::CodeRun;
use vana_app::Config;

/// Arguments of `vana exec`.
#[derive(clap::Args, Debug)]
pub struct ExecArgs {
    /// Language (python, javascript, shell, bash); guessed from the file extension when absent.
    #[arg(long, short)]
    pub lang: Option<String>,
    /// Code to run (instead of a file).
    #[arg(short = 'c', long = "code")]
    pub code: Option<String>,
    /// File to run.
    pub file: Option<String>,
    /// Run in this session's workspace (files persist between runs); default: a throwaway one.
    #[arg(long)]
    pub session: Option<String>,
    /// Wall-clock limit in seconds.
    #[arg(long)]
    pub timeout: Option<f64>,
    /// Print the full result as JSON.
    #[arg(long)]
    pub json: bool,
}

fn guess_language(file: &str) -> Option<&'static str> {
    match Path::new(file).extension()?.to_str()? {
        "py" => Some("python"),
        "js" | "mjs" | "cjs" => Some("javascript"),
        "sh" => Some("shell"),
        "bash" => Some("bash"),
        _ => None,
    }
}

/// Runs `vana exec`; returns the program's exit code.
pub async fn run(config_path: Option<&Path>, args: &ExecArgs) -> Result<i32> {
    let config = Config::load(config_path)?.config;
    let (code, lang) = match (&args.code, &args.file) {
        (Some(c), None) => {
            (c.clone(), args.lang.clone().ok_or_else(|| anyhow!("--lang is required with -c"))?)
        }
        (None, Some(f)) => {
            let code = std::fs::read_to_string(f).with_context(|| format!("cannot read {f}"))?;
            let lang = match &args.lang {
                Some(l) => l.clone(),
                None => guess_language(f)
                    .ok_or_else(|| anyhow!("cannot tell the language of {f}; pass --lang"))?
                    .to_string(),
            };
            (code, lang)
        }
        (Some(_), Some(_)) => bail!("give either -c CODE or a FILE, not both"),
        (None, None) => bail!("nothing to run: give -c CODE or a FILE"),
    };
    let run = CodeRun {
        language: lang,
        code,
        session: args.session.clone(),
        timeout: args.timeout.map(Duration::from_secs_f64),
    };
    let r = vana_app::exec::run_code(&config, run).await.map_err(|e| anyhow!("{e}"))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        std::io::stdout().write_all(r.stdout.as_bytes())?;
        std::io::stderr().write_all(r.stderr.as_bytes())?;
        let mut flags = Vec::new();
        for (on, name) in [
            (r.timed_out, "timed out"),
            (r.oom_killed, "killed: out of memory"),
            (r.pids_limit_hit, "process limit hit"),
            (r.output_truncated, "output truncated"),
        ] {
            if on {
                flags.push(name);
            }
        }
        let status = match (r.exit_code, r.signal) {
            (Some(c), _) => format!("exit {c}"),
            (None, Some(s)) => format!("signal {s}"),
            _ => "no status".into(),
        };
        eprintln!(
            "[{status} | wall {:.1} ms | cpu {:.1} ms | peak memory {:.1} MiB{}{}]",
            r.wall_time_ms,
            r.cpu_time_ms,
            r.peak_memory_bytes as f64 / 1048576.0,
            if r.warm_start { " | warm" } else { "" },
            if flags.is_empty() { String::new() } else { format!(" | {}", flags.join(", ")) }
        );
    }
    Ok(match (r.exit_code, r.signal) {
        (Some(c), _) => c,
        (None, Some(s)) => 128 + s,
        _ => 1,
    })
}
