//! VADER (Valence Aware Dictionary and sEntiment Reasoner, Hutto & Gilbert 2014): a port of the
//! reference Python `vaderSentiment` 3.3.2, rule for rule, so its scores equal the reference's
//! (the conformance test compares them on generated sentences). The lexicons are the
//! reference's own files (MIT, `data/LICENSE-vader.txt`), the word lexicon trimmed to its word
//! and mean-valence columns.
//!
//! The rules, in the reference's order: emoji replaced by their descriptions; tokens split on
//! whitespace with surrounding punctuation stripped (unless that leaves two characters or
//! fewer, an emoticon); each lexicon word's valence adjusted by "no", ALL-CAPS emphasis amid
//! non-caps words, up to three preceding boosters/dampeners (scaled by distance), negations,
//! "never so/this", "without doubt", idioms and "least"; then "but" (halves what precedes,
//! raises what follows by half), "!" and "?" emphasis, and the normalisation
//! `x / sqrt(x² + 15)`. Reference quirks are kept where they change scores.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

const B_INCR: f64 = 0.293;
const B_DECR: f64 = -0.293;
const C_INCR: f64 = 0.733;
const N_SCALAR: f64 = -0.74;

const NEGATE: &[&str] = &[
    "aint",
    "arent",
    "cannot",
    "cant",
    "couldnt",
    "darent",
    "didnt",
    "doesnt",
    "ain't",
    "aren't",
    "can't",
    "couldn't",
    "daren't",
    "didn't",
    "doesn't",
    "dont",
    "hadnt",
    "hasnt",
    "havent",
    "isnt",
    "mightnt",
    "mustnt",
    "neither",
    "don't",
    "hadn't",
    "hasn't",
    "haven't",
    "isn't",
    "mightn't",
    "mustn't",
    "neednt",
    "needn't",
    "never",
    "none",
    "nope",
    "nor",
    "not",
    "nothing",
    "nowhere",
    "oughtnt",
    "shant",
    "shouldnt",
    "uhuh",
    "wasnt",
    "werent",
    "oughtn't",
    "shan't",
    "shouldn't",
    "uh-uh",
    "wasn't",
    "weren't",
    "without",
    "wont",
    "wouldnt",
    "won't",
    "wouldn't",
    "rarely",
    "seldom",
    "despite",
];

/// Single-word boosters (+) and dampeners (-).
const BOOSTERS: &[(&str, f64)] = &[
    ("absolutely", B_INCR),
    ("amazingly", B_INCR),
    ("awfully", B_INCR),
    ("completely", B_INCR),
    ("considerable", B_INCR),
    ("considerably", B_INCR),
    ("decidedly", B_INCR),
    ("deeply", B_INCR),
    ("effing", B_INCR),
    ("enormous", B_INCR),
    ("enormously", B_INCR),
    ("entirely", B_INCR),
    ("especially", B_INCR),
    ("exceptional", B_INCR),
    ("exceptionally", B_INCR),
    ("extreme", B_INCR),
    ("extremely", B_INCR),
    ("fabulously", B_INCR),
    ("flipping", B_INCR),
    ("flippin", B_INCR),
    ("frackin", B_INCR),
    ("fracking", B_INCR),
    ("fricking", B_INCR),
    ("frickin", B_INCR),
    ("frigging", B_INCR),
    ("friggin", B_INCR),
    ("fully", B_INCR),
    ("fuckin", B_INCR),
    ("fucking", B_INCR),
    ("fuggin", B_INCR),
    ("fugging", B_INCR),
    ("greatly", B_INCR),
    ("hella", B_INCR),
    ("highly", B_INCR),
    ("hugely", B_INCR),
    ("incredible", B_INCR),
    ("incredibly", B_INCR),
    ("intensely", B_INCR),
    ("major", B_INCR),
    ("majorly", B_INCR),
    ("more", B_INCR),
    ("most", B_INCR),
    ("particularly", B_INCR),
    ("purely", B_INCR),
    ("quite", B_INCR),
    ("really", B_INCR),
    ("remarkably", B_INCR),
    ("so", B_INCR),
    ("substantially", B_INCR),
    ("thoroughly", B_INCR),
    ("total", B_INCR),
    ("totally", B_INCR),
    ("tremendous", B_INCR),
    ("tremendously", B_INCR),
    ("uber", B_INCR),
    ("unbelievably", B_INCR),
    ("unusually", B_INCR),
    ("utter", B_INCR),
    ("utterly", B_INCR),
    ("very", B_INCR),
    ("almost", B_DECR),
    ("barely", B_DECR),
    ("hardly", B_DECR),
    ("kinda", B_DECR),
    ("kindof", B_DECR),
    ("kind-of", B_DECR),
    ("less", B_DECR),
    ("little", B_DECR),
    ("marginal", B_DECR),
    ("marginally", B_DECR),
    ("occasional", B_DECR),
    ("occasionally", B_DECR),
    ("partly", B_DECR),
    ("scarce", B_DECR),
    ("scarcely", B_DECR),
    ("slight", B_DECR),
    ("slightly", B_DECR),
    ("somewhat", B_DECR),
    ("sorta", B_DECR),
    ("sortof", B_DECR),
    ("sort-of", B_DECR),
];

