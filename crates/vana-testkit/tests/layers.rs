//! Layering as a test: every crate of the workspace sits in a layer, and each of its
//! dependencies on another VANA crate (`[dependencies]`, `[dev-dependencies]` and
//! `[build-dependencies]`, target-specific ones included) must point down the layers. A new crate
//! fails this test until it is placed in [`PLACES`]; an edge that points up fails naming the edge
//! and the rule it breaks (see docs/architecture.md for the layers).
//!
//! Dev-dependencies follow the same rules as dependencies (a crate's tests link the crate, so a
//! test that needs a higher crate belongs to that crate), with two differences: any crate's
//! tests may use the test support crate, which itself is never a `[dependencies]` entry, and the
//! CLI's tests may use any lower crate (the CLI itself stays thin).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The layers, from the runtime up to the faces, and the test support beside them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layer {
    /// `vana-core`: events, agents, runner, the Model / Tool / SessionStore traits.
    Runtime,
    /// What the runtime is given: providers, stores, sandbox, MCP, local model, router, files.
    Part,
    /// `vana-toolkit`: what every tool suite builds on.
    Toolkit,
    /// `vana-tools-*`: tool suites, one crate per dependency group.
    Suite,
    /// `vana-app`: configuration, catalog and registries assembled into runners.
    Composition,
    /// `vana-server`: the HTTP face.
    Server,
    /// `vana`: the command-line face.
    Cli,
    /// `vana-testkit`: what the tests share.
    TestSupport,
}

/// Where each crate sits. A name ending in `*` is a prefix: every `vana-tools-…` crate is a suite.
const PLACES: &[(&str, Layer)] = &[
    ("vana-core", Layer::Runtime),
    ("vana-assets", Layer::Part),
    ("vana-local", Layer::Part),
    ("vana-mcp", Layer::Part),
    ("vana-models", Layer::Part),
    ("vana-net", Layer::Part),
    ("vana-router", Layer::Part),
    ("vana-sandbox", Layer::Part),
    ("vana-scripted", Layer::Part),
    ("vana-store", Layer::Part),
    ("vana-workspace", Layer::Part),
    ("vana-toolkit", Layer::Toolkit),
    ("vana-tools-*", Layer::Suite),
    ("vana-app", Layer::Composition),
    ("vana-server", Layer::Server),
    ("vana", Layer::Cli),
    ("vana-testkit", Layer::TestSupport),
];

/// Edges the layer rules alone would refuse, each allowed for the reason given. An entry no
/// longer used fails the test, so none outlives its reason.
const EXCEPTIONS: &[(&str, &str, &str)] = &[(
    "vana",
    "vana-mcp",
    "`vana mcp` is the MCP part's own command line (server status, trusting a project's .mcp.json, \
     serving VANA over stdio as a key's user); it talks to the part's types directly",
)];

/// The one part the test support crate may use: the scripted model it re-exports.
const SCRIPTED: &str = "vana-scripted";

/// Which kind of dependency table an edge comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Normal,
    Dev,
    Build,
}

/// Why `from` may not depend on `to`, or `None` when it may.
fn broken_rule(from: Layer, to: Layer, to_name: &str, kind: Kind) -> Option<&'static str> {
    use Layer::*;
    match (from, to) {
        (_, TestSupport) if kind == Kind::Dev => None,
        (_, TestSupport) => Some(
            "vana-testkit is a dev-dependency only: tests share it, no library or binary links it",
        ),
        (Runtime, _) => Some("vana-core (the runtime) depends on no other VANA crate"),
        (Part, Runtime | Part) => None,
        (Part, _) => Some("a part depends only on vana-core and other parts, never on the toolkit, a suite, vana-app or a face"),
        (Toolkit, Runtime | Part) => None,
        (Toolkit, _) => Some("vana-toolkit depends only on vana-core and parts"),
        (Suite, Suite) => Some("suites never depend on each other: share code through vana-toolkit, assemble them in vana-app"),
        (Suite, Toolkit | Runtime | Part) => None,
        (Suite, _) => Some("a suite depends only on vana-toolkit, vana-core and parts"),
        (Composition, Suite | Toolkit | Part | Runtime) => None,
        (Composition, _) => Some("vana-app (the composition root) depends on no face"),
        (Server, Composition | Part | Runtime) => None,
        (Server, _) => Some("the server depends on vana-app, vana-core and parts; never on the CLI, and suites only through vana-app"),
        (Cli, Server | Composition | Runtime) => None,
        (Cli, Suite | Toolkit | Part) if kind == Kind::Dev => None,
        (Cli, _) => Some("the CLI is thin: it reaches parts and suites only through vana-app (or the server)"),
        (TestSupport, Runtime) => None,
        (TestSupport, Part) if to_name == SCRIPTED => None,
        (TestSupport, _) => Some("vana-testkit depends only on vana-core and vana-scripted, so any crate's tests can use it"),
    }
}

