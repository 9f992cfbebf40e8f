//! PDF → text with Debian's `pdftotext` (poppler-utils), fed on stdin: no PDF parser compiled
//! into VANA, and poppler reads the PDFs real sites serve (fonts, encodings, broken xrefs).

use std::process::Stdio;
use tokio::io::AsyncWriteExt;

/// The program used.
pub const PDFTOTEXT: &str = "pdftotext";

/// What to install when `pdftotext` is missing.
pub const INSTALL: &str = "apt-get install -y poppler-utils";

/// The text of a PDF, in reading order (`-layout` off), pages separated by form feeds.
pub async fn to_text(bytes: &[u8]) -> Result<String, String> {
    let mut child = tokio::process::Command::new(PDFTOTEXT)
        .args(["-enc", "UTF-8", "-q", "-", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                format!("reading PDFs needs `pdftotext`, which is not installed ({INSTALL})")
            }
            _ => format!("could not start pdftotext: {e}"),
        })?;
    let mut stdin = child.stdin.take().expect("piped");
    let data = bytes.to_vec();
    let writer = tokio::spawn(async move {
        let _ = stdin.write_all(&data).await;
    });
    let out = child.wait_with_output().await.map_err(|e| format!("pdftotext failed: {e}"))?;
    let _ = writer.await;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!("the PDF could not be read (pdftotext: {})", err.trim()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).replace('\u{c}', "\n\n").trim().to_string())
}

/// Whether `pdftotext` is on PATH (for the suite's status).
pub fn available() -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(PDFTOTEXT).is_file()))
        .unwrap_or(false)
}
