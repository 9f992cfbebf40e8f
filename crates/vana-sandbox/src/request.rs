//! The execution request.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What to run: inline source or a file already in the session workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CodeSource {
    /// Inline source code (written read-only to `/sandbox/main.<ext>`).
    Inline(String),
    /// Path relative to `/workspace` of a script to run.
    File(String),
}

/// A request to run code in the sandbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionRequest {
    /// Language name or alias (`python`, `javascript`, `shell`, `bash`, ...).
    pub language: String,
    /// The code to run.
    pub code: CodeSource,
    /// Data fed to the program's standard input.
    #[serde(default)]
    pub stdin: Option<Vec<u8>>,
    /// Wall-clock timeout override (capped by `max_timeout_secs`); JSON: `timeoutMs`.
    #[serde(default, rename = "timeoutMs", with = "duration_ms")]
    pub timeout: Option<Duration>,
    /// Session whose persistent workspace is mounted at `/workspace`;
    /// `None` uses a throw-away workspace deleted after the run.
    #[serde(default)]
    pub session_id: Option<String>,
    /// Return base64 contents of created/changed workspace files.
    #[serde(default)]
    pub return_file_contents: bool,
    /// Extra environment variables.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Extra command-line arguments passed to the program.
    #[serde(default)]
    pub args: Vec<String>,
}

impl ExecutionRequest {
    /// A request running inline `code` in `language` with default settings.
    pub fn new(language: impl Into<String>, code: impl Into<String>) -> Self {
        Self {
            language: language.into(),
            code: CodeSource::Inline(code.into()),
            stdin: None,
            timeout: None,
            session_id: None,
            return_file_contents: false,
            env: BTreeMap::new(),
            args: Vec::new(),
        }
    }

    /// Sets the session whose workspace is used.
    pub fn session(mut self, id: impl Into<String>) -> Self {
        self.session_id = Some(id.into());
        self
    }

    /// Sets the wall-clock timeout.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = Some(t);
        self
    }

    /// Sets standard input.
    pub fn stdin(mut self, data: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(data.into());
        self
    }

    /// Adds an environment variable.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.insert(key.into(), value.into());
        self
    }

    /// Requests base64 contents of changed files.
    pub fn with_file_contents(mut self) -> Self {
        self.return_file_contents = true;
        self
    }
}

/// Serde helper: `Option<Duration>` as integer milliseconds.
mod duration_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&(d.as_millis() as u64)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_millis))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip() {
        let r: ExecutionRequest = serde_json_like();
        assert_eq!(r.timeout, Some(Duration::from_millis(2500)));
        assert_eq!(r.code, CodeSource::Inline("print(1)".into()));
    }

    fn serde_json_like() -> ExecutionRequest {
        serde_json::from_str(
            r#"{"language":"python","code":{"inline":"print(1)"},"timeoutMs":2500,"sessionId":"s1"}"#,
        )
        .unwrap()
    }
}
