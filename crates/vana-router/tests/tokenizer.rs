//! The WordPiece tokenizer against ids produced by Hugging Face's BertTokenizer for
//! all-MiniLM-L6-v2's vocab.txt.

mod common;

use vana_router::Tokenizer;

fn tokenizer() -> Tokenizer {
    Tokenizer::from_file(&common::model_dir().join("vocab.txt")).expect("vocab.txt")
}

#[test]
fn known_ids() {
    let tok = tokenizer();
    assert_eq!(tok.vocab_size(), 30522);
    let cases: &[(&str, &[u32])] = &[
        ("Hello, world!", &[101, 7592, 1010, 2088, 999, 102]),
        ("ALL CAPS SHOUTING!!!", &[101, 2035, 9700, 11273, 999, 999, 999, 102]),
        (
            "snake_case_name and camelCaseName",
            &[101, 7488, 1035, 2553, 1035, 2171, 1998, 19130, 18382, 18442, 102],
        ),
        (
            "numbers 3.14159, 1,000,000 and 42%",
            &[101, 3616, 1017, 1012, 15471, 28154, 1010, 1015, 1010, 2199, 1010, 2199, 1998, 4413, 1003, 102],
        ),
        (
            "I'm   gonna\ttest\nnewlines\r\nand tabs",
            &[101, 1045, 1005, 1049, 6069, 3231, 2047, 12735, 1998, 21628, 2015, 102],
        ),
        ("", &[101, 102]),
    ];
    for (text, ids) in cases {
        assert_eq!(tok.encode(text), *ids, "{text:?}");
    }
}

#[test]
fn accents_are_stripped() {
    let tok = tokenizer();
    assert_eq!(tok.encode("Café naïve résumé"), [101, 7668, 15743, 13746, 102]);
    assert_eq!(tok.encode("Cafe naive resume"), tok.encode("CAFÉ NAÏVE RÉSUMÉ"));
    // A decomposed accent (e + combining acute) reads like the precomposed one.
    assert_eq!(tok.encode("e\u{301} combining"), [101, 1041, 11566, 102]);
    assert_eq!(
        tok.encode("Vietnamese: Tiếng Việt có dấu"),
        [101, 9101, 1024, 5495, 3070, 19710, 2522, 4830, 2226, 102]
    );
    assert_eq!(
        tok.encode("straße Łódź Ørsted æble"),
        [101, 2358, 27807, 17814, 1100, 12096, 2098, 1097, 3468, 102]
    );
}

#[test]
fn punctuation_cjk_and_unknown_words() {
    let tok = tokenizer();
    // CJK ideographs are single tokens; these two are not in the vocabulary.
    assert_eq!(tok.encode("这是中文 test"), [101, 100, 100, 1746, 1861, 3231, 102]);
    // Emoji are unknown; the word next to them is not.
    assert_eq!(tok.encode("emoji 😀👍🏽 test 🚀"), [101, 7861, 29147, 2072, 100, 3231, 100, 102]);
    // Words over 100 characters are [UNK] whole.
    let long = format!("{} end", "a".repeat(120));
    assert_eq!(tok.encode(&long), [101, 100, 2203, 102]);
    assert_eq!(
        tok.encode("¿Qué? ¡Sí! «guillemets»"),
        [101, 1094, 10861, 1029, 1067, 9033, 999, 1077, 26458, 6216, 11368, 2015, 1090, 102]
    );
    // Zero-width space and soft hyphen are format characters and vanish; control characters too.
    assert_eq!(tok.encode("control\u{7}char\u{1b}here"), [101, 2491, 7507, 25032, 7869, 102]);
    assert_eq!(
        tok.encode("zero\u{200b}width soft\u{ad}hyphen"),
        [101, 5717, 9148, 11927, 2232, 3730, 10536, 8458, 2368, 102]
    );
}

#[test]
fn long_input_is_truncated_to_256_tokens() {
    let tok = tokenizer();
    let ids = tok.encode(&"word ".repeat(300));
    assert_eq!(ids.len(), 256);
    assert_eq!((ids[0], ids[255]), (101, 102));
    assert!(ids[1..255].iter().all(|&id| id == 2773), "every piece is 'word'");
}
