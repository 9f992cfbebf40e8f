//! Text basics the tools share: sentences (Unicode UAX #29 boundaries, rejoined after common
//! abbreviations such as "Dr." and "e.g."), words (UAX #29 words with a letter or digit),
//! English syllable estimates, stopwords, TextRank, and the readability formulas.

use unicode_segmentation::UnicodeSegmentation;

/// One sentence: its text and its byte span in the original text.
#[derive(Debug, Clone, PartialEq)]
pub struct Sentence<'a> {
    /// The sentence, trimmed.
    pub text: &'a str,
    /// Byte offset of its first character.
    pub start: usize,
    /// Byte offset just past its last character.
    pub end: usize,
}

/// Abbreviations after which a full stop does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e", "inc", "ltd", "co", "corp",
    "no", "fig", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s",
    "u.k", "a.m", "p.m", "approx", "dept", "gen", "gov", "sen", "rep", "mt",
];

fn ends_with_abbreviation(s: &str) -> bool {
    let t = s.trim_end();
    let Some(body) = t.strip_suffix('.') else { return false };
    let last = body.rsplit(|c: char| c.is_whitespace() || c == '(').next().unwrap_or("");
    let last = last.to_lowercase();
    ABBREVIATIONS.contains(&last.as_str())
        || (last.chars().count() == 1 && last.chars().all(char::is_alphabetic))
}

/// The sentences of `text`, in order, with their byte spans.
pub fn sentences(text: &str) -> Vec<Sentence<'_>> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut pending: Option<(usize, usize)> = None;
    for (at, s) in text.split_sentence_bound_indices() {
        let span = (at, at + s.len());
        let (start, _) = *pending.get_or_insert(span);
        pending = Some((start, span.1));
        // A paragraph break always ends a sentence; an abbreviation never does.
        if !ends_with_abbreviation(s) || s.contains("\n\n") {
            out.extend(pending.take());
        }
    }
    out.extend(pending);
    out.into_iter()
        .filter_map(|(s, e)| {
            let raw = &text[s..e];
            let lead = raw.len() - raw.trim_start().len();
            let t = raw.trim();
            (!t.is_empty() && t.chars().any(char::is_alphanumeric)).then(|| Sentence {
                text: t,
                start: s + lead,
                end: s + lead + t.len(),
            })
        })
        .collect()
}

/// The words of `text`: UAX #29 words that hold a letter or a digit ("isn't" is one word), with
/// hyphenated compounds ("energy-rich") kept as one word, as readability formulas count them.
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for (at, w) in text.split_word_bound_indices() {
        if !w.chars().any(char::is_alphanumeric) {
            continue;
        }
        match spans.last_mut() {
            Some(last) if matches!(&text[last.1..at], "-" | "\u{2010}") => last.1 = at + w.len(),
            _ => spans.push((at, at + w.len())),
        }
    }
    spans.into_iter().map(move |(a, b)| &text[a..b])
}

/// Estimated syllables of an English word: groups of vowels (y included), less a silent final
/// "e" and a silent "-ed"/"-es", at least one.
pub fn syllables(word: &str) -> usize {
    let w: Vec<char> = word.to_lowercase().chars().filter(|c| c.is_alphabetic()).collect();
    if w.is_empty() {
        return 0;
    }
    let vowel = |c: char| matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y' | 'à'..='æ' | 'è'..='ï' | 'ò'..='ö' | 'ù'..='ü');
    let mut groups = 0;
    let mut prev = false;
    for &c in &w {
        let v = vowel(c);
        if v && !prev {
            groups += 1;
        }
        prev = v;
    }
    let n = w.len();
    if groups > 1 && n > 2 {
        let (a, b) = (w[n - 2], w[n - 1]);
        let before = if n >= 3 { w[n - 3] } else { ' ' };
        if b == 'e' && a != 'l' && !vowel(a) {
            groups -= 1; // "make", "time" (but "table" keeps its "-le")
        } else if b == 'e' && a == 'l' && n >= 3 && vowel(before) {
            groups -= 1; // "whale"
        } else if ((a == 'e' && b == 'd' && !matches!(before, 't' | 'd'))
            || (a == 'e' && b == 's' && !matches!(before, 's' | 'x' | 'z' | 'c' | 'g' | 'h')))
            && !vowel(before)
        {
            groups -= 1; // "jumped", "makes"
        }
    }
    groups.max(1)
}

/// Flesch reading ease: 206.835 − 1.015 × words/sentences − 84.6 × syllables/words.
pub fn flesch_reading_ease(words: usize, sentences: usize, syllables: usize) -> f64 {
    if words == 0 || sentences == 0 {
        return 0.0;
    }
    206.835 - 1.015 * (words as f64 / sentences as f64) - 84.6 * (syllables as f64 / words as f64)
}

/// Flesch–Kincaid grade: 0.39 × words/sentences + 11.8 × syllables/words − 15.59.
pub fn flesch_kincaid_grade(words: usize, sentences: usize, syllables: usize) -> f64 {
    if words == 0 || sentences == 0 {
        return 0.0;
    }
    0.39 * (words as f64 / sentences as f64) + 11.8 * (syllables as f64 / words as f64) - 15.59
}

