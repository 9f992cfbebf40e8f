//! Bytes → text: the charset from a byte-order mark, the `Content-Type` header, or an HTML
//! `<meta charset>` / `http-equiv` in the first KiB; else UTF-8 when it is valid UTF-8, else
//! windows-1252 (what browsers assume for unlabelled Latin text).

use encoding_rs::Encoding;

/// The text and the name of the encoding it was decoded from.
pub fn decode(bytes: &[u8], content_type: Option<&str>, html: bool) -> (String, &'static str) {
    let encoding = Encoding::for_bom(bytes)
        .map(|(e, _)| e)
        .or_else(|| content_type.and_then(charset_param).and_then(|c| Encoding::for_label(c.as_bytes())))
        .or_else(|| if html { meta_charset(bytes) } else { None })
        .unwrap_or_else(|| {
            if std::str::from_utf8(bytes).is_ok() {
                encoding_rs::UTF_8
            } else {
                encoding_rs::WINDOWS_1252
            }
        });
    // A page labelled UTF-16 in a meta tag is really ASCII-compatible (the tag was readable).
    let encoding =
        if !html || Encoding::for_bom(bytes).is_some() { encoding } else { encoding.output_encoding() };
    let (text, used, _) = encoding.decode(bytes);
    (text.into_owned(), used.name())
}

fn charset_param(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case("charset").then(|| v.trim().trim_matches(['"', '\'']).to_string())
    })
}

fn meta_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(1024)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let mut rest = head.as_str();
    while let Some(i) = rest.find("<meta") {
        rest = &rest[i + 5..];
        let tag = &rest[..rest.find('>').unwrap_or(rest.len())];
        if let Some(j) = tag.find("charset=") {
            let v = tag[j + 8..].trim_start_matches(['"', '\'', ' ']);
            let end = v
                .find(|c: char| c == '"' || c == '\'' || c == ';' || c.is_whitespace() || c == '/')
                .unwrap_or(v.len());
            if let Some(e) = Encoding::for_label(&v.as_bytes()[..end]) {
                return Some(e);
            }
        }
    }
    None
}