/// Two-word boosters ("just enough", "kind of", "sort of"): all dampeners.
fn booster2(a: &str, b: &str) -> Option<f64> {
    matches!((a, b), ("just", "enough") | ("kind", "of") | ("sort", "of")).then_some(B_DECR)
}

/// The reference's special cases of two or three words ("badass" alone can never match an
/// n-gram, so it is left out).
fn special(words: &[&str]) -> Option<f64> {
    Some(match words {
        ["the", "shit"] | ["the", "bomb"] | ["to", "die", "for"] => 3.0,
        ["bad", "ass"] => 1.5,
        ["bus", "stop"] => 0.0,
        ["yeah", "right"] => -2.0,
        ["kiss", "of", "death"] => -1.5,
        ["beating", "heart"] => 3.5,
        _ => return None,
    })
}

/// One text's scores: `pos`, `neu`, `neg` (shares of the text, rounded to 3 decimals as the
/// reference does) and `compound` (the normalised sum, -1 to 1, rounded to 4).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Scores {
    /// Share of negative valence.
    pub neg: f64,
    /// Share of neutral tokens.
    pub neu: f64,
    /// Share of positive valence.
    pub pos: f64,
    /// Normalised overall valence, -1 (most negative) to 1 (most positive).
    pub compound: f64,
}

impl Scores {
    /// VADER's usual reading of `compound`: positive at 0.05 or more, negative at -0.05 or
    /// less, else neutral.
    pub fn label(&self) -> &'static str {
        if self.compound >= 0.05 {
            "positive"
        } else if self.compound <= -0.05 {
            "negative"
        } else {
            "neutral"
        }
    }
}

/// A fast non-cryptographic hasher (FxHash's mixing) for the lexicon tables: their keys are
/// fixed words, not attacker-chosen sets that could degrade a table.
#[derive(Default)]
struct Fx(u64);

