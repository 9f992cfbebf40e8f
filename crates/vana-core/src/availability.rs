//! Agents never promise tools they do not have: which declared tools an agent lacks in this
//! installation, and how its instruction says so. An agent that declares tools (or MCP
//! servers) and has none of them is not offered as a transfer target; its parent is told which
//! specialist would fit and what it lacks.

use serde::Serialize;

/// Which of an agent's declared tools exist in this installation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolAvailability {
    /// Declared tool names that no registry has.
    pub missing: Vec<String>,
    /// Declared tools that exist, plus MCP tools the agent gets.
    pub available: usize,
    /// Whether the agent declares any tool or MCP server at all.
    pub declares_tools: bool,
}

impl ToolAvailability {
    /// True when the agent declares tools and has none of them: it cannot do its job here.
    pub fn none_available(&self) -> bool {
        self.declares_tools && self.available == 0
    }

    /// "a, b and c", for messages.
    pub fn missing_list(&self) -> String {
        self.missing.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ")
    }
}

/// `instruction` with the bullets about missing tools removed (a bullet that names only
/// missing tools), and a closing note naming them; plus, for a parent, the sub-agents it cannot
/// hand tasks to and what they lack.
pub fn instruction(
    instruction: &str,
    own: &ToolAvailability,
    unavailable_subs: &[(String, ToolAvailability)],
) -> String {
    let mut out = if own.missing.is_empty() {
        instruction.to_string()
    } else {
        without_bullets_about(instruction, &own.missing)
    };
    if !own.missing.is_empty() {
        if !out.ends_with('\n') && !out.is_empty() {
            out.push('\n');
        }
        if own.none_available() {
            out.push_str(&format!(
                "\nNone of your tools is available in this installation ({}). Do not claim to use them and never \
                 present anything as their output: tell the user plainly that the tools this task needs are not \
                 installed, and answer only what you know without them, saying so.\n",
                own.missing_list()
            ));
        } else {
            out.push_str(&format!(
                "\nNot available in this installation: {}. Do not claim to use them or report results from them; \
                 when a task needs them, say so.\n",
                own.missing_list()
            ));
        }
    }
    if !unavailable_subs.is_empty() {
        let list: Vec<String> =
            unavailable_subs.iter().map(|(n, a)| format!("- {n}: lacks {}", a.missing_list())).collect();
        out.push_str(&format!(
            "\nThese specialists have none of their tools in this installation, so you cannot hand tasks to them. \
             When a task needs one, tell the user which specialist would fit and what it lacks:\n{}\n",
            list.join("\n")
        ));
    }
    out
}

/// The instruction without the bullets (a line starting with `-` or `*` and its more indented
/// continuation lines) whose backquoted names are all in `missing`.
fn without_bullets_about(instruction: &str, missing: &[String]) -> String {
    let mut out = String::new();
    let mut bullet: Vec<&str> = Vec::new();
    let mut indent = 0usize;
    let flush = |bullet: &mut Vec<&str>, out: &mut String| {
        let text = bullet.join("\n");
        let named = backquoted(&text);
        let only_missing = !named.is_empty() && named.iter().all(|n| missing.iter().any(|m| m == n));
        if !only_missing {
            for l in bullet.iter() {
                out.push_str(l);
                out.push('\n');
            }
        }
        bullet.clear();
    };
    for line in instruction.lines() {
        let lead = line.len() - line.trim_start().len();
        let starts_bullet = line.trim_start().starts_with("- ") || line.trim_start().starts_with("* ");
        let continues = !bullet.is_empty() && !starts_bullet && lead > indent && !line.trim().is_empty();
        if continues {
            bullet.push(line);
            continue;
        }
        flush(&mut bullet, &mut out);
        if starts_bullet {
            indent = lead;
            bullet.push(line);
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    flush(&mut bullet, &mut out);
    if !instruction.ends_with('\n') {
        out.pop();
    }
    out
}

/// The `backquoted` words of a text.
fn backquoted(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).filter(|w| !w.is_empty() && !w.contains(' ')).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn avail(missing: &[&str], available: usize) -> ToolAvailability {
        ToolAvailability {
            missing: missing.iter().map(|s| s.to_string()).collect(),
            available,
            declares_tools: true,
        }
    }

    const NLP: &str = "You are the NLP Specialist.\n- Use `analyze_sentiment` for sentiment, `extract_entities`\n  for people.\n- Report the tools' results faithfully.\n";

    #[test]
    fn bullets_about_missing_tools_go_and_a_note_names_them() {
        let text = instruction(NLP, &avail(&["analyze_sentiment", "extract_entities"], 0), &[]);
        assert!(!text.contains("Use `analyze_sentiment`"), "{text}");
        assert!(!text.contains("for people"), "{text}");
        assert!(
            text.contains("You are the NLP Specialist.\n- Report the tools' results faithfully.\n"),
            "{text}"
        );
        assert!(
            text.contains("None of your tools is available") && text.contains("`extract_entities`"),
            "{text}"
        );
    }

    #[test]
    fn a_bullet_naming_a_tool_that_exists_stays() {
        let text = instruction(NLP, &avail(&["analyze_sentiment"], 1), &[]);
        assert!(
            text.contains("Use `analyze_sentiment` for sentiment, `extract_entities`\n  for people."),
            "{text}"
        );
        assert!(text.contains("Not available in this installation: `analyze_sentiment`"), "{text}");
    }

    #[test]
    fn nothing_changes_when_every_tool_exists() {
        assert_eq!(instruction(NLP, &avail(&[], 2), &[]), NLP);
    }

    #[test]
    fn a_parent_learns_which_specialists_it_cannot_use() {
        let text = instruction(
            "Route tasks.",
            &ToolAvailability::default(),
            &[("nlp".into(), avail(&["detect_language"], 0))],
        );
        assert!(
            text.starts_with("Route tasks.\n") && text.contains("- nlp: lacks `detect_language`"),
            "{text}"
        );
    }
}