/// The layer of a crate, if it is placed.
fn layer_of(name: &str) -> Option<Layer> {
    PLACES
        .iter()
        .find(|(pattern, _)| match pattern.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => name == *pattern,
        })
        .map(|(_, layer)| *layer)
}

/// One crate's manifest: its name and its dependencies on other crates, by table.
struct Manifest {
    name: String,
    deps: Vec<(String, Kind)>,
}

/// Reads a manifest's package name and every dependency (by the package it names).
fn parse(text: &str, origin: &str) -> Manifest {
    let doc: toml::Table = text.parse().unwrap_or_else(|e| panic!("{origin} is not valid TOML: {e}"));
    let name = doc
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .unwrap_or_else(|| panic!("{origin} has no [package] name"))
        .to_string();
    // The top level and every `[target.'cfg(..)']` section hold dependency tables.
    let mut sections = vec![&doc];
    if let Some(targets) = doc.get("target").and_then(|t| t.as_table()) {
        sections.extend(targets.values().filter_map(|v| v.as_table()));
    }
    let mut deps = Vec::new();
    for section in sections {
        for (key, kind) in [
            ("dependencies", Kind::Normal),
            ("dev-dependencies", Kind::Dev),
            ("build-dependencies", Kind::Build),
        ] {
            for (dep, spec) in section.get(key).and_then(|d| d.as_table()).into_iter().flatten() {
                let package = spec.get("package").and_then(|p| p.as_str()).unwrap_or(dep);
                deps.push((package.to_string(), kind));
            }
        }
    }
    Manifest { name, deps }
}

/// Every violation among `manifests`, one message each; an unplaced crate is one too.
fn violations(manifests: &[Manifest]) -> Vec<String> {
    let ours: BTreeMap<&str, Option<Layer>> =
        manifests.iter().map(|m| (m.name.as_str(), layer_of(&m.name))).collect();
    let mut out = Vec::new();
    for m in manifests {
        let Some(from) = ours[m.name.as_str()] else {
            out.push(format!(
                "crate `{}` is in no layer: place it in PLACES in crates/vana-testkit/tests/layers.rs \
                 (runtime, part, toolkit, suite `vana-tools-*`, composition, face or test support) \
                 and in docs/architecture.md",
                m.name
            ));
            continue;
        };
        for (dep, kind) in &m.deps {
            let Some(Some(to)) = ours.get(dep.as_str()) else { continue };
            if dep == &m.name {
                continue;
            }
            let Some(rule) = broken_rule(from, *to, dep, *kind) else { continue };
            if EXCEPTIONS.iter().any(|(f, t, _)| *f == m.name && t == dep) {
                continue;
            }
            let table = match kind {
                Kind::Normal => "[dependencies]",
                Kind::Dev => "[dev-dependencies]",
                Kind::Build => "[build-dependencies]",
            };
            out.push(format!("`{}` ({from:?}) -> `{dep}` ({to:?}) in {table}: {rule}", m.name));
        }
    }
    out
}

/// Exact names in PLACES and exceptions that no longer match the workspace.
fn stale_entries(manifests: &[Manifest]) -> Vec<String> {
    let has = |name: &str| manifests.iter().any(|m| m.name == name);
    let mut out: Vec<String> = PLACES
        .iter()
        .filter(|(p, _)| !p.ends_with('*') && !has(p))
        .map(|(p, _)| format!("PLACES names `{p}`, which is no crate of the workspace: remove it"))
        .collect();
    for (from, to, _) in EXCEPTIONS {
        let used = manifests.iter().any(|m| m.name == *from && m.deps.iter().any(|(d, _)| d == to))
            && broken_rule(layer_of(from).unwrap(), layer_of(to).unwrap(), to, Kind::Normal).is_some();
        if !used {
            out.push(format!(
                "the exception `{from}` -> `{to}` is no longer needed: remove it from EXCEPTIONS"
            ));
        }
    }
    out
}