impl Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().unwrap_or([0; 8])));
        }
        for &b in chunks.remainder() {
            self.add(u64::from(b));
        }
    }
    fn write_u8(&mut self, b: u8) {
        self.add(u64::from(b));
    }
    fn write_u32(&mut self, v: u32) {
        self.add(u64::from(v));
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

impl Fx {
    fn add(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<Fx>>;

/// The analyser: the lexicons, loaded once.
pub struct Vader {
    lexicon: FxMap<String, f64>,
    emojis: FxMap<char, String>,
    boosters: FxMap<&'static str, f64>,
    /// Whether any one-character emoji key is ASCII (none is: ASCII text skips the lookup).
    ascii_emoji: bool,
}

/// Python's `str.isspace` (Rust's `White_Space` plus the four information separators).
fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Python's `str.isupper`: at least one cased character and no lower-case one.
fn py_isupper(s: &str) -> bool {
    let mut cased = false;
    for c in s.chars() {
        if c.is_lowercase() {
            return false;
        }
        cased |= c.is_uppercase();
    }
    cased
}

fn negated(lower: &str) -> bool {
    static SET: OnceLock<FxMap<&'static str, ()>> = OnceLock::new();
    SET.get_or_init(|| NEGATE.iter().map(|w| (*w, ())).collect()).contains_key(lower) || lower.contains("n't")
}

fn py_round(x: f64, digits: usize) -> f64 {
    let scale = 10f64.powi(digits as i32);
    let y = x * scale;
    // Away from a tie the scaled product picks the same integer as exact decimal rounding, and
    // the quotient is the double nearest that decimal, as Python's `round` returns. Near a tie,
    // formatting rounds the exact binary value, as Python does.
    if ((y - y.trunc()).abs() - 0.5).abs() > 1e-6 {
        return y.round() / scale;
    }
    format!("{x:.digits$}").parse().unwrap_or(x)
}

/// `x / sqrt(x² + 15)`, clamped to [-1, 1].
fn normalize(score: f64) -> f64 {
    (score / (score * score + 15.0).sqrt()).clamp(-1.0, 1.0)
}

impl Vader {
    /// The shared analyser (the lexicons are parsed on first use, a few milliseconds).
    pub fn get() -> &'static Vader {
        static V: OnceLock<Vader> = OnceLock::new();
        V.get_or_init(Vader::new)
    }

    fn new() -> Vader {
        let mut lexicon = FxMap::default();
        for line in include_str!("../data/vader_lexicon.tsv").lines() {
            let mut f = line.trim().split('\t');
            if let (Some(w), Some(m)) = (f.next(), f.next()) {
                if let Ok(m) = m.parse() {
                    lexicon.insert(w.to_string(), m);
                }
            }
        }
        let mut emojis = FxMap::default();
        for line in include_str!("../data/emoji_utf8_lexicon.tsv").lines() {
            let mut f = line.trim().split('\t');
            if let (Some(e), Some(d)) = (f.next(), f.next()) {
                // The reference replaces character by character: only one-character keys match.
                let mut cs = e.chars();
                if let (Some(c), None) = (cs.next(), cs.next()) {
                    emojis.insert(c, d.to_string());
                }
            }
        }
        let ascii_emoji = emojis.keys().any(char::is_ascii);
        Vader { lexicon, emojis, boosters: BOOSTERS.iter().copied().collect(), ascii_emoji }
    }

    /// The scores of one text.
    pub fn polarity_scores(&self, text: &str) -> Scores {
        let replaced: Cow<str> = if text.is_ascii() && !self.ascii_emoji {
            Cow::Borrowed(text)
        } else {
            let mut out = String::with_capacity(text.len() + 16);
            let mut prev_space = true;
            for ch in text.chars() {
                if let Some(desc) = self.emojis.get(&ch) {
                    if !prev_space {
                        out.push(' ');
                    }
                    out.push_str(desc);
                    prev_space = false;
                } else {
                    out.push(ch);
                    prev_space = ch == ' ';
                }
            }
            Cow::Owned(out)
        };
        let text = replaced.trim_matches(py_space);
        let words: Vec<&str> =
            text.split(py_space).filter(|w| !w.is_empty()).map(strip_punc_if_word).collect();
        let lowered: Vec<Cow<str>> = words
            .iter()
            .map(|w| {
                if w.bytes().any(|b| !b.is_ascii() || b.is_ascii_uppercase()) {
                    Cow::Owned(w.to_lowercase())
                } else {
                    Cow::Borrowed(*w)
                }
            })
            .collect();
        let lower: Vec<&str> = lowered.iter().map(|w| w.as_ref()).collect();
        let lex: Vec<Option<f64>> = lower.iter().map(|w| self.lexicon.get(*w).copied()).collect();
        let upper: Vec<bool> = words.iter().map(|w| py_isupper(w)).collect();
        let n = words.len();
        let caps = upper.iter().filter(|u| **u).count();
        let cap_diff = n - caps > 0 && n - caps < n;
        let t = Tokens { lower: &lower, upper: &upper, lex: &lex, cap_diff };

        let mut sentiments = Vec::with_capacity(n);
        for i in 0..n {
            if self.boosters.contains_key(lower[i])
                || (i + 1 < n && lower[i] == "kind" && lower[i + 1] == "of")
            {
                sentiments.push(0.0);
                continue;
            }
            sentiments.push(self.valence(&t, i));
        }
        but_check(&lower, &mut sentiments);
        score(&sentiments, text)
    }

    fn valence(&self, t: &Tokens, i: usize) -> f64 {
        let l = t.lower;
        let n = l.len();
        let Some(v0) = t.lex[i] else { return 0.0 };
        let in_lex = |j: usize| t.lex[j].is_some();
        let mut valence = v0;
        if l[i] == "no" && i != n - 1 && in_lex(i + 1) {
            valence = 0.0;
        }
        if (i > 0 && l[i - 1] == "no")
            || (i > 1 && l[i - 2] == "no")
            || (i > 2 && l[i - 3] == "no" && (l[i - 1] == "or" || l[i - 1] == "nor"))
        {
            valence = v0 * N_SCALAR;
        }
        if t.upper[i] && t.cap_diff {
            valence += if valence > 0.0 { C_INCR } else { -C_INCR };
        }
        for start in 0..3 {
            if i > start && !in_lex(i - start - 1) {
                let mut s = self.scalar_inc_dec(t, i - start - 1, valence);
                if start == 1 && s != 0.0 {
                    s *= 0.95;
                }
                if start == 2 && s != 0.0 {
                    s *= 0.9;
                }
                valence += s;
                valence = negation_check(valence, l, start, i);
                if start == 2 {
                    valence = self.special_idioms(valence, l, i);
                }
            }
        }
        least_check(valence, t, i)
    }

    fn scalar_inc_dec(&self, t: &Tokens, j: usize, valence: f64) -> f64 {
        let Some(&b) = self.boosters.get(t.lower[j]) else { return 0.0 };
        let mut scalar = if valence < 0.0 { -b } else { b };
        if t.upper[j] && t.cap_diff {
            scalar += if valence > 0.0 { C_INCR } else { -C_INCR };
        }
        scalar
    }

    fn special_idioms(&self, mut valence: f64, l: &[&str], i: usize) -> f64 {
        let n = l.len();
        // onezero, twoonezero, twoone, threetwoone, threetwo: the first that matches.
        let seqs: [&[&str]; 5] = [&l[i - 1..=i], &l[i - 2..=i], &l[i - 2..i], &l[i - 3..i], &l[i - 3..i - 1]];
        if let Some(v) = seqs.iter().find_map(|s| special(s)) {
            valence = v;
        }
        if n - 1 > i {
            if let Some(v) = special(&l[i..i + 2]) {
                valence = v;
            }
        }
        if n - 1 > i + 1 {
            if let Some(v) = special(&l[i..i + 3]) {
                valence = v;
            }
        }
        // threetwoone (three words: never a booster), threetwo, twoone.
        for (a, b) in [(l[i - 3], l[i - 2]), (l[i - 2], l[i - 1])] {
            if let Some(v) = booster2(a, b) {
                valence += v;
            }
        }
        valence
    }
}

fn least_check(valence: f64, t: &Tokens, i: usize) -> f64 {
    let l = t.lower;
    if i > 1 && l[i - 1] == "least" && t.lex[i - 1].is_none() {
        if l[i - 2] != "at" && l[i - 2] != "very" {
            return valence * N_SCALAR;
        }
    } else if i > 0 && l[i - 1] == "least" && t.lex[i - 1].is_none() {
        return valence * N_SCALAR;
    }
    valence
}

struct Tokens<'a> {
    lower: &'a [&'a str],
    /// Each word's lexicon valence, looked up once.
    lex: &'a [Option<f64>],
    upper: &'a [bool],
    cap_diff: bool,
}

