//! The in-process text tools: `detect_language` (whatlang), `extract_keywords` and
//! `summarize_text` (TextRank), `text_statistics` (counts and Flesch readability).

use crate::input::one_text;
use crate::text::{self, is_stopword, key, pagerank, sentences, words};
use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use vana_core::{ToolContext, ToolError, ToolOutput};
use vana_toolkit::schemars::{self, JsonSchema};
use vana_toolkit::{SessionFiles, TypedTool};

/// Most sentences `summarize_text` ranks (the similarity graph is quadratic in them).
pub const MAX_SUMMARY_SENTENCES: usize = 5000;

/// Arguments of a tool that reads one text.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct TextArgs {
    /// The text to analyse.
    #[serde(default)]
    pub text: Option<String>,
    /// Instead of `text`: a UTF-8 text file in the session workspace, e.g. "report.txt".
    #[serde(default)]
    pub path: Option<String>,
}

async fn blocking<F>(f: F) -> Result<ToolOutput, ToolError>
where
    F: FnOnce() -> Result<Value, ToolError> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ToolError::Failed(format!("the analysis stopped: {e}")))?
        .map(ToolOutput::json)
}

/// Byte offset → character offset, for spans a model (or a Python user) can index with.
pub fn char_offsets(text: &str) -> impl Fn(usize) -> usize + '_ {
    move |b| text[..b].chars().count()
}

// ---------------------------------------------------------------- detect_language

/// `detect_language`.
pub struct DetectLanguage {
    files: SessionFiles,
}

impl DetectLanguage {
    /// Over the session workspaces.
    pub fn new(files: SessionFiles) -> Self {
        DetectLanguage { files }
    }
}

/// The language of `text` by whatlang's trigram model (69 languages).
pub fn detect(text: &str) -> Value {
    match whatlang::detect(text) {
        Some(info) => json!({
            "language": info.lang().eng_name(),
            "code": info.lang().code(),
            "script": info.script().name(),
            "confidence": (info.confidence() * 1e3).round() / 1e3,
            "reliable": info.is_reliable(),
            "method": "whatlang trigram model (ISO 639-3 codes); confidence 0 to 1",
        }),
        None => {
            json!({"language": null, "reliable": false, "note": "no language could be told from this text (too short or no letters)"})
        }
    }
}

#[async_trait]
impl TypedTool for DetectLanguage {
    type Args = TextArgs;
    fn name(&self) -> &'static str {
        "detect_language"
    }
    fn description(&self) -> &'static str {
        "Detect the language of a text (69 languages, whatlang's trigram model): the language's English name, \
         its ISO 639-3 code, the script, a confidence from 0 to 1 and whether the guess is reliable. Short texts \
         (a few words) are often unreliable."
    }
    async fn run(&self, a: TextArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let files = self.files.clone();
        blocking(move || Ok(detect(&one_text(&files, &ctx, a.text, a.path.as_deref())?))).await
    }
}

// ---------------------------------------------------------------- extract_keywords

/// Arguments of `extract_keywords`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct KeywordArgs {
    /// The text to analyse.
    #[serde(default)]
    pub text: Option<String>,
    /// Instead of `text`: a UTF-8 text file in the session workspace.
    #[serde(default)]
    pub path: Option<String>,
    /// How many keywords (default 10, at most 100).
    #[serde(default, deserialize_with = "vana_toolkit::args::whole")]
    pub top_n: Option<usize>,
}

/// `extract_keywords`.
pub struct ExtractKeywords {
    files: SessionFiles,
}

impl ExtractKeywords {
    /// Over the session workspaces.
    pub fn new(files: SessionFiles) -> Self {
        ExtractKeywords { files }
    }
}

fn is_candidate(w: &str) -> bool {
    let l = w.to_lowercase();
    l.chars().any(char::is_alphabetic) && l.chars().count() >= 2 && !is_stopword(&l.replace('\u{2019}', "'"))
}

