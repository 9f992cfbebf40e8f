//! BERT uncased WordPiece tokenizer, compatible with Hugging Face's `BertTokenizer` for
//! all-MiniLM-L6-v2 (`do_lower_case`, accents stripped, Chinese characters split).
//!
//! Basic tokenization: drop NUL, U+FFFD and control characters, map whitespace to word breaks,
//! put every CJK ideograph in a word of its own, lower-case, strip accents (NFD, then drop
//! nonspacing marks), and split punctuation into single-character words. Each word is then cut
//! greedily into the longest vocabulary pieces, continuations carrying the `##` prefix; a word
//! that cannot be covered, or has more than 100 characters, becomes `[UNK]`.

use crate::error::{io_err, RouterError};
use crate::unicode_tables::{ACCENTED, CONTROL, NONSPACING_MARKS, PUNCTUATION};
use std::collections::HashMap;
use std::path::Path;

/// Longest word, in characters, that is split into pieces; longer words become `[UNK]`.
const MAX_WORD_CHARS: usize = 100;

/// Default maximum sequence length, `[CLS]` and `[SEP]` included (all-MiniLM-L6-v2's
/// `max_seq_length`).
pub const DEFAULT_MAX_LEN: usize = 256;

/// A WordPiece tokenizer loaded from a BERT `vocab.txt`.
#[derive(Debug, Clone)]
pub struct Tokenizer {
    /// Word-initial pieces.
    words: HashMap<String, u32>,
    /// Continuation pieces, stored without their `##` prefix.
    continuations: HashMap<String, u32>,
    unk: u32,
    cls: u32,
    sep: u32,
    max_len: usize,
}

impl Tokenizer {
    /// Loads a vocabulary file: one token per line, the line number being its id.
    pub fn from_file(path: &Path) -> Result<Tokenizer, RouterError> {
        let text = std::fs::read_to_string(path).map_err(io_err(path))?;
        Tokenizer::from_vocab(&text).map_err(|reason| RouterError::Vocab { path: path.to_path_buf(), reason })
    }

    /// Builds a tokenizer from the text of a `vocab.txt`; the error says which special token is
    /// missing.
    pub fn from_vocab(text: &str) -> Result<Tokenizer, String> {
        let mut words = HashMap::new();
        let mut continuations = HashMap::new();
        for (id, token) in text.lines().enumerate() {
            let id = u32::try_from(id).map_err(|_| "vocabulary too large".to_string())?;
            let token = token.trim_end_matches('\r');
            match token.strip_prefix("##") {
                Some(rest) if !rest.is_empty() => continuations.entry(rest.to_string()).or_insert(id),
                _ => words.entry(token.to_string()).or_insert(id),
            };
        }
        let special = |name: &str| words.get(name).copied().ok_or_else(|| format!("no {name} token"));
        Ok(Tokenizer {
            unk: special("[UNK]")?,
            cls: special("[CLS]")?,
            sep: special("[SEP]")?,
            words,
            continuations,
            max_len: DEFAULT_MAX_LEN,
        })
    }

    /// The same tokenizer with another maximum sequence length (at least 2: `[CLS]` and `[SEP]`).
    pub fn with_max_len(mut self, max_len: usize) -> Tokenizer {
        self.max_len = max_len.max(2);
        self
    }

    /// Maximum sequence length, special tokens included.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Number of ids in the vocabulary.
    pub fn vocab_size(&self) -> usize {
        self.words.len() + self.continuations.len()
    }

    /// The id of a vocabulary token (continuations spelled with their `##` prefix).
    pub fn token_id(&self, token: &str) -> Option<u32> {
        match token.strip_prefix("##") {
            Some(rest) if !rest.is_empty() => self.continuations.get(rest).copied(),
            _ => self.words.get(token).copied(),
        }
    }

    /// Token ids of `text`: `[CLS]`, the word pieces (truncated to fit), `[SEP]`.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let budget = self.max_len - 2;
        let mut ids = vec![self.cls];
        for word in basic_tokenize(text) {
            if ids.len() > budget {
                break;
            }
            self.word_pieces(&word, &mut ids);
        }
        ids.truncate(budget + 1);
        ids.push(self.sep);
        ids
    }

    /// Appends the WordPiece ids of one basic-tokenized word.
    fn word_pieces(&self, word: &str, out: &mut Vec<u32>) {
        let bounds: Vec<usize> = word.char_indices().map(|(i, _)| i).chain([word.len()]).collect();
        let n_chars = bounds.len() - 1;
        if n_chars > MAX_WORD_CHARS {
            out.push(self.unk);
            return;
        }
        let first_piece = out.len();
        let mut start = 0;
        while start < n_chars {
            let map = if start == 0 { &self.words } else { &self.continuations };
            let found = (start + 1..=n_chars)
                .rev()
                .find_map(|end| map.get(&word[bounds[start]..bounds[end]]).map(|&id| (id, end)));
            match found {
                Some((id, end)) => {
                    out.push(id);
                    start = end;
                }
                None => {
                    out.truncate(first_piece);
                    out.push(self.unk);
                    return;
                }
            }
        }
    }
}

