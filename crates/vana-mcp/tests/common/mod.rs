//! Shared set-up: the MCP servers installed by `scripts/setup-mcp.sh` and managers over them.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use vana_mcp::{McpConfig, McpManager, Server};

/// Where `scripts/setup-mcp.sh` installed the servers: `$VANA_MCP_HOME`, else `<repo>/.cache/mcp`.
pub fn mcp_home() -> PathBuf {
    let home = std::env::var_os("VANA_MCP_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.cache/mcp"));
    assert!(
        home.join("node/node_modules/.bin/mcp-server-everything").exists()
            && home.join("bin/mcp-server-time").exists(),
        "the MCP test servers are not installed in {}; run `VANA_MCP_HOME={} scripts/setup-mcp.sh`",
        home.display(),
        home.display()
    );
    home
}

/// A manager over the servers of a `servers:` YAML document (the built-in catalog is not included).
pub fn manager(yaml: &str) -> McpManager {
    let mut c = McpConfig::default();
    c.add_yaml(yaml, "test.yaml").unwrap();
    McpManager::new(c, mcp_home(), None)
}

/// The one server of a manager.
pub fn only(m: &McpManager, name: &str) -> Arc<Server> {
    m.server(name).unwrap().clone()
}

/// A temporary directory removed on drop.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Serves `body` as text/html at every path of 127.0.0.1:<port> until the runtime ends.
pub async fn serve_page(body: &'static str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else { return };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let _ = sock.read(&mut buf).await;
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(resp.as_bytes()).await;
            });
        }
    });
    format!("http://127.0.0.1:{}/", addr.port())
}