/// TextRank keywords: content words linked when they occur within 3 words of each other in a
/// sentence, ranked by PageRank; adjacent top words are merged into phrases of up to 3 words.
pub fn keywords(text: &str, top_n: usize) -> Value {
    // Tokens per sentence, with a flag for content words; punctuation between words breaks phrases.
    let mut ids: HashMap<String, usize> = HashMap::new();
    let mut freq: Vec<usize> = Vec::new();
    let mut adj: Vec<HashMap<usize, f64>> = Vec::new();
    let mut runs: Vec<Vec<(usize, String)>> = Vec::new();
    for s in sentences(text) {
        let mut content: Vec<usize> = Vec::new();
        let mut run: Vec<(usize, String)> = Vec::new();
        let mut last_end = 0;
        for (at, w) in s.text.unicode_word_indices_filtered() {
            let gap = &s.text[last_end..at];
            last_end = at + w.len();
            let broken = gap.chars().any(|c| !c.is_whitespace());
            if broken || !is_candidate(w) {
                if !run.is_empty() {
                    runs.push(std::mem::take(&mut run));
                }
                if !is_candidate(w) {
                    continue;
                }
            }
            let k = key(w);
            let id = *ids.entry(k).or_insert_with(|| {
                freq.push(0);
                adj.push(HashMap::new());
                freq.len() - 1
            });
            freq[id] += 1;
            for &prev in content.iter().rev().take(2) {
                if prev != id {
                    *adj[id].entry(prev).or_default() += 1.0;
                    *adj[prev].entry(id).or_default() += 1.0;
                }
            }
            content.push(id);
            run.push((id, w.to_lowercase()));
        }
        if !run.is_empty() {
            runs.push(run);
        }
    }
    let graph: Vec<Vec<(usize, f64)>> =
        adj.iter().map(|m| m.iter().map(|(&j, &w)| (j, w)).collect()).collect();
    let score = pagerank(&graph);
    let n = score.len();
    // The top third of the words (at least top_n) may form phrases.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| score[b].total_cmp(&score[a]).then(a.cmp(&b)));
    let keep = (n / 3).max(top_n).min(n);
    let top: std::collections::HashSet<usize> = order[..keep].iter().copied().collect();
    let mut phrases: HashMap<String, (f64, usize, usize)> = HashMap::new();
    for run in &runs {
        let mut i = 0;
        while i < run.len() {
            if !top.contains(&run[i].0) {
                i += 1;
                continue;
            }
            let mut j = i;
            while j < run.len() && j - i < 3 && top.contains(&run[j].0) {
                j += 1;
            }
            let part = &run[i..j];
            let phrase = part.iter().map(|(_, w)| w.as_str()).collect::<Vec<_>>().join(" ");
            let s: f64 = part.iter().map(|(id, _)| score[*id]).sum::<f64>() / part.len() as f64;
            let e = phrases.entry(phrase).or_insert((s, 0, part.len()));
            e.1 += 1;
            i = j;
        }
    }
    let mut ranked: Vec<(String, f64, usize, usize)> =
        phrases.into_iter().map(|(p, (s, c, l))| (p, s, c, l)).collect();
    // Single words ranked by their own score; phrases must occur twice unless the text is short.
    let short = text.len() < 2000;
    ranked.retain(|(_, _, count, len)| *len == 1 || *count >= 2 || short);
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut out: Vec<Value> = Vec::new();
    let mut used: Vec<String> = Vec::new();
    for (p, s, count, _) in ranked {
        if out.len() >= top_n {
            break;
        }
        // A word already inside a chosen phrase adds nothing.
        if used.iter().any(|u| u.split(' ').any(|w| w == p) || p.split(' ').all(|w| u.contains(w))) {
            continue;
        }
        out.push(json!({"keyword": p, "score": (s * 1e4).round() / 1e4, "count": count}));
        used.push(p);
    }
    json!({
        "method": "TextRank: content words (English stopwords removed, plurals merged) linked when within 3 words in a sentence, ranked by PageRank (d = 0.85); adjacent top words form phrases (score = mean of their words' scores)",
        "keywords": out,
        "distinct_words": n,
    })
}

/// Word positions within a string (UAX #29 words with a letter or digit).
trait WordIndices {
    fn unicode_word_indices_filtered(&self) -> Vec<(usize, &str)>;
}

impl WordIndices for str {
    fn unicode_word_indices_filtered(&self) -> Vec<(usize, &str)> {
        use unicode_segmentation::UnicodeSegmentation;
        self.split_word_bound_indices().filter(|(_, w)| w.chars().any(char::is_alphanumeric)).collect()
    }
}