fn crates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The manifest of every crate under `crates/`.
fn workspace() -> Vec<Manifest> {
    let mut manifests: Vec<Manifest> = std::fs::read_dir(crates_dir())
        .expect("read crates/")
        .flatten()
        .map(|e| e.path().join("Cargo.toml"))
        .filter(|p| p.is_file())
        .map(|p| parse(&std::fs::read_to_string(&p).unwrap(), &p.display().to_string()))
        .collect();
    manifests.sort_by(|a, b| a.name.cmp(&b.name));
    manifests
}

#[test]
fn every_dependency_points_down_the_layers() {
    let manifests = workspace();
    assert!(manifests.len() >= 10, "found only {} crates under {}", manifests.len(), crates_dir().display());
    let found = violations(&manifests);
    assert!(found.is_empty(), "dependencies that break the layering:\n{}", found.join("\n"));
}

#[test]
fn the_rule_table_names_only_crates_that_exist() {
    let stale = stale_entries(&workspace());
    assert!(stale.is_empty(), "{}", stale.join("\n"));
}

/// The checker itself: it names the edge and the rule for each kind of upward edge, and refuses
/// an unplaced crate.
#[test]
fn upward_edges_and_unplaced_crates_are_reported() {
    let manifest = |name: &str, deps: &[(&str, Kind)]| Manifest {
        name: name.into(),
        deps: deps.iter().map(|(d, k)| (d.to_string(), *k)).collect(),
    };
    let all = [
        manifest("vana-core", &[("vana-models", Kind::Dev)]),
        manifest("vana-models", &[("vana-core", Kind::Normal), ("vana-app", Kind::Normal)]),
        manifest("vana-toolkit", &[("vana-core", Kind::Normal)]),
        manifest("vana-tools-web", &[("vana-toolkit", Kind::Normal), ("vana-tools-data", Kind::Normal)]),
        manifest("vana-tools-data", &[("vana-toolkit", Kind::Normal), ("vana-testkit", Kind::Dev)]),
        manifest("vana-app", &[("vana-tools-web", Kind::Normal), ("vana-server", Kind::Normal)]),
        manifest("vana-server", &[("vana-app", Kind::Normal), ("vana", Kind::Normal)]),
        manifest(
            "vana",
            &[("vana-app", Kind::Normal), ("vana-sandbox", Kind::Normal), ("vana-models", Kind::Dev)],
        ),
        manifest("vana-sandbox", &[("vana-testkit", Kind::Normal)]),
        manifest("vana-testkit", &[("vana-core", Kind::Normal), ("vana-store", Kind::Normal)]),
        manifest("vana-store", &[("vana-core", Kind::Normal)]),
        manifest("vana-frobnicate", &[]),
    ];
    let found = violations(&all);
    let expect = [
        "`vana-core` (Runtime) -> `vana-models` (Part) in [dev-dependencies]: vana-core (the runtime) depends on no other VANA crate",
        "`vana-models` (Part) -> `vana-app` (Composition) in [dependencies]: a part depends only on",
        "`vana-tools-web` (Suite) -> `vana-tools-data` (Suite) in [dependencies]: suites never depend on each other",
        "`vana-app` (Composition) -> `vana-server` (Server) in [dependencies]: vana-app (the composition root) depends on no face",
        "`vana-server` (Server) -> `vana` (Cli) in [dependencies]: the server depends on",
        "`vana` (Cli) -> `vana-sandbox` (Part) in [dependencies]: the CLI is thin",
        "`vana-sandbox` (Part) -> `vana-testkit` (TestSupport) in [dependencies]: vana-testkit is a dev-dependency only",
        "`vana-testkit` (TestSupport) -> `vana-store` (Part) in [dependencies]: vana-testkit depends only on vana-core and vana-scripted",
        "crate `vana-frobnicate` is in no layer",
    ];
    for e in expect {
        assert!(
            found.iter().any(|f| f.starts_with(e)),
            "expected a violation starting with {e:?} in:\n{}",
            found.join("\n")
        );
    }
    assert_eq!(found.len(), expect.len(), "only these edges break the rules:\n{}", found.join("\n"));
}
