//! A small incremental Server-Sent Events parser and the driver that turns an SSE response into
//! an `LlmResponseStream`.

use crate::http::transport_error;
use futures::StreamExt;
use std::collections::VecDeque;
use std::time::Duration;
use vana_core::{LlmResponse, LlmResponseStream, ModelError};

/// One dispatched SSE event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, if any.
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

/// Incremental SSE parser: feed bytes as they arrive, collect complete events.
#[derive(Debug, Default)]
pub struct SseParser {
    buf: Vec<u8>,
    event: Option<String>,
    data: Vec<String>,
    has_data: bool,
}

impl SseParser {
    /// A parser with nothing buffered.
    pub fn new() -> Self {
        SseParser::default()
    }

    /// Feeds a chunk of bytes and returns the events it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        self.buf.extend_from_slice(chunk);
        let mut out = Vec::new();
        while let Some(pos) = self.buf.iter().position(|&b| b == b'\n' || b == b'\r') {
            // A lone '\r' at the end of the buffer may be followed by '\n' in the next chunk.
            if self.buf[pos] == b'\r' && pos + 1 == self.buf.len() {
                break;
            }
            let line = String::from_utf8_lossy(&self.buf[..pos]).into_owned();
            let skip = if self.buf[pos] == b'\r' && self.buf.get(pos + 1) == Some(&b'\n') { 2 } else { 1 };
            self.buf.drain(..pos + skip);
            if let Some(ev) = self.line(&line) {
                out.push(ev);
            }
        }
        out
    }

    /// Flushes what remains at end of stream (a last event without its blank line).
    pub fn finish(&mut self) -> Option<SseEvent> {
        if !self.buf.is_empty() {
            let line =
                String::from_utf8_lossy(&std::mem::take(&mut self.buf)).trim_end_matches('\r').to_string();
            if let Some(ev) = self.line(&line) {
                return Some(ev);
            }
        }
        self.dispatch()
    }

    fn line(&mut self, line: &str) -> Option<SseEvent> {
        if line.is_empty() {
            return self.dispatch();
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = Some(value.to_string()),
            "data" => {
                self.data.push(value.to_string());
                self.has_data = true;
            }
            _ => {}
        }
        None
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        let event = self.event.take();
        if !self.has_data {
            return None;
        }
        self.has_data = false;
        Some(SseEvent { event, data: std::mem::take(&mut self.data).join("\n") })
    }
}

/// A provider's streaming state machine: consumes SSE events, emits partial chunks, and builds
/// the final aggregate.
pub(crate) trait StreamDecoder: Send + 'static {
    /// Handles one event, pushing partial responses to `out`; returns true at the end-of-stream marker.
    fn on_event(&mut self, event: SseEvent, out: &mut Vec<LlmResponse>) -> Result<bool, ModelError>;
    /// The final (non-partial) response once the stream is over.
    fn finish(&mut self) -> Result<LlmResponse, ModelError>;
}

struct DriveState<D> {
    body: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    parser: SseParser,
    queue: VecDeque<Result<LlmResponse, ModelError>>,
    decoder: D,
    model: String,
    idle: Duration,
    done: bool,
}

impl<D: StreamDecoder> DriveState<D> {
    fn feed(&mut self, events: Vec<SseEvent>) {
        let mut out = Vec::new();
        for ev in events {
            match self.decoder.on_event(ev, &mut out) {
                Ok(false) => {}
                Ok(true) => {
                    self.queue.extend(out.drain(..).map(Ok));
                    self.finalize();
                    return;
                }
                Err(e) => {
                    self.queue.extend(out.drain(..).map(Ok));
                    self.queue.push_back(Err(e));
                    self.done = true;
                    return;
                }
            }
        }
        self.queue.extend(out.into_iter().map(Ok));
    }

    fn finalize(&mut self) {
        self.queue.push_back(self.decoder.finish());
        self.done = true;
    }
}

/// Turns a streaming HTTP response into partial chunks plus one final response. Each read must
/// arrive within `idle` or the stream fails with `Timeout`.
pub(crate) fn drive_sse<D: StreamDecoder>(
    model: String,
    resp: reqwest::Response,
    idle: Duration,
    decoder: D,
) -> LlmResponseStream {
    let state = DriveState {
        body: resp.bytes_stream().boxed(),
        parser: SseParser::new(),
        queue: VecDeque::new(),
        decoder,
        model,
        idle,
        done: false,
    };
    futures::stream::unfold(state, |mut st| async move {
        loop {
            if let Some(item) = st.queue.pop_front() {
                return Some((item, st));
            }
            if st.done {
                return None;
            }
            match tokio::time::timeout(st.idle, st.body.next()).await {
                Err(_) => {
                    st.queue.push_back(Err(ModelError::Timeout { model: st.model.clone(), after: st.idle }));
                    st.done = true;
                }
                Ok(Some(Err(e))) => {
                    st.queue.push_back(Err(transport_error(&st.model, &e, st.idle)));
                    st.done = true;
                }
                Ok(Some(Ok(bytes))) => {
                    let events = st.parser.push(&bytes);
                    st.feed(events);
                }
                Ok(None) => {
                    let events: Vec<SseEvent> = st.parser.finish().into_iter().collect();
                    st.feed(events);
                    if !st.done {
                        st.finalize();
                    }
                }
            }
        }
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_events_across_chunks_and_line_endings() {
        let mut p = SseParser::new();
        assert!(p.push(b"event: message_start\r").is_empty());
        let evs = p.push(b"\ndata: {\"a\":1}\r\n\r\n: comment\n\ndata: x\ndata: y\n\n");
        assert_eq!(
            evs,
            vec![
                SseEvent { event: Some("message_start".into()), data: "{\"a\":1}".into() },
                SseEvent { event: None, data: "x\ny".into() },
            ]
        );
        assert!(p.push(b"data: [DONE]").is_empty());
        assert_eq!(p.finish(), Some(SseEvent { event: None, data: "[DONE]".into() }));
    }
}