#[async_trait]
impl TypedTool for ExtractKeywords {
    type Args = KeywordArgs;
    fn name(&self) -> &'static str {
        "extract_keywords"
    }
    fn description(&self) -> &'static str {
        "Extract the key terms and phrases of a text with TextRank (a co-occurrence graph of its content words \
         ranked by PageRank): each keyword with its score and how often it occurs. Stopwords are English."
    }
    async fn run(&self, a: KeywordArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let top_n = a.top_n.unwrap_or(10);
        if !(1..=100).contains(&top_n) {
            return Err(ToolError::InvalidArgs(format!("`top_n` must be between 1 and 100, got {top_n}")));
        }
        let files = self.files.clone();
        blocking(move || Ok(keywords(&one_text(&files, &ctx, a.text, a.path.as_deref())?, top_n))).await
    }
}

// ---------------------------------------------------------------- summarize_text

/// Arguments of `summarize_text`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SummaryArgs {
    /// The text to summarise.
    #[serde(default)]
    pub text: Option<String>,
    /// Instead of `text`: a UTF-8 text file in the session workspace.
    #[serde(default)]
    pub path: Option<String>,
    /// How many sentences the summary keeps (default 3).
    #[serde(default, deserialize_with = "vana_toolkit::args::whole")]
    pub sentences: Option<usize>,
}

/// `summarize_text`.
pub struct SummarizeText {
    files: SessionFiles,
}

impl SummarizeText {
    /// Over the session workspaces.
    pub fn new(files: SessionFiles) -> Self {
        SummarizeText { files }
    }
}

/// An extractive summary: sentences ranked by TextRank (similarity = shared content words over
/// the logs of the sentences' lengths), the top `k` in their original order.
pub fn summarize(text: &str, k: usize) -> Result<Value, ToolError> {
    let sents = sentences(text);
    if sents.len() > MAX_SUMMARY_SENTENCES {
        return Err(ToolError::InvalidArgs(format!(
            "the text has {} sentences; summarize_text ranks at most {MAX_SUMMARY_SENTENCES}: summarise it in parts",
            sents.len()
        )));
    }
    let bags: Vec<Vec<String>> = sents
        .iter()
        .map(|s| {
            let mut b: Vec<String> = words(s.text).filter(|w| is_candidate(w)).map(key).collect();
            b.sort();
            b.dedup();
            b
        })
        .collect();
    let lens: Vec<usize> = sents.iter().map(|s| words(s.text).count()).collect();
    // Inverted index: only sentences sharing a word are compared.
    let mut by_word: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, b) in bags.iter().enumerate() {
        for w in b {
            by_word.entry(w).or_default().push(i);
        }
    }
    let mut shared: Vec<HashMap<usize, usize>> = vec![HashMap::new(); sents.len()];
    for list in by_word.values() {
        for (x, &i) in list.iter().enumerate() {
            for &j in &list[x + 1..] {
                *shared[i].entry(j).or_default() += 1;
                *shared[j].entry(i).or_default() += 1;
            }
        }
    }
    let norm = |n: usize| ((n.max(1) + 1) as f64).ln();
    let graph: Vec<Vec<(usize, f64)>> = shared
        .iter()
        .enumerate()
        .map(|(i, m)| m.iter().map(|(&j, &c)| (j, c as f64 / (norm(lens[i]) + norm(lens[j])))).collect())
        .collect();
    let score = pagerank(&graph);
    let mut order: Vec<usize> = (0..sents.len()).collect();
    order.sort_by(|&a, &b| score[b].total_cmp(&score[a]).then(a.cmp(&b)));
    let mut chosen: Vec<usize> = order.into_iter().take(k).collect();
    chosen.sort_unstable();
    let pos = char_offsets(text);
    let picked: Vec<Value> = chosen
        .iter()
        .map(|&i| {
            json!({
                "index": i,
                "text": sents[i].text,
                "start": pos(sents[i].start),
                "end": pos(sents[i].end),
                "score": (score[i] * 1e4).round() / 1e4,
            })
        })
        .collect();
    let summary = chosen.iter().map(|&i| sents[i].text).collect::<Vec<_>>().join(" ");
    Ok(json!({
        "method": "extractive TextRank: sentences linked by shared content words (normalised by the logs of their lengths), ranked by PageRank; the top sentences in their original order",
        "summary": summary,
        "sentences": picked,
        "total_sentences": sents.len(),
        "note": "index is the sentence's position (0-based); start/end are character offsets in the text",
    }))
}