/// Strips leading and trailing ASCII punctuation unless that leaves two characters or fewer
/// (then the token was probably an emoticon such as `:)`).
fn strip_punc_if_word(token: &str) -> &str {
    let stripped = token.trim_matches(|c: char| c.is_ascii_punctuation());
    if stripped.chars().nth(2).is_none() {
        token
    } else {
        stripped
    }
}

fn negation_check(valence: f64, l: &[&str], start: usize, i: usize) -> f64 {
    match start {
        0 if negated(l[i - 1]) => valence * N_SCALAR,
        1 => {
            if l[i - 2] == "never" && (l[i - 1] == "so" || l[i - 1] == "this") {
                valence * 1.25
            } else if l[i - 2] == "without" && l[i - 1] == "doubt" {
                valence
            } else if negated(l[i - 2]) {
                valence * N_SCALAR
            } else {
                valence
            }
        }
        2 => {
            if (l[i - 3] == "never" && (l[i - 2] == "so" || l[i - 2] == "this"))
                || (l[i - 1] == "so" || l[i - 1] == "this")
            {
                valence * 1.25
            } else if l[i - 3] == "without" && (l[i - 2] == "doubt" || l[i - 1] == "doubt") {
                valence
            } else if negated(l[i - 3]) {
                valence * N_SCALAR
            } else {
                valence
            }
        }
        _ => valence,
    }
}

