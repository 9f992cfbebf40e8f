//! The MCP tests' own set-up: managers over the servers installed by `scripts/setup-mcp.sh` and a
//! page served on loopback (paths and temporary directories come from `vana-testkit`).
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use vana_mcp::{McpConfig, McpManager, Server};

/// Where `scripts/setup-mcp.sh` installed the servers: `$VANA_MCP_HOME`, else `<repo>/.cache/mcp`.
pub fn mcp_home() -> PathBuf {
    vana_testkit::mcp_home(&["node/node_modules/.bin/mcp-server-everything", "bin/mcp-server-time"])
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
