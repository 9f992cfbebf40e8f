//! Shared by the NLP tests: a temp data dir with the suite's tools registered over it, the
//! reference venv (scripts/setup-nlp.sh), and a seeded generator.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use vana_core::{ToolContext, ToolError, ToolOutput, ToolRegistry};
use vana_toolkit::ToolSuite;
pub use vana_tools_nlp::spacy::SpacyConfig;

/// The built-in policy's sandbox uid/gid (what workspace files are owned by).
pub const SANDBOX_UID: u32 = 100_000;

/// A fresh data dir with the NLP tools registered over it.
pub struct Env {
    /// The data dir (workspaces live under it).
    pub dir: PathBuf,
    /// The registered tools.
    pub tools: ToolRegistry,
    /// The suite (its spaCy worker).
    pub suite: vana_tools_nlp::NlpSuite,
}

impl Env {
    /// The suite with spaCy taken from the reference venv (no provisioning).
    pub fn new() -> Env {
        Env::with_spacy(|dir| SpacyConfig { python: Some(python()), ..SpacyConfig::for_data_dir(dir) })
    }

    /// The suite with the spaCy settings `config` makes for the data dir.
    pub fn with_spacy(config: impl FnOnce(&Path) -> SpacyConfig) -> Env {
        let dir = std::env::temp_dir().join(vana_testkit::unique("vana-nlp-test"));
        std::fs::create_dir_all(&dir).unwrap();
        let workspaces =
            vana_toolkit::vana_workspace::Workspaces::new(dir.join("workspaces"), SANDBOX_UID, SANDBOX_UID);
        let files = vana_toolkit::SessionFiles::new(workspaces);
        let suite = vana_tools_nlp::NlpSuite::with_spacy(files, config(&dir));
        let mut tools = ToolRegistry::new();
        for tool in suite.tools() {
            tools.register(tool);
        }
        Env { dir, tools, suite }
    }

    /// Writes a file into a session's workspace through the workspace API.
    pub fn put(&self, session: &str, name: &str, bytes: &[u8]) {
        let workspaces = vana_toolkit::vana_workspace::Workspaces::new(
            self.dir.join("workspaces"),
            SANDBOX_UID,
            SANDBOX_UID,
        );
        workspaces.ensure(session).unwrap().write(name, bytes).unwrap();
    }

    pub async fn call(&self, tool: &str, session: &str, args: Value) -> Result<ToolOutput, ToolError> {
        let t = self.tools.get(tool).unwrap_or_else(|| panic!("tool {tool} is not registered"));
        t.call(args, ToolContext::standalone("test", "u", session)).await
    }

    pub async fn ok(&self, tool: &str, args: Value) -> Value {
        match self.call(tool, "s1", args).await {
            Ok(o) => o.response,
            Err(e) => panic!("{tool} failed: {e}"),
        }
    }

    pub async fn err(&self, tool: &str, args: Value) -> String {
        match self.call(tool, "s1", args).await {
            Ok(o) => panic!("{tool} should have failed, returned {}", o.response),
            Err(e) => e.to_string(),
        }
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The venv python with vaderSentiment, textstat and spaCy (scripts/setup-nlp.sh).
pub fn python() -> PathBuf {
    let venv = std::env::var_os("VANA_NLP_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache/nlp-venv"));
    let py = venv.join("bin/python");
    assert!(py.is_file(), "{} is missing: run scripts/setup-nlp.sh first", py.display());
    py
}

/// Runs a Python script with `input` as JSON on stdin and parses its stdout as JSON.
pub fn py_json(script: &str, input: &Value) -> Value {
    use std::io::Write;
    let mut child = std::process::Command::new(python())
        .arg("-c")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let data = serde_json::to_vec(input).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "python failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("bad JSON from python ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

/// SplitMix64 for reproducible test data.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// `n` varied English sentences for sentiment: negations, boosters and dampeners (also in
/// caps), "but", "least", "no", idioms, emoji, emoticons and !/? emphasis.
pub fn sentiment_sentences(seed: u64, n: usize) -> Vec<String> {
    let mut r = Rng(seed);
    let subjects = [
        "The movie",
        "This phone",
        "Our hotel",
        "The service",
        "VADER",
        "Her new album",
        "The plot",
        "It",
        "The food",
        "My day",
    ];
    let verbs = [
        "is",
        "was",
        "seems",
        "looks",
        "felt",
        "has been",
        "isn't",
        "wasn't",
        "is not",
        "was never",
        "is never so",
        "hasn't been",
    ];
    let boosters = [
        "very",
        "extremely",
        "really",
        "kind of",
        "sort of",
        "barely",
        "slightly",
        "totally",
        "incredibly",
        "so",
        "hardly",
        "quite",
        "most",
        "less",
        "just enough",
        "VERY",
        "EXTREMELY",
        "fucking",
        "friggin",
    ];
    let words = [
        "good",
        "great",
        "bad",
        "terrible",
        "awesome",
        "horrible",
        "amazing",
        "boring",
        "lovely",
        "awful",
        "fine",
        "nice",
        "sad",
        "happy",
        "ugly",
        "brilliant",
        "annoying",
        "funny",
        "GOOD",
        "BAD",
        "GREAT",
        "compelling",
        "uncompelling",
        "excellent",
        "disappointing",
        "okay",
        "sux",
        "the shit",
        "the bomb",
        "bad ass",
        "badass",
    ];
    let tails = [
        "",
        "",
        "",
        " lol",
        " :)",
        " :(",
        " :D",
        " 😁",
        " 💘",
        " 😡",
        " 😢",
        " 👍",
        " 😂😂",
        " haha",
        " smh",
        " ;)",
        " <3",
        " :-(",
    ];
    let puncts = [".", ".", "!", "!!", "!!!", "!!!!!", "?", "??", "???", "?!?!", "", "..."];
    let clauses = [
        "",
        "",
        "",
        " but the ending was weak",
        " but I loved the cast",
        " but it is not great",
        " BUT the staff were rude",
        " and the price was fair",
        " but at least it is cheap",
        " yet nobody cared",
        ", but the least interesting part was the music",
        " but without a doubt an excellent idea",
    ];
    let openers = [
        "",
        "",
        "",
        "Honestly, ",
        "Yeah right, ",
        "No ",
        "Without a doubt, ",
        "At least ",
        "Not ",
        "Never so ",
        "I think ",
        "Sadly, ",
        "Kind of ",
        "OMG ",
    ];
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let mut s = String::new();
        s.push_str(r.pick(&openers));
        s.push_str(r.pick(&subjects));
        s.push(' ');
        s.push_str(r.pick(&verbs));
        s.push(' ');
        for _ in 0..r.below(3) {
            s.push_str(r.pick(&boosters));
            s.push(' ');
        }
        s.push_str(r.pick(&words));
        if r.chance(30) {
            s.push_str(" and ");
            if r.chance(40) {
                s.push_str("not ");
            }
            s.push_str(r.pick(&words));
        }
        if r.chance(15) {
            s.push_str(", no ");
            s.push_str(r.pick(&words));
            s.push_str(" or ");
            s.push_str(r.pick(&words));
        }
        s.push_str(r.pick(&clauses));
        s.push_str(r.pick(&puncts));
        s.push_str(r.pick(&tails));
        if i % 7 == 0 {
            s = s.to_uppercase();
        }
        if i % 11 == 0 {
            s.push_str(" To die for, the kiss of death, the upper hand.");
        }
        out.push(s);
    }
    out
}
