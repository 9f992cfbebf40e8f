//! Calling a [`Model`] directly, as the runtime does, and checking its streaming contract.

use futures::StreamExt;
use vana_core::{Content, FunctionCall, LlmRequest, LlmResponse, Model, ModelError};

/// A one-message request with a short system instruction.
pub fn ask(text: &str) -> LlmRequest {
    LlmRequest {
        model: String::new(),
        system_instruction: Some("You are terse.".into()),
        contents: vec![Content::user_text(text)],
        ..Default::default()
    }
}

/// Runs a call and splits the stream into its partial chunks and its final response, checking
/// the streaming contract (partials first, exactly one final, last; none but the final one
/// when not streaming).
pub async fn generate(
    model: &dyn Model,
    req: LlmRequest,
    stream: bool,
) -> Result<(Vec<LlmResponse>, LlmResponse), ModelError> {
    let mut s = model.generate(req.into(), stream).await?;
    let mut items = Vec::new();
    while let Some(item) = s.next().await {
        items.push(item?);
    }
    let last = items.pop().expect("at least the final response");
    assert!(!last.partial && last.turn_complete, "last item must be the final response: {last:?}");
    assert!(items.iter().all(|r| r.partial && !r.turn_complete), "only partial chunks before the final one");
    if !stream {
        assert!(items.is_empty(), "non-streaming calls yield exactly one response");
    }
    Ok((items, last))
}

/// Concatenated text of partial chunks.
pub fn partial_text(chunks: &[LlmResponse]) -> String {
    chunks.iter().filter_map(|c| c.content.as_ref()).map(|c| c.text()).collect()
}

/// The function calls of a response.
pub fn calls(resp: &LlmResponse) -> Vec<FunctionCall> {
    resp.content.iter().flat_map(|c| c.parts.iter()).filter_map(|p| p.function_call.clone()).collect()
}
