//! What a jq filter may not do before it runs: define functions that call themselves, directly
//! or through each other. jaq evaluates such a definition on the native stack, so a filter such
//! as `def f: 1 + f; f` would overflow it and abort the whole process (the server with it);
//! jq's own recursive built-ins (`recurse`, `while`, `until`, `repeat`) stay available.

use jaq_core::load::lex::StrPart;
use jaq_core::load::parse::{BinaryOp, Pattern, Term};
use jaq_core::path::Part;
use std::collections::{BTreeMap, BTreeSet};

/// `Err` with a clear message when `code` defines recursive functions or cannot be checked.
pub fn check(code: &str) -> Result<(), String> {
    let term = jaq_core::load::parse(code, |p| p.term()).ok_or_else(|| {
        "the jq filter does not parse (or uses modules, which transform_data does not allow)".to_string()
    })?;
    let mut defs = Vec::new();
    collect_defs(&term, &mut defs);
    let names: BTreeSet<&str> = defs.iter().map(|(n, _)| *n).collect();
    let mut calls: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (name, body) in &defs {
        let mut called = Vec::new();
        collect_calls(body, &mut called);
        calls.entry(name).or_default().extend(called.into_iter().filter(|c| names.contains(c)));
    }
    let recursive: Vec<&str> = names.iter().copied().filter(|n| reaches(&calls, n, n)).collect();
    if recursive.is_empty() {
        return Ok(());
    }
    Err(format!(
        "the jq filter defines recursive functions ({}), which transform_data does not run (unbounded \
         recursion would exhaust the stack); use jq's built-ins recurse, while, until, repeat or limit",
        recursive.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
    ))
}

/// Whether `to` is reachable from `from` in one or more calls.
fn reaches(calls: &BTreeMap<&str, BTreeSet<&str>>, from: &str, to: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<&str> = calls.get(from).into_iter().flatten().copied().collect();
    while let Some(n) = stack.pop() {
        if n == to {
            return true;
        }
        if seen.insert(n) {
            stack.extend(calls.get(n).into_iter().flatten().copied());
        }
    }
    false
}

fn collect_defs<'s, 'a>(t: &'a Term<&'s str>, out: &mut Vec<(&'s str, &'a Term<&'s str>)>) {
    if let Term::Def(defs, _) = t {
        out.extend(defs.iter().map(|d| (d.name, &d.body)));
    }
    children(t, &mut |c| collect_defs(c, out));
}

fn collect_calls<'s>(t: &Term<&'s str>, out: &mut Vec<&'s str>) {
    if let Term::Call(name, _) = t {
        out.push(name);
    }
    children(t, &mut |c| collect_calls(c, out));
}

fn pattern_terms<'a, S>(p: &'a Pattern<S>, f: &mut dyn FnMut(&'a Term<S>)) {
    match p {
        Pattern::Var(_) => {}
        Pattern::Arr(ps) => ps.iter().for_each(|p| pattern_terms(p, f)),
        Pattern::Obj(kvs) => kvs.iter().for_each(|(k, p)| {
            f(k);
            pattern_terms(p, f);
        }),
    }
}

/// Calls `f` on each direct sub-term of `t`.
fn children<'a, S>(t: &'a Term<S>, f: &mut dyn FnMut(&'a Term<S>)) {
    match t {
        Term::Id | Term::Recurse | Term::Num(_) | Term::Break(_) | Term::Var(_) => {}
        Term::Str(_, parts) => parts.iter().for_each(|p| {
            if let StrPart::Term(t) = p {
                f(t)
            }
        }),
        Term::Arr(a) => a.iter().for_each(|t| f(t)),
        Term::Obj(kvs) => kvs.iter().for_each(|(k, v)| {
            f(k);
            v.iter().for_each(&mut *f);
        }),
        Term::Neg(t) | Term::Label(_, t) => f(t),
        Term::BinOp(l, op, r) => {
            f(l);
            if let BinaryOp::Pipe(Some(p)) = op {
                pattern_terms(p, f);
            }
            f(r);
        }
        Term::Fold(_, t, p, args) => {
            f(t);
            pattern_terms(p, f);
            args.iter().for_each(&mut *f);
        }
        Term::TryCatch(t, c) => {
            f(t);
            c.iter().for_each(|c| f(c));
        }
        Term::IfThenElse(branches, otherwise) => {
            branches.iter().for_each(|(c, b)| {
                f(c);
                f(b);
            });
            otherwise.iter().for_each(|o| f(o));
        }
        Term::Def(defs, rest) => {
            defs.iter().for_each(|d| f(&d.body));
            f(rest);
        }
        Term::Call(_, args) => args.iter().for_each(&mut *f),
        Term::Path(t, path) => {
            f(t);
            for (part, _) in &path.0 {
                match part {
                    Part::Index(i) => f(i),
                    Part::Range(a, b) => {
                        a.iter().for_each(&mut *f);
                        b.iter().for_each(&mut *f);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn recursive_definitions_are_refused_and_the_rest_passes() {
        for bad in [
            "def f: 1 + f; f",
            "def f(x): if x == 0 then 0 else f(x - 1) end; f(3)",
            "def a: b; def b: [a]; a",
            ".[] | (def g: {x: g}; g)",
            "def outer: def inner: outer; inner; outer",
        ] {
            let e = check(bad).expect_err(bad);
            assert!(e.contains("recursive functions"), "{bad}: {e}");
        }
        for ok in [
            ".",
            "def double: . * 2; map(double)",
            "[recurse(if . < 3 then . + 1 else empty end)]",
            "def a: 1; def b: a + a; b",
            "reduce .[] as {x: $x} (0; . + $x)",
            "\"\\(def h: 1; h)\"",
        ] {
            check(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
    }
}