/// The reference's "but" rule, quirk included: for each score in turn it rescales the *first*
/// score equal to it (halved before the first "but", raised by half after it). Done with an
/// index per value so a long text stays O(n log n).
fn but_check(lower: &[&str], sentiments: &mut [f64]) {
    let Some(bi) = lower.iter().position(|w| *w == "but") else { return };
    if sentiments.len() <= 64 {
        // Short texts: the reference's own linear search for the first equal score.
        for k in 0..sentiments.len() {
            let s = sentiments[k];
            let first = sentiments.iter().position(|&x| x == s).unwrap_or(k);
            match first.cmp(&bi) {
                std::cmp::Ordering::Less => sentiments[first] = s * 0.5,
                std::cmp::Ordering::Greater => sentiments[first] = s * 1.5,
                std::cmp::Ordering::Equal => {}
            }
        }
        return;
    }
    let key = |x: f64| if x == 0.0 { 0u64 } else { x.to_bits() };
    let mut at: HashMap<u64, BTreeSet<usize>> = HashMap::new();
    for (j, s) in sentiments.iter().enumerate() {
        at.entry(key(*s)).or_default().insert(j);
    }
    for k in 0..sentiments.len() {
        let s = sentiments[k];
        let first = at.get(&key(s)).and_then(|set| set.first().copied()).unwrap_or(k);
        let new = match first.cmp(&bi) {
            std::cmp::Ordering::Less => s * 0.5,
            std::cmp::Ordering::Greater => s * 1.5,
            std::cmp::Ordering::Equal => continue,
        };
        if let Some(set) = at.get_mut(&key(s)) {
            set.remove(&first);
        }
        sentiments[first] = new;
        at.entry(key(new)).or_default().insert(first);
    }
}

fn score(sentiments: &[f64], text: &str) -> Scores {
    if sentiments.is_empty() {
        return Scores { neg: 0.0, neu: 0.0, pos: 0.0, compound: 0.0 };
    }
    let mut sum: f64 = sentiments.iter().sum();
    let ep = text.matches('!').count().min(4) as f64 * 0.292;
    let qm_count = text.matches('?').count();
    let qm = match qm_count {
        0 | 1 => 0.0,
        2 | 3 => qm_count as f64 * 0.18,
        _ => 0.96,
    };
    let punct = ep + qm;
    if sum > 0.0 {
        sum += punct;
    } else if sum < 0.0 {
        sum -= punct;
    }
    let compound = normalize(sum);
    let (mut pos_sum, mut neg_sum, mut neu) = (0.0f64, 0.0f64, 0usize);
    for &s in sentiments {
        if s > 0.0 {
            pos_sum += s + 1.0;
        }
        if s < 0.0 {
            neg_sum += s - 1.0;
        }
        if s == 0.0 {
            neu += 1;
        }
    }
    if pos_sum > neg_sum.abs() {
        pos_sum += punct;
    } else if pos_sum < neg_sum.abs() {
        neg_sum -= punct;
    }
    let total = pos_sum + neg_sum.abs() + neu as f64;
    Scores {
        neg: py_round((neg_sum / total).abs(), 3),
        neu: py_round((neu as f64 / total).abs(), 3),
        pos: py_round((pos_sum / total).abs(), 3),
        compound: py_round(compound, 4),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference's own demo sentences and the scores it prints for them.
    #[test]
    fn the_reference_demo_sentences_score_as_the_reference_prints() {
        let v = Vader::get();
        let cases = [
            ("VADER is smart, handsome, and funny.", 0.8316),
            ("VADER is VERY SMART, handsome, and FUNNY!!!", 0.9342),
            ("VADER is not smart, handsome, nor funny.", -0.7424),
            ("At least it isn't a horrible book.", 0.431),
            ("Today only kinda sux! But I'll get by, lol", 0.5249),
            ("Not bad at all", 0.431),
            ("", 0.0),
        ];
        for (text, compound) in cases {
            assert_eq!(v.polarity_scores(text).compound, compound, "{text}");
        }
    }

    #[test]
    fn python_round_rounds_the_binary_value() {
        assert_eq!(py_round(0.0625, 3), 0.062);
        assert_eq!(py_round(0.12345, 4), 0.1235);
        assert_eq!(py_round(2.675, 2), 2.67);
    }
}