/// Splits text into BERT basic-tokenizer words: cleaned, lower-cased, accent-free, with CJK
/// ideographs and punctuation as single-character words.
pub fn basic_tokenize(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let flush = |current: &mut String, words: &mut Vec<String>| {
        if !current.is_empty() {
            words.push(std::mem::take(current));
        }
    };
    for ch in text.chars() {
        let cp = ch as u32;
        if cp == 0 || cp == 0xFFFD || in_ranges(CONTROL, cp) {
            continue;
        }
        if is_whitespace(ch) {
            flush(&mut current, &mut words);
            continue;
        }
        if is_cjk(cp) {
            flush(&mut current, &mut words);
            words.push(ch.to_string());
            continue;
        }
        for lower in ch.to_lowercase() {
            for c in strip_accent(lower).into_iter().flatten() {
                if is_punctuation(c) {
                    flush(&mut current, &mut words);
                    words.push(c.to_string());
                } else {
                    current.push(c);
                }
            }
        }
    }
    flush(&mut current, &mut words);
    words
}

/// A character after NFD decomposition with its nonspacing marks dropped: up to three characters
/// (Hangul syllables decompose into jamo), none for a combining mark.
fn strip_accent(c: char) -> [Option<char>; 3] {
    let cp = c as u32;
    if in_ranges(NONSPACING_MARKS, cp) {
        return [None; 3];
    }
    if let Ok(i) = ACCENTED.binary_search_by_key(&cp, |&(from, _)| from) {
        return [char::from_u32(ACCENTED[i].1), None, None];
    }
    if (0xAC00..=0xD7A3).contains(&cp) {
        // Hangul syllable: algorithmic canonical decomposition into leading, vowel, trailing jamo.
        let s = cp - 0xAC00;
        let t = s % 28;
        let trailing = if t > 0 { char::from_u32(0x11A7 + t) } else { None };
        return [char::from_u32(0x1100 + s / 588), char::from_u32(0x1161 + (s % 588) / 28), trailing];
    }
    [Some(c), None, None]
}

fn in_ranges(table: &[(u32, u32)], cp: u32) -> bool {
    let i = table.partition_point(|&(_, hi)| hi < cp);
    i < table.len() && table[i].0 <= cp
}

/// Space, tab, LF, CR and the space separators (`Zs`).
fn is_whitespace(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\n' | '\r' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

/// ASCII symbols count as punctuation too, as in BERT.
fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation() || in_ranges(PUNCTUATION, c as u32)
}

/// The CJK Unified Ideographs blocks that BERT splits into single characters.
fn is_cjk(cp: u32) -> bool {
    matches!(cp,
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x20000..=0x2A6DF | 0x2A700..=0x2B73F
        | 0x2B740..=0x2B81F | 0x2B820..=0x2CEAF | 0xF900..=0xFAFF | 0x2F800..=0x2FA1F)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_tokenization() {
        assert_eq!(basic_tokenize("Hello, WORLD!"), ["hello", ",", "world", "!"]);
        assert_eq!(basic_tokenize("Café naïve\tRÉSUMÉ"), ["cafe", "naive", "resume"]);
        assert_eq!(basic_tokenize("a\u{0}b\u{200B}c  d"), ["abc", "d"]);
        assert_eq!(basic_tokenize("中文ok"), ["中", "文", "ok"]);
        assert_eq!(basic_tokenize("e\u{301}t\u{e9}"), ["ete"]);
        assert_eq!(basic_tokenize("$5+3=8"), ["$", "5", "+", "3", "=", "8"]);
    }

    #[test]
    fn wordpiece_greedy_longest_match() {
        let vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\nun\n##aff\n##able\nhello\n,\n##a";
        let tok = Tokenizer::from_vocab(vocab).unwrap();
        assert_eq!(tok.encode("unaffable, hello"), [2, 4, 5, 6, 8, 7, 3]);
        assert_eq!(tok.encode("unknownword hello"), [2, 1, 7, 3]);
        let long = "a".repeat(101);
        assert_eq!(tok.encode(&long), [2, 1, 3]);
        let tok = tok.with_max_len(4);
        assert_eq!(tok.encode("hello hello hello"), [2, 7, 7, 3]);
    }
}
