//! Running a message through a [`Runner`] the way a face does, and reading what came back.

use vana_core::{Content, Event, Outcome, Runner};

/// The user every helper here runs as.
pub const USER: &str = "u1";

/// Runs one message on a new session of user [`USER`]; returns the session id, every event and
/// the outcome.
pub async fn run(runner: &Runner, text: &str) -> (String, Vec<Event>, Outcome) {
    let session = runner.create_session(USER).await.expect("create a session").id;
    let (events, outcome) = run_on(runner, &session, text).await;
    (session, events, outcome)
}

/// Runs one message (not streamed) on an existing session of user [`USER`].
pub async fn run_on(runner: &Runner, session: &str, text: &str) -> (Vec<Event>, Outcome) {
    let inv = runner.run(USER, session, Content::user_text(text), false).await.expect("start the run");
    inv.collect().await
}

/// The final answers among `events` as (author, text), the user's own message left out.
pub fn finals(events: &[Event]) -> Vec<(String, String)> {
    events
        .iter()
        .filter(|e| e.is_final_response() && e.author != "user")
        .map(|e| (e.author.clone(), e.text()))
        .collect()
}
