//! Inline code runs as a notebook cell in the real sandbox (python3 and node): the value of the
//! last expression is shown, and everything else behaves as the plain script would.

mod common;

use common::*;
use std::time::Duration;
use vana_sandbox::{Echo, ExecutionRequest, SandboxPolicy};

#[test]
fn python_shows_the_last_expression() {
    let r = run("python", "2**100");
    assert_eq!((r.stdout.as_str(), r.exit_code), ("1267650600228229401496703205376\n", Some(0)), "{r:?}");
    let r = run("python", "x = [1, 2]\nx.append(3)\nx\n");
    assert_eq!(r.stdout, "[1, 2, 3]\n", "{r:?}");
    // repr, as the interactive interpreter shows it.
    assert_eq!(run("python", "'a' + 'b'").stdout, "'ab'\n");
    // Nothing for None, for a statement, or for a trailing `;` (Jupyter's way to hide it).
    for quiet in ["None", "x = 5", "import math", "2 + 2;", "def f():\n    return 1\n"] {
        let r = run("python", quiet);
        assert_eq!((r.stdout.as_str(), r.exit_code), ("", Some(0)), "{quiet}: {r:?}");
    }
    // Code that already prints shows its output once, not twice (print returns None).
    let r = run("python", "print(2**100)");
    assert_eq!(r.stdout, "1267650600228229401496703205376\n", "{r:?}");
    // Only the last statement is echoed.
    assert_eq!(run("python", "1\n2\n3").stdout, "3\n");
}

#[test]
fn python_cell_keeps_main_argv_stdin_and_exit_codes() {
    let code =
        "import sys\nif __name__ == '__main__':\n    print('main', sys.argv)\nsys.stdin.read().upper()";
    let mut req = ExecutionRequest::new("python", code).stdin("abc");
    req.args = vec!["x".into()];
    let r = run_req(req);
    assert_eq!(r.stdout, "main ['/sandbox/main.py', 'x']\n'ABC'\n", "{r:?}");
    // Classes defined in the cell pickle (they live in the real `__main__` module).
    let r = run("python", "import pickle\nclass A: pass\nlen(pickle.dumps(A())) > 0");
    assert_eq!(r.stdout, "True\n", "{r:?}");
    let r = run("python", "import sys\nprint('out')\nsys.exit(3)");
    assert_eq!((r.stdout.as_str(), r.exit_code), ("out\n", Some(3)), "{r:?}");
}

#[test]
fn python_tracebacks_and_syntax_errors_read_as_for_the_script() {
    let r = run("python", "x = 1\ndef f():\n    return 1 / 0\nf()");
    assert_eq!(r.exit_code, Some(1), "{r:?}");
    assert_eq!(r.stdout, "");
    let expected =
        "Traceback (most recent call last):\n  File \"/sandbox/main.py\", line 4, in <module>\n    f()\n  \
                    File \"/sandbox/main.py\", line 3, in f\n    return 1 / 0\n";
    assert!(r.stderr.starts_with(expected), "{}", r.stderr);
    assert!(r.stderr.trim_end().ends_with("ZeroDivisionError: division by zero"), "{}", r.stderr);
    assert!(!r.stderr.contains("<string>"), "no frame of the wrapper: {}", r.stderr);
    // An error in the echoed expression itself names its line.
    let r = run("python", "x = {}\n\nx['missing']");
    assert!(r.stderr.contains("line 3, in <module>") && r.stderr.contains("KeyError: 'missing'"), "{r:?}");
    // A syntax error is reported as Python reports it, with nothing run.
    let r = run("python", "print('ran')\ndef (:\n");
    assert_eq!((r.stdout.as_str(), r.exit_code), ("", Some(1)), "{r:?}");
    assert!(r.stderr.starts_with("  File \"/sandbox/main.py\", line 2\n"), "{}", r.stderr);
    assert!(r.stderr.contains("SyntaxError: invalid syntax"), "{}", r.stderr);
}

#[test]
fn node_shows_the_completion_value() {
    let r = run("javascript", "const xs = [1, 2, 3];\nxs.map((v) => v * 2)");
    assert_eq!((r.stdout.as_str(), r.exit_code), ("[ 2, 4, 6 ]\n", Some(0)), "{r:?}");
    assert_eq!(run("javascript", "2n ** 100n").stdout, "1267650600228229401496703205376n\n");
    assert_eq!(run("javascript", "'a' + 'b'").stdout, "'ab'\n");
    // Nothing for undefined, a promise, or an event emitter (what chained `.on(...)` returns).
    let emitter = "const s = new (require('events'))();\ns.on('x', () => {})";
    for quiet in ["undefined", "let x = 5;", "console.log('once')", "async function m() {}\nm()", emitter] {
        let r = run("javascript", quiet);
        let want = if quiet.starts_with("console") { "once\n" } else { "" };
        assert_eq!((r.stdout.as_str(), r.exit_code), (want, Some(0)), "{quiet}: {r:?}");
    }
}

#[test]
fn node_cell_keeps_require_main_argv_timers_errors_and_top_level_return() {
    let code = "if (require.main === module) console.log('main', process.argv.slice(1), __filename);\n\
                setTimeout(() => console.log('later'), 5);\nrequire('path').basename(__dirname)";
    let mut req = ExecutionRequest::new("javascript", code);
    req.args = vec!["x".into()];
    let r = run_req(req);
    assert_eq!(r.stdout, "main [ '/sandbox/main.js', 'x' ] /sandbox/main.js\n'sandbox'\nlater\n", "{r:?}");
    let r = run("javascript", "function f() {\n  throw new Error('boom');\n}\nf()");
    assert_eq!(r.exit_code, Some(1), "{r:?}");
    assert!(r.stderr.contains("Error: boom") && r.stderr.contains("/sandbox/main.js:2:"), "{}", r.stderr);
    // A top-level return is not a script: it runs as the main module, as before.
    let r = run("javascript", "console.log('before');\nreturn;\nconsole.log('after')");
    assert_eq!((r.stdout.as_str(), r.exit_code), ("before\n", Some(0)), "{r:?}");
    let r = run("javascript", "let = = 1");
    assert_eq!(r.exit_code, Some(1), "{r:?}");
    assert!(r.stderr.contains("SyntaxError") && r.stderr.contains("/sandbox/main.js:1"), "{}", r.stderr);
}

#[test]
fn code_run_from_a_workspace_file_and_shell_are_plain_scripts() {
    let sid = session("echo-file");
    engine().workspaces().ensure(&sid).unwrap().write("s.py", b"2**10\n").unwrap();
    let mut req = ExecutionRequest::new("python", "").session(&sid).timeout(Duration::from_secs(10));
    req.code = vana_sandbox::CodeSource::File("s.py".into());
    let r = run_req(req);
    assert_eq!((r.stdout.as_str(), r.exit_code), ("", Some(0)), "a file runs as `python3 s.py`: {r:?}");
    engine().delete_session(&sid).unwrap();
    assert_eq!(run("shell", "echo 1\ntrue").stdout, "1\n");
}

#[test]
fn the_shipped_policy_echoes_python_and_node_only() {
    let p = SandboxPolicy::builtin();
    let echo = |l: &str| p.language(l).unwrap().1.echo;
    assert_eq!((echo("python"), echo("javascript")), (Some(Echo::Python), Some(Echo::Node)));
    assert_eq!((echo("shell"), echo("bash")), (None, None));
}
