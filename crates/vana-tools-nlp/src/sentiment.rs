//! `analyze_sentiment`: VADER scores for one text, a list, or a dataset column, and the
//! aggregate over them.

use crate::input::{check_text, column_texts, source_schema, MAX_ITEMS, MAX_TEXT_BYTES};
use crate::vader::{Scores, Vader};
use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{json, Value};
use vana_core::{ToolContext, ToolError, ToolOutput};
use vana_toolkit::schemars::{self, JsonSchema};
use vana_toolkit::{SessionFiles, TypedTool};

/// Most per-item results listed in a response (the aggregate covers every item).
const MAX_LISTED: usize = 200;
/// How many of the most positive and most negative items are named.
const EXTREMES: usize = 3;

/// Arguments of `analyze_sentiment`: exactly one of `text`, `texts`, or `source` with `column`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SentimentArgs {
    /// One text to score (a sentence, a review, a message).
    #[serde(default)]
    pub text: Option<String>,
    /// Several texts, each scored on its own (e.g. one review per item).
    #[serde(default)]
    pub texts: Option<Vec<String>>,
    /// A dataset whose `column` holds one text per row.
    #[serde(default)]
    #[schemars(schema_with = "source_schema")]
    pub source: Option<Value>,
    /// The column of `source` that holds the texts.
    #[serde(default)]
    pub column: Option<String>,
}

/// The tool.
pub struct AnalyzeSentiment {
    files: SessionFiles,
}

impl AnalyzeSentiment {
    /// Over the session workspaces.
    pub fn new(files: SessionFiles) -> Self {
        AnalyzeSentiment { files }
    }
}

fn item(i: usize, text: &str, s: &Scores) -> Value {
    json!({
        "index": i,
        "text": preview(text),
        "compound": s.compound,
        "pos": s.pos,
        "neu": s.neu,
        "neg": s.neg,
        "label": s.label(),
    })
}

/// The first 200 characters of a text, for listing it.
fn preview(text: &str) -> String {
    match text.char_indices().nth(200) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// Scores every text and sums them up.
pub fn analyze(texts: &[String]) -> Value {
    let v = Vader::get();
    let scores: Vec<Scores> = texts.iter().map(|t| v.polarity_scores(t)).collect();
    let n = scores.len();
    let count = |l: &str| scores.iter().filter(|s| s.label() == l).count();
    let (pos, neu, neg) = (count("positive"), count("neutral"), count("negative"));
    let mean = scores.iter().map(|s| s.compound).sum::<f64>() / n as f64;
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| scores[b].compound.total_cmp(&scores[a].compound).then(a.cmp(&b)));
    let most_positive: Vec<Value> = order
        .iter()
        .take(EXTREMES)
        .filter(|&&i| scores[i].compound > 0.0)
        .map(|&i| item(i, &texts[i], &scores[i]))
        .collect();
    let most_negative: Vec<Value> = order
        .iter()
        .rev()
        .take(EXTREMES)
        .filter(|&&i| scores[i].compound < 0.0)
        .map(|&i| item(i, &texts[i], &scores[i]))
        .collect();
    let share = |c: usize| (c as f64 / n as f64 * 1e4).round() / 1e4;
    let mut out = json!({
        "method": "VADER (vaderSentiment 3.3.2 rules and lexicon): compound from -1 to 1; positive at >= 0.05, negative at <= -0.05",
        "count": n,
        "aggregate": {
            "mean_compound": (mean * 1e4).round() / 1e4,
            "label": if mean >= 0.05 { "positive" } else if mean <= -0.05 { "negative" } else { "neutral" },
            "share_positive": share(pos),
            "share_neutral": share(neu),
            "share_negative": share(neg),
            "positive": pos,
            "neutral": neu,
            "negative": neg,
            "most_positive": most_positive,
            "most_negative": most_negative,
        },
        "items": scores.iter().zip(texts).take(MAX_LISTED).enumerate().map(|(i, (s, t))| item(i, t, s)).collect::<Vec<_>>(),
    });
    if n > MAX_LISTED {
        out["items_note"] =
            json!(format!("the first {MAX_LISTED} of {n} items are listed; the aggregate covers all"));
    }
    out
}

#[async_trait]
impl TypedTool for AnalyzeSentiment {
    type Args = SentimentArgs;

    fn name(&self) -> &'static str {
        "analyze_sentiment"
    }

    fn description(&self) -> &'static str {
        "Sentiment with VADER (lexicon and rules: negation, intensifiers, ALL CAPS, \"but\", !/? emphasis, \
         emoji and emoticons): for `text`, each of `texts`, or each row of a dataset `column`, the compound \
         score (-1 to 1) and the shares pos/neu/neg; plus the aggregate (mean compound, share of positive, \
         neutral and negative items, the most positive and most negative items). Best on sentences and short \
         texts such as reviews and messages."
    }

    async fn run(&self, args: SentimentArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let files = self.files.clone();
        tokio::task::spawn_blocking(move || {
            let given = [args.text.is_some(), args.texts.is_some(), args.source.is_some()];
            if given.iter().filter(|g| **g).count() != 1 {
                return Err(ToolError::InvalidArgs(
                    "give exactly one of `text`, `texts`, or `source` (with `column`)".into(),
                ));
            }
            let (texts, from) = if let Some(t) = args.text {
                check_text(&t, "`text`")?;
                (vec![t], "text".to_string())
            } else if let Some(ts) = args.texts {
                if ts.is_empty() {
                    return Err(ToolError::InvalidArgs("`texts` is empty: give at least one text".into()));
                }
                if ts.len() > MAX_ITEMS {
                    return Err(ToolError::InvalidArgs(format!(
                        "`texts` has {} items; the limit is {MAX_ITEMS} per call",
                        ts.len()
                    )));
                }
                let total: usize = ts.iter().map(String::len).sum();
                if total > MAX_TEXT_BYTES * 8 {
                    return Err(ToolError::InvalidArgs(format!(
                        "`texts` hold {total} bytes; the limit is {} bytes per call",
                        MAX_TEXT_BYTES * 8
                    )));
                }
                for (i, t) in ts.iter().enumerate() {
                    check_text(t, &format!("`texts[{i}]`"))?;
                }
                (ts, "texts".to_string())
            } else {
                let src = args.source.unwrap_or_default();
                let column = args.column.as_deref().ok_or_else(|| {
                    ToolError::InvalidArgs(
                        "`column` is required with `source`: the column that holds the texts".into(),
                    )
                })?;
                column_texts(&files, &ctx, &src, column)?
            };
            let mut out = analyze(&texts);
            out["from"] = json!(from);
            Ok(ToolOutput::json(out))
        })
        .await
        .map_err(|e| ToolError::Failed(format!("sentiment analysis stopped: {e}")))?
    }
}