#[async_trait]
impl TypedTool for SummarizeText {
    type Args = SummaryArgs;
    fn name(&self) -> &'static str {
        "summarize_text"
    }
    fn description(&self) -> &'static str {
        "Extractive summary: splits the text into sentences, ranks them with TextRank and returns the top \
         `sentences` (default 3) in their original order, each with its position and character offsets. The \
         wording is the text's own; rephrase it yourself if asked for an abstract."
    }
    async fn run(&self, a: SummaryArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let k = a.sentences.unwrap_or(3);
        if !(1..=100).contains(&k) {
            return Err(ToolError::InvalidArgs(format!("`sentences` must be between 1 and 100, got {k}")));
        }
        let files = self.files.clone();
        blocking(move || summarize(&one_text(&files, &ctx, a.text, a.path.as_deref())?, k)).await
    }
}

// ---------------------------------------------------------------- text_statistics

/// `text_statistics`.
pub struct TextStatistics {
    files: SessionFiles,
}

impl TextStatistics {
    /// Over the session workspaces.
    pub fn new(files: SessionFiles) -> Self {
        TextStatistics { files }
    }
}

fn r2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Counts and readability of `text`.
pub fn statistics(text: &str) -> Value {
    let ws: Vec<&str> = words(text).collect();
    let n_words = ws.len();
    let n_sent = sentences(text).len().max(usize::from(n_words > 0));
    let syl: Vec<usize> = ws.iter().map(|w| text::syllables(w)).collect();
    let n_syl: usize = syl.iter().sum();
    let mut distinct: Vec<String> = ws.iter().map(|w| w.to_lowercase()).collect();
    distinct.sort();
    distinct.dedup();
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    let paragraphs = text.split("\n\n").filter(|p| !p.trim().is_empty()).count();
    let fre = text::flesch_reading_ease(n_words, n_sent, n_syl);
    let fkg = text::flesch_kincaid_grade(n_words, n_sent, n_syl);
    let band = match fre {
        f if f >= 90.0 => "very easy",
        f if f >= 80.0 => "easy",
        f if f >= 70.0 => "fairly easy",
        f if f >= 60.0 => "plain English",
        f if f >= 50.0 => "fairly difficult",
        f if f >= 30.0 => "difficult",
        _ => "very difficult",
    };
    let per = |a: usize, b: usize| if b == 0 { 0.0 } else { r2(a as f64 / b as f64) };
    json!({
        "characters": text.chars().count(),
        "characters_no_spaces": text.chars().filter(|c| !c.is_whitespace()).count(),
        "letters": letters,
        "words": n_words,
        "distinct_words": distinct.len(),
        "lexical_diversity": per(distinct.len(), n_words),
        "sentences": n_sent,
        "paragraphs": paragraphs,
        "syllables": n_syl,
        "polysyllabic_words": syl.iter().filter(|s| **s >= 3).count(),
        "long_words": ws.iter().filter(|w| w.chars().count() >= 7).count(),
        "words_per_sentence": per(n_words, n_sent),
        "syllables_per_word": per(n_syl, n_words),
        "letters_per_word": per(letters, n_words),
        "flesch_reading_ease": r2(fre),
        "flesch_reading_ease_band": band,
        "flesch_kincaid_grade": r2(fkg),
        "reading_time_minutes": r2(n_words as f64 / 238.0),
        "method": "words and sentences by Unicode (UAX #29) boundaries; syllables estimated from English vowel groups; Flesch reading ease = 206.835 - 1.015 x words/sentence - 84.6 x syllables/word; Flesch-Kincaid grade = 0.39 x words/sentence + 11.8 x syllables/word - 15.59; reading time at 238 words a minute",
    })
}

#[async_trait]
impl TypedTool for TextStatistics {
    type Args = TextArgs;
    fn name(&self) -> &'static str {
        "text_statistics"
    }
    fn description(&self) -> &'static str {
        "Counts and readability of a text: characters, letters, words, distinct words, sentences, paragraphs, \
         syllables, averages per sentence and word, Flesch reading ease (0-100, higher is easier) and \
         Flesch-Kincaid grade level (US school grade), and reading time. Syllables are estimated for English."
    }
    async fn run(&self, a: TextArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let files = self.files.clone();
        blocking(move || Ok(statistics(&one_text(&files, &ctx, a.text, a.path.as_deref())?))).await
    }
}
