//! `vana index add|list|remove`: the documents `web_search` finds in the local index.

use anyhow::{anyhow, bail, Result};
use clap::Subcommand;
use vana_app::research::{self, Document};
use vana_app::Config;

/// `vana index ...`.
#[derive(Subcommand, Debug)]
pub enum IndexCommand {
    /// Adds a file, every .html/.htm/.md/.txt/.rst/.pdf file under a folder, or an http(s) URL
    /// (fetched under `[web]`'s outbound policy) to the local search index.
    Add {
        /// A file, a folder or a URL.
        target: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Every indexed document (fetched by sessions or added), newest first.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Removes a document by the id `vana index list` shows, its URL, or its file's path.
    Remove {
        /// An id, a URL or a path.
        target: String,
    },
}

fn row(d: &Document) -> String {
    format!("{:>5}  {:<7} {:>8} chars  {}  {}", d.id, d.source, d.chars, d.url, d.title)
}

/// Runs one `vana index` command.
pub async fn run(config: &Config, command: &IndexCommand) -> Result<i32> {
    match command {
        IndexCommand::Add { target, json } => {
            let docs = research::index_add(config, target)
                .await
                .map_err(|e| anyhow!("cannot index {target}: {e}"))?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&docs)?);
            } else {
                for d in &docs {
                    println!("{}", row(d));
                }
                println!("indexed {} document{}", docs.len(), if docs.len() == 1 { "" } else { "s" });
            }
            Ok(0)
        }
        IndexCommand::List { json } => {
            let docs = research::index_list(config).map_err(|e| anyhow!(e))?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&docs)?);
            } else if docs.is_empty() {
                println!("the local index is empty (add documents with `vana index add PATH|URL`)");
            } else {
                println!("{:>5}  {:<7} {:>14}  url  title", "id", "source", "");
                for d in &docs {
                    println!("{}", row(d));
                }
            }
            Ok(0)
        }
        IndexCommand::Remove { target } => {
            if research::index_remove(config, target).map_err(|e| anyhow!("cannot remove {target}: {e}"))? {
                println!("removed {target} from the local index");
                Ok(0)
            } else {
                bail!("the local index has no document {target} (see `vana index list` for ids and URLs)")
            }
        }
    }
}