/// Common English function words, skipped by keywords and summaries.
pub const STOPWORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "against",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "aren't",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "can't",
    "cannot",
    "could",
    "couldn't",
    "did",
    "didn't",
    "do",
    "does",
    "doesn't",
    "doing",
    "don't",
    "down",
    "during",
    "each",
    "either",
    "even",
    "ever",
    "every",
    "few",
    "for",
    "from",
    "further",
    "get",
    "gets",
    "got",
    "had",
    "hadn't",
    "has",
    "hasn't",
    "have",
    "haven't",
    "having",
    "he",
    "he'd",
    "he'll",
    "he's",
    "her",
    "here",
    "here's",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "how's",
    "however",
    "i",
    "i'd",
    "i'll",
    "i'm",
    "i've",
    "if",
    "in",
    "into",
    "is",
    "isn't",
    "it",
    "it's",
    "its",
    "itself",
    "just",
    "let's",
    "like",
    "made",
    "make",
    "many",
    "may",
    "me",
    "might",
    "more",
    "most",
    "much",
    "must",
    "mustn't",
    "my",
    "myself",
    "new",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "often",
    "on",
    "once",
    "one",
    "only",
    "or",
    "other",
    "ought",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "per",
    "rather",
    "really",
    "said",
    "same",
    "say",
    "says",
    "shan't",
    "she",
    "she'd",
    "she'll",
    "she's",
    "should",
    "shouldn't",
    "since",
    "so",
    "some",
    "still",
    "such",
    "than",
    "that",
    "that's",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "there's",
    "these",
    "they",
    "they'd",
    "they'll",
    "they're",
    "they've",
    "this",
    "those",
    "though",
    "through",
    "thus",
    "to",
    "too",
    "two",
    "under",
    "until",
    "up",
    "upon",
    "us",
    "use",
    "used",
    "using",
    "very",
    "via",
    "was",
    "wasn't",
    "we",
    "we'd",
    "we'll",
    "we're",
    "we've",
    "well",
    "were",
    "weren't",
    "what",
    "what's",
    "when",
    "when's",
    "where",
    "where's",
    "whether",
    "which",
    "while",
    "who",
    "who's",
    "whom",
    "whose",
    "why",
    "why's",
    "will",
    "with",
    "within",
    "without",
    "won't",
    "would",
    "wouldn't",
    "yet",
    "you",
    "you'd",
    "you'll",
    "you're",
    "you've",
    "your",
    "yours",
    "yourself",
    "yourselves",
];

/// True for a stopword (lower-case input).
pub fn is_stopword(w: &str) -> bool {
    STOPWORDS.binary_search(&w).is_ok()
}

/// A content word's key: lower case, a plural "s" dropped ("models" and "model" are one).
pub fn key(w: &str) -> String {
    let l = w.to_lowercase().replace('\u{2019}', "'");
    match l.strip_suffix('s') {
        Some(stem) if stem.len() >= 3 && !stem.ends_with('s') && !l.ends_with("ss") && !l.ends_with("us") => {
            stem.to_string()
        }
        _ => l,
    }
}

/// PageRank with damping 0.85 over a weighted undirected graph given as adjacency lists
/// (`(neighbour, weight)`), iterated to convergence (at most 100 rounds).
pub fn pagerank(adj: &[Vec<(usize, f64)>]) -> Vec<f64> {
    let n = adj.len();
    if n == 0 {
        return Vec::new();
    }
    let out_weight: Vec<f64> = adj.iter().map(|a| a.iter().map(|(_, w)| w).sum()).collect();
    let mut score = vec![1.0 / n as f64; n];
    for _ in 0..100 {
        let mut next = vec![(1.0 - 0.85) / n as f64; n];
        // Nodes with no edges spread their score evenly (keeps the total at 1).
        let dangling: f64 = (0..n).filter(|&i| out_weight[i] == 0.0).map(|i| score[i]).sum();
        for v in next.iter_mut() {
            *v += 0.85 * dangling / n as f64;
        }
        for (i, edges) in adj.iter().enumerate() {
            if out_weight[i] == 0.0 {
                continue;
            }
            for &(j, w) in edges {
                next[j] += 0.85 * score[i] * w / out_weight[i];
            }
        }
        let delta: f64 = next.iter().zip(&score).map(|(a, b)| (a - b).abs()).sum();
        score = next;
        if delta < 1e-9 {
            break;
        }
    }
    score
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stopwords_are_sorted_for_binary_search() {
        assert!(STOPWORDS.windows(2).all(|w| w[0] < w[1]), "STOPWORDS must stay sorted");
    }

    #[test]
    fn sentences_keep_abbreviations_and_report_spans() {
        let t = "Dr. Smith met Mr. Jones at 3 p.m. on Friday. They talked! Did it help? Yes.";
        let s = sentences(t);
        let texts: Vec<&str> = s.iter().map(|s| s.text).collect();
        assert_eq!(
            texts,
            ["Dr. Smith met Mr. Jones at 3 p.m. on Friday.", "They talked!", "Did it help?", "Yes."]
        );
        for x in &s {
            assert_eq!(&t[x.start..x.end], x.text);
        }
    }

    #[test]
    fn syllables_of_common_words() {
        for (w, n) in [
            ("cat", 1),
            ("make", 1),
            ("table", 2),
            ("jumped", 1),
            ("wanted", 2),
            ("beautiful", 3),
            ("readability", 5),
            ("the", 1),
            ("boxes", 2),
            ("simple", 2),
            ("whale", 1),
            ("reading", 2),
        ] {
            assert_eq!(syllables(w), n, "{w}");
        }
    }
}
