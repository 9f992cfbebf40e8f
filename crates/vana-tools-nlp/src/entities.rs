//! `extract_entities`: named entities from spaCy's `en_core_web_sm` through the supervised
//! worker ([`crate::spacy`]), with character offsets, grouped by label and counted.

use crate::input::one_text;
use crate::spacy::{Entity, Spacy};
use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use vana_core::{ToolContext, ToolError, ToolOutput};
use vana_toolkit::schemars::{self, JsonSchema};
use vana_toolkit::{SessionFiles, TypedTool};

/// Largest piece (in characters) handed to spaCy at once; longer texts are cut at line breaks.
const CHUNK_CHARS: usize = 100_000;
/// Most entities listed one by one (the groups and counts cover all).
const MAX_LISTED: usize = 500;

/// Arguments of `extract_entities`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct EntityArgs {
    /// The text to analyse (English).
    #[serde(default)]
    pub text: Option<String>,
    /// Instead of `text`: a UTF-8 text file in the session workspace.
    #[serde(default)]
    pub path: Option<String>,
    /// Only these labels, e.g. ["PERSON", "ORG"] (default: all).
    #[serde(default)]
    pub labels: Option<Vec<String>>,
}

/// The tool.
pub struct ExtractEntities {
    files: SessionFiles,
    spacy: Arc<Spacy>,
}

impl ExtractEntities {
    /// Over the session workspaces and the shared worker.
    pub fn new(files: SessionFiles, spacy: Arc<Spacy>) -> Self {
        ExtractEntities { files, spacy }
    }
}

/// The text cut into pieces of at most [`CHUNK_CHARS`] characters (at a line break when there
/// is one), each with its character offset.
pub fn chunks(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut offset = 0;
    while !rest.is_empty() {
        let Some((limit, _)) = rest.char_indices().nth(CHUNK_CHARS) else {
            out.push((offset, rest.to_string()));
            break;
        };
        let cut = rest[..limit].rfind('\n').map(|i| i + 1).filter(|&i| i > limit / 2).unwrap_or(limit);
        out.push((offset, rest[..cut].to_string()));
        offset += rest[..cut].chars().count();
        rest = &rest[cut..];
    }
    out
}

/// The response for the entities found.
pub fn report(entities: &[Entity], model: &str) -> Value {
    let mut groups: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    for e in entities {
        *groups.entry(&e.label).or_default().entry(&e.text).or_default() += 1;
    }
    let counts: BTreeMap<&str, usize> = groups.iter().map(|(l, m)| (*l, m.values().sum())).collect();
    let grouped: BTreeMap<&str, Vec<Value>> = groups
        .iter()
        .map(|(l, m)| {
            let mut v: Vec<(&str, usize)> = m.iter().map(|(t, c)| (*t, *c)).collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            (*l, v.into_iter().map(|(t, c)| json!({"text": t, "count": c})).collect())
        })
        .collect();
    let mut out = json!({
        "model": format!("spaCy {} ({model})", crate::spacy::SPACY_VERSION),
        "count": entities.len(),
        "counts": counts,
        "groups": grouped,
        "entities": entities.iter().take(MAX_LISTED).collect::<Vec<_>>(),
        "note": "start/end are character offsets in the text",
    });
    if entities.len() > MAX_LISTED {
        out["entities_note"] =
            json!(format!("the first {MAX_LISTED} of {} entities are listed", entities.len()));
    }
    out
}

#[async_trait]
impl TypedTool for ExtractEntities {
    type Args = EntityArgs;

    fn name(&self) -> &'static str {
        "extract_entities"
    }

    fn description(&self) -> &'static str {
        "Named entities in English text with spaCy's en_core_web_sm 3.8: PERSON, ORG, GPE (countries, cities), \
         LOC, DATE, TIME, MONEY, PERCENT, QUANTITY, CARDINAL, NORP (nationalities, groups), EVENT, PRODUCT, \
         WORK_OF_ART, LAW, LANGUAGE, FAC; each with its character offsets, then grouped by label with counts. \
         The first call may take a while: it sets spaCy up."
    }

    async fn run(&self, a: EntityArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let files = self.files.clone();
        let path = a.path.clone();
        let text = tokio::task::spawn_blocking(move || one_text(&files, &ctx, a.text, path.as_deref()))
            .await
            .map_err(|e| ToolError::Failed(format!("reading the text stopped: {e}")))??;
        let parts = chunks(&text);
        let (docs, model) =
            self.spacy.entities(&parts.iter().map(|(_, t)| t.clone()).collect::<Vec<_>>()).await?;
        let wanted: Option<Vec<String>> = a.labels.map(|l| l.iter().map(|s| s.to_uppercase()).collect());
        let mut all = Vec::new();
        for ((offset, _), ents) in parts.iter().zip(docs) {
            for mut e in ents {
                if wanted.as_ref().is_some_and(|w| !w.contains(&e.label)) {
                    continue;
                }
                e.start += offset;
                e.end += offset;
                all.push(e);
            }
        }
        Ok(ToolOutput::json(report(&all, &model)))
    }
}
