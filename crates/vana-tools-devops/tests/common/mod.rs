//! The suite over a temporary workspace root, fixture projects written through the workspace
//! API, and a tool caller.
#![allow(dead_code)]

use serde_json::Value;
use std::collections::HashMap;
use vana_core::ToolContext;
use vana_toolkit::vana_workspace::Workspaces;
use vana_toolkit::{SessionFiles, ToolSuite};
use vana_tools_devops::{AwsConfig, DevopsConfig, DevopsSuite};

/// A suite and the workspaces it writes to (kept alive by the guard).
pub struct Harness {
    pub suite: DevopsSuite,
    pub workspaces: Workspaces,
    pub _dir: vana_testkit::TempDir,
}

pub fn harness_with(config: DevopsConfig, aws: AwsConfig, env: HashMap<String, String>) -> Harness {
    let dir = vana_testkit::tempdir();
    let workspaces = Workspaces::new(dir.path().join("workspaces"), 0, 0);
    let suite = DevopsSuite::with_environment(
        config,
        aws,
        vana_net::OutboundPolicy::strict(),
        SessionFiles::new(workspaces.clone()),
        env,
    );
    Harness { suite, workspaces, _dir: dir }
}

pub fn harness() -> Harness {
    harness_with(DevopsConfig::default(), AwsConfig::default(), HashMap::new())
}

impl Harness {
    /// Writes `files` (path, content) into session `session`'s workspace.
    pub fn plant(&self, session: &str, files: &[(&str, &str)]) {
        let ws = self.workspaces.ensure(session).unwrap();
        for (p, c) in files {
            ws.write(p, c.as_bytes()).unwrap();
        }
    }

    /// A workspace file's text.
    pub fn read(&self, session: &str, path: &str) -> String {
        let ws = self.workspaces.open(session).unwrap().expect("workspace");
        String::from_utf8(ws.read(path, 1 << 26).unwrap()).unwrap()
    }

    /// Whether a workspace file exists.
    pub fn exists(&self, session: &str, path: &str) -> bool {
        match self.workspaces.open(session).unwrap() {
            Some(ws) => ws.stat(path).ok().flatten().is_some(),
            None => false,
        }
    }

    pub async fn call(&self, session: &str, tool: &str, args: Value) -> Result<Value, vana_core::ToolError> {
        let t = self.suite.tools().into_iter().find(|t| t.name() == tool).expect("tool");
        t.call(args, ToolContext::standalone("vana", "u", session)).await.map(|o| o.response)
    }
}

/// Four fixture projects: Python/FastAPI, Node/Express (npm lockfile), Go (cmd/api), Rust/axum.
pub fn fixtures() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    vec![
        (
            "python",
            vec![
                ("requirements.txt", "fastapi==0.115.6\nuvicorn==0.34.0\n"),
                ("main.py", "from fastapi import FastAPI\napp = FastAPI()\n\n@app.get('/')\ndef root():\n    return {'ok': True}\n"),
            ],
        ),
        (
            "node",
            vec![
                ("package.json", r#"{"name":"api","version":"1.0.0","main":"server.js","scripts":{"start":"node server.js","test":"node --test"},"dependencies":{"express":"^4.21.2"}}"#),
                ("package-lock.json", r#"{"name":"api","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{}}"#),
                ("server.js", "const express = require('express');\nconst app = express();\napp.get('/', (_q, r) => r.json({ ok: true }));\napp.listen(3000);\n"),
            ],
        ),
        (
            "go",
            vec![
                ("go.mod", "module example.com/api\n\ngo 1.23\n"),
                ("cmd/api/main.go", "package main\n\nimport \"net/http\"\n\nfunc main() {\n\thttp.ListenAndServe(\":8080\", nil)\n}\n"),
            ],
        ),
        (
            "rust",
            vec![
                ("Cargo.toml", "[package]\nname = \"hello-svc\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\naxum = \"0.8\"\n"),
                ("Cargo.lock", "version = 4\n"),
                ("src/main.rs", "fn main() {}\n"),
            ],
        ),
    ]
}
