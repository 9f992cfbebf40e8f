//! Files named in a CLI prompt: `vana run "analyze examples/sales.csv"` copies each word that is
//! an existing local file into the session workspace (where the agents' tools and sandboxed
//! code read files) under its file name, and names it that way in the message the agent gets.

use anyhow::Result;
use vana_app::App;

/// Largest file attached automatically.
const MAX_ATTACH_BYTES: u64 = 100 * 1024 * 1024;

/// The prompt with each local file it names attached to `session`; tells the user on stderr.
pub fn attach_files(app: &App, session: &str, prompt: &str) -> Result<String> {
    let mut out = prompt.to_string();
    for word in prompt.split_whitespace() {
        let token = word.trim_matches(|c: char| matches!(c, '"' | '\'' | '`' | ',' | ';' | '(' | ')'));
        let path = std::path::Path::new(token);
        let Ok(meta) = std::fs::metadata(path) else { continue };
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
        if !meta.is_file() || meta.len() > MAX_ATTACH_BYTES || !token.contains(['.', '/']) {
            continue;
        }
        let data = std::fs::read(path)?;
        app.sandbox
            .put_file(session, name, &data)
            .map_err(|e| anyhow::anyhow!("cannot attach {token}: {e}"))?;
        eprintln!("attached {token} to the session workspace as {name}");
        out = out.replace(token, name);
    }
    Ok(out)
}
