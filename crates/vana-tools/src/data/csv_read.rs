//! CSV text to a [`Table`], with pandas' type rules, fast.
//!
//! The header is read by the `csv` crate. The records after it are split by a tokenizer over the
//! raw bytes that follows `csv_core`'s default dialect exactly (quotes only open a field, `""` is
//! a quote inside quotes, text after a closing quote is kept, `\r`, `\n` and `\r\n` end a record,
//! blank lines are skipped, an unclosed quote runs to the end). Fields go straight into typed
//! column builders: numbers parse from bytes, text is dictionary-encoded without a `String` per
//! cell.
//!
//! Input (in memory, or read from a file into a reused buffer) is taken in blocks, each cut just
//! after the last `\n` or `\r` that follows an even number of quotes. A block's parse is exact from
//! its start, so it confirms its cut: its records must all end with a terminator (a cut inside a
//! quoted field makes the last one run into the end of the block). On several threads, each block
//! is parsed into columns of its own and the blocks are joined in order with the same state rules
//! a single pass follows.
//!
//! Anything the fast path does not produce itself (a record with the wrong number of fields,
//! invalid UTF-8) makes it give up; the input is then read by the plain `csv` crate loop, which
//! produces the same table or the same error message as before.

use super::hash::FxHasher;
use super::table::{
    dedupe_names, sniff_delimiter, Column, ColumnData, ReadError, Table, TextColumn, MISSING_CODE,
};
use std::fs::File;
use std::hash::Hasher;
use std::io::{Read, Seek, SeekFrom};

/// Inputs smaller than this are parsed on one thread.
const PARALLEL_MIN_BYTES: usize = 1 << 20;

/// How many threads to parse `len` bytes on: one per core, at most 8, each with 512 KiB or more.
pub(crate) fn default_chunks(len: usize) -> usize {
    if len < PARALLEL_MIN_BYTES {
        return 1;
    }
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    cores.min(8).min(len / (PARALLEL_MIN_BYTES / 2)).max(1)
}

/// The fast path cannot reproduce the result (or the error) itself: use the `csv` crate loop.
#[derive(Debug)]
struct GiveUp;

#[inline]
fn is_na(b: &[u8]) -> bool {
    match b.first() {
        None => true,
        Some(b'#') => matches!(b, b"#N/A" | b"#N/A N/A" | b"#NA"),
        Some(b'-') => matches!(b, b"-1.#IND" | b"-1.#QNAN" | b"-NaN" | b"-nan"),
        Some(b'1') => matches!(b, b"1.#IND" | b"1.#QNAN"),
        Some(b'<') => b == b"<NA>",
        Some(b'N') => matches!(b, b"N/A" | b"NA" | b"NULL" | b"NaN" | b"None"),
        Some(b'n') => matches!(b, b"n/a" | b"nan" | b"null"),
        _ => false,
    }
}

#[inline]
fn parse_bool(b: &[u8]) -> Option<bool> {
    match b {
        b"True" | b"TRUE" | b"true" => Some(true),
        b"False" | b"FALSE" | b"false" => Some(false),
        _ => None,
    }
}

/// The number in `s` and whether it was written as an integer (Rust's float syntax, after a
/// first character that can start a number).
fn parse_num_str(s: &str) -> Option<(f64, bool)> {
    let b = s.as_bytes();
    let first = *b.first()?;
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.' | b'i' | b'I')) {
        return None;
    }
    let v: f64 = s.parse().ok()?;
    let integral = b.iter().all(|c| c.is_ascii_digit() || *c == b'-' || *c == b'+');
    Some((v, integral))
}

/// Exact powers of ten as `f64` (10^22 is the largest one).
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
    1e19, 1e20, 1e21, 1e22,
];

/// `[+-]?digits[.digits]` with at most 19 digits, parsed exactly as `str::parse::<f64>` does
/// (both round correctly; this is the case where one integer conversion or one division of two
/// exactly represented numbers is the correctly rounded result). `None`: anything else.
#[inline]
fn fast_num(b: &[u8]) -> Option<(f64, bool)> {
    let (neg, mut i) = match b.first()? {
        b'-' => (true, 1),
        b'+' => (false, 1),
        _ => (false, 0),
    };
    let mut m: u64 = 0;
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        m = m.wrapping_mul(10).wrapping_add((b[i] - b'0') as u64);
        i += 1;
    }
    let mut digits = i - int_start;
    let mut frac = 0;
    let dot = i < b.len() && b[i] == b'.';
    if dot {
        i += 1;
        let s = i;
        while i < b.len() && b[i].is_ascii_digit() {
            m = m.wrapping_mul(10).wrapping_add((b[i] - b'0') as u64);
            i += 1;
        }
        frac = i - s;
        digits += frac;
    }
    if i != b.len() || digits == 0 || digits > 19 {
        return None;
    }
    let v = if frac == 0 {
        m as f64 // integer to float rounds to nearest, ties to even: the correctly rounded value
    } else if m <= 1 << 53 && frac < POW10.len() {
        m as f64 / POW10[frac]
    } else {
        return None;
    };
    Some((if neg { -v } else { v }, !dot))
}

const ONES: u64 = 0x0101_0101_0101_0101;

/// The eight digit values in `v` (one per byte, the first digit in the lowest byte) as a number.
#[inline(always)]
fn eight_digits(v: u64) -> u64 {
    const MASK: u64 = 0x0000_00ff_0000_00ff;
    const MUL1: u64 = 0x000f_4240_0000_0064; // 100 + (1000000 << 32)
    const MUL2: u64 = 0x0000_2710_0000_0001; // 1 + (10000 << 32)
    let v = v.wrapping_mul(10).wrapping_add(v >> 8);
    let v1 = (v & MASK).wrapping_mul(MUL1);
    let v2 = ((v >> 16) & MASK).wrapping_mul(MUL2);
    (v1.wrapping_add(v2) >> 32) as u32 as u64
}

/// Value and count of the leading ASCII digits among the eight bytes of `chunk` (the first
/// byte lowest).
#[inline(always)]
fn leading_digits(chunk: u64) -> (u64, usize) {
    let sub = chunk.wrapping_sub(0x30 * ONES);
    // A byte's top bit is set here at the first byte that is not a digit (bytes after it may be
    // garbled by borrows and carries; they are not looked at).
    let bad = (sub | sub.wrapping_add(0x76 * ONES)) & (0x80 * ONES);
    let len = (bad.trailing_zeros() / 8) as usize;
    if len == 0 {
        return (0, 0);
    }
    (eight_digits(sub << (8 * (8 - len))), len)
}

/// Powers of ten as integers, up to 10^8.
const POW10_U64: [u64; 9] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];

/// Reads the digits at `buf[*p..]` into `m` (at most 19 digits in all, counted in `count`).
#[inline(always)]
fn read_digits(buf: &[u8], p: &mut usize, m: &mut u64, count: &mut usize) -> Option<()> {
    while let Some(chunk) = buf.get(*p..*p + 8) {
        let (v, len) = leading_digits(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        *count += len;
        if *count > 19 {
            return None;
        }
        *m = *m * POW10_U64[len] + v;
        *p += len;
        if len < 8 {
            return Some(());
        }
    }
    while let Some(c) = buf.get(*p).filter(|c| c.is_ascii_digit()) {
        *count += 1;
        if *count > 19 {
            return None;
        }
        *m = *m * 10 + (c - b'0') as u64;
        *p += 1;
    }
    Some(())
}

/// An unquoted field at `buf[pos..]` that is `[+-]?digits[.digits]` (at most 19 digits): its
/// value (as [`fast_num`] gives it), whether it is an integer, and where it ends. `None`:
/// anything else, for the general path.
#[inline]
fn scan_number(buf: &[u8], pos: usize, delim: u8) -> Option<(f64, bool, usize)> {
    let mut p = pos;
    let neg = match buf.get(p) {
        Some(b'-') => {
            p += 1;
            true
        }
        Some(b'+') => {
            p += 1;
            false
        }
        _ => false,
    };
    let (mut m, mut digits) = (0u64, 0usize);
    read_digits(buf, &mut p, &mut m, &mut digits)?;
    let int_digits = digits;
    let dot = buf.get(p) == Some(&b'.');
    if dot {
        p += 1;
        read_digits(buf, &mut p, &mut m, &mut digits)?;
    }
    if digits == 0 || !buf.get(p).is_none_or(|&c| c == delim || is_term(c)) {
        return None;
    }
    let frac = digits - int_digits;
    let v = if frac == 0 {
        m as f64
    } else if m <= 1 << 53 && frac < POW10.len() {
        m as f64 / POW10[frac]
    } else {
        return None;
    };
    Some((if neg { -v } else { v }, !dot, p))
}

/// A number, `None` when the field is not one, `GiveUp` on invalid UTF-8.
#[inline]
fn parse_num(b: &[u8]) -> Result<Option<(f64, bool)>, GiveUp> {
    if let Some(r) = fast_num(b) {
        return Ok(Some(r));
    }
    std::str::from_utf8(b).map(parse_num_str).map_err(|_| GiveUp)
}

/// Up to 8 bytes as a little-endian integer, from overlapping loads (no byte-wise copy).
#[inline(always)]
fn load_le(b: &[u8]) -> u64 {
    let n = b.len();
    if n >= 8 {
        u64::from_le_bytes(b[..8].try_into().expect("8 bytes"))
    } else if n >= 4 {
        // The two loads overlap on equal bytes, so OR-ing them is exact.
        let lo = u32::from_le_bytes(b[..4].try_into().expect("4 bytes")) as u64;
        let hi = u32::from_le_bytes(b[n - 4..].try_into().expect("4 bytes")) as u64;
        lo | hi << (8 * (n - 4))
    } else if n > 0 {
        b[0] as u64 | (b[n / 2] as u64) << (8 * (n / 2)) | (b[n - 1] as u64) << (8 * (n - 1))
    } else {
        0
    }
}

/// A value of at most 15 bytes packed with its length into one integer (a cheap map key).
#[inline(always)]
fn short_key(b: &[u8]) -> Option<u128> {
    let n = b.len();
    if n > 15 {
        return None;
    }
    let (lo, hi) = if n > 8 { (load_le(&b[..8]), load_le(&b[8..])) } else { (load_le(b), 0) };
    Some(lo as u128 | (hi as u128) << 64 | (n as u128) << 120)
}

/// Open-addressing map from [`short_key`]s to codes. Key 0 marks a free slot: no key is 0, since
/// every key holds its value's length and empty values are missing, never in the dictionary.
struct ShortMap {
    slots: Vec<(u128, u32)>,
    len: usize,
    shift: u32,
}

impl Default for ShortMap {
    fn default() -> Self {
        ShortMap { slots: vec![(0, 0); 16], len: 0, shift: 64 - 4 }
    }
}

impl ShortMap {
    #[inline(always)]
    fn slot(&self, k: u128) -> usize {
        let x = (k as u64) ^ ((k >> 64) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (x.wrapping_mul(0xf135_7aea_2e62_a9c5) >> self.shift) as usize
    }

    /// The code stored for `k`, or `next` after storing it.
    #[inline(always)]
    fn get_or_insert(&mut self, k: u128, next: u32) -> u32 {
        debug_assert_ne!(k, 0);
        let mask = self.slots.len() - 1;
        let mut i = self.slot(k);
        loop {
            let (sk, c) = self.slots[i];
            if sk == k {
                return c;
            }
            if sk == 0 {
                self.slots[i] = (k, next);
                self.len += 1;
                if self.len * 2 > self.slots.len() {
                    self.grow();
                }
                return next;
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let bigger = vec![(0, 0); self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, bigger);
        self.shift -= 1;
        let mask = self.slots.len() - 1;
        for (k, c) in old.into_iter().filter(|e| e.0 != 0) {
            let mut i = self.slot(k);
            while self.slots[i].0 != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = (k, c);
        }
    }
}

/// Open-addressing map from values longer than 15 bytes to codes: slots hold (hash, code), and
/// a hash match is confirmed against the value stored under the code.
#[derive(Default)]
struct LongMap {
    slots: Vec<(u64, u32)>,
    len: usize,
}

impl LongMap {
    const FREE: u32 = u32::MAX;

    fn hash(b: &[u8]) -> u64 {
        let mut h = FxHasher::default();
        h.write(b);
        h.finish()
    }

    /// The code of `b` (one of `values`), or `next` after storing it.
    fn get_or_insert(&mut self, b: &[u8], values: &[String], next: u32) -> u32 {
        if self.slots.is_empty() {
            self.slots = vec![(0, Self::FREE); 16];
        }
        let h = Self::hash(b);
        let mask = self.slots.len() - 1;
        let mut i = h as usize & mask;
        loop {
            let (sh, c) = self.slots[i];
            if c == Self::FREE {
                self.slots[i] = (h, next);
                self.len += 1;
                if self.len * 2 > self.slots.len() {
                    self.grow();
                }
                return next;
            }
            if sh == h && values[c as usize].as_bytes() == b {
                return c;
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let bigger = vec![(0, Self::FREE); self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, bigger);
        let mask = self.slots.len() - 1;
        for (h, c) in old.into_iter().filter(|e| e.1 != Self::FREE) {
            let mut i = h as usize & mask;
            while self.slots[i].1 != Self::FREE {
                i = (i + 1) & mask;
            }
            self.slots[i] = (h, c);
        }
    }
}

/// Text column under construction: codes, and each distinct value once (in first-seen order)
/// with maps from a value to its code.
#[derive(Default)]
struct TextBuilder {
    codes: Vec<u32>,
    short: ShortMap,
    long: LongMap,
    values: Vec<String>,
}

impl TextBuilder {
    fn with_missing(n: usize) -> Self {
        TextBuilder { codes: vec![MISSING_CODE; n], ..Default::default() }
    }

    /// The code of `b`, adding it to the dictionary if new.
    #[inline]
    fn code(&mut self, b: &[u8]) -> Result<u32, GiveUp> {
        let next = self.values.len() as u32;
        let found = match short_key(b) {
            Some(k) => self.short.get_or_insert(k, next),
            None => self.long.get_or_insert(b, &self.values, next),
        };
        if found == next {
            let s = std::str::from_utf8(b).map_err(|_| GiveUp)?;
            assert!(next < MISSING_CODE, "more distinct text values than a u32 code can number");
            self.values.push(s.to_string());
        }
        Ok(found)
    }

    #[inline]
    fn push(&mut self, b: &[u8]) -> Result<(), GiveUp> {
        if is_na(b) {
            self.codes.push(MISSING_CODE);
            return Ok(());
        }
        let c = self.code(b)?;
        self.codes.push(c);
        Ok(())
    }

    /// Appends `other`'s rows after this builder's.
    fn append(&mut self, other: TextBuilder) {
        // Other's values in its first-seen order: the joined dictionary keeps first-seen order.
        let remap: Vec<u32> =
            other.values.iter().map(|v| self.code(v.as_bytes()).expect("valid UTF-8")).collect();
        self.codes.extend(other.codes.iter().map(|&c| if c == MISSING_CODE { c } else { remap[c as usize] }));
    }

    fn finish(self) -> TextColumn {
        TextColumn::from_parts(self.codes, self.values)
    }
}

/// One column under construction; the states and transitions are pandas-like type inference:
/// numbers, else booleans, else text; a column that sees text after numbers or booleans (or
/// numbers after booleans) is re-read as text.
enum Col {
    /// Only missing values so far.
    Empty(usize),
    /// Numbers (NaN = missing), and whether all were written as integers.
    Num(Vec<f64>, bool),
    Bool(Vec<Option<bool>>),
    Text(TextBuilder),
    /// To be re-read as text.
    Demoted,
    /// Not collected in this pass.
    Skip,
}

impl Col {
    #[inline]
    fn push(&mut self, b: &[u8]) -> Result<(), GiveUp> {
        match self {
            Col::Num(col, int) => {
                // No NA string is a plain number, so the fast parse may go first.
                if let Some((v, i)) = fast_num(b) {
                    *int &= i;
                    col.push(v);
                } else if is_na(b) {
                    col.push(f64::NAN);
                } else if let Some((v, i)) = parse_num(b)? {
                    *int &= i;
                    col.push(v);
                } else {
                    *self = Col::Demoted;
                }
            }
            Col::Text(t) => t.push(b)?,
            Col::Bool(col) => {
                if is_na(b) {
                    col.push(None);
                } else if let Some(x) = parse_bool(b) {
                    col.push(Some(x));
                } else {
                    *self = Col::Demoted;
                }
            }
            Col::Empty(n) => {
                if is_na(b) {
                    *n += 1;
                    return Ok(());
                }
                let pad = *n;
                *self = if let Some((v, int)) = parse_num(b)? {
                    let mut col = vec![f64::NAN; pad];
                    col.push(v);
                    Col::Num(col, int)
                } else if let Some(x) = parse_bool(b) {
                    let mut col = vec![None; pad];
                    col.push(Some(x));
                    Col::Bool(col)
                } else {
                    let mut t = TextBuilder::with_missing(pad);
                    t.push(b)?;
                    Col::Text(t)
                };
            }
            Col::Demoted | Col::Skip => {}
        }
        Ok(())
    }

    /// The column of `self`'s rows followed by `next`'s rows, as one pass over both would
    /// have built it.
    fn join(self, next: Col) -> Col {
        use Col::*;
        match (self, next) {
            (Skip, Skip) => Skip,
            (Demoted, _) | (_, Demoted) => Demoted,
            (Empty(a), Empty(b)) => Empty(a + b),
            (Empty(a), Num(v, i)) => Num(prepend(vec![f64::NAN; a], v), i),
            (Empty(a), Bool(v)) => Bool(prepend(vec![None; a], v)),
            (Empty(a), Text(mut t)) => {
                t.codes = prepend(vec![MISSING_CODE; a], t.codes);
                Text(t)
            }
            (Num(mut v, i), Empty(b)) => {
                v.resize(v.len() + b, f64::NAN);
                Num(v, i)
            }
            (Bool(mut v), Empty(b)) => {
                v.resize(v.len() + b, None);
                Bool(v)
            }
            (Text(mut t), Empty(b)) => {
                t.codes.resize(t.codes.len() + b, MISSING_CODE);
                Text(t)
            }
            (Num(mut v, i), Num(w, j)) => {
                v.extend_from_slice(&w);
                Num(v, i && j)
            }
            (Bool(mut v), Bool(w)) => {
                v.extend_from_slice(&w);
                Bool(v)
            }
            (Text(mut t), Text(u)) => {
                t.append(u);
                Text(t)
            }
            // Text then numbers/booleans: a single pass would have kept every value as text,
            // which is what a re-read as text gives. Numbers/booleans then text, or numbers and
            // booleans mixed: demoted in a single pass too.
            _ => Demoted,
        }
    }
}

fn prepend<T: Copy>(mut head: Vec<T>, tail: Vec<T>) -> Vec<T> {
    head.extend_from_slice(&tail);
    head
}

#[inline]
fn is_term(c: u8) -> bool {
    c == b'\n' || c == b'\r'
}

/// Byte classes for the unquoted-field scan: true ends a field.
fn stop_table(delim: u8) -> [bool; 256] {
    let mut t = [false; 256];
    t[delim as usize] = true;
    t[b'\n' as usize] = true;
    t[b'\r' as usize] = true;
    t
}

/// What [`parse_range`] parsed.
#[derive(Clone, Copy, Debug)]
struct Parsed {
    /// Records parsed.
    rows: usize,
    /// The last record ran into the end of the input instead of ending with a terminator.
    by_eof: bool,
}

/// Parses the records of `buf` that start at or after `start` and before `end` (`start` must be
/// a record start; a record that starts before `end` is read to its end), feeding field `j` of
/// each to `cols[j]`. The end of `buf` is the end of the input.
fn parse_range(buf: &[u8], start: usize, end: usize, delim: u8, cols: &mut [Col]) -> Result<Parsed, GiveUp> {
    let n = buf.len();
    let stop = stop_table(delim);
    let ncols = cols.len();
    let mut scratch: Vec<u8> = Vec::new();
    let mut pos = start;
    let mut out = Parsed { rows: 0, by_eof: false };
    loop {
        while pos < n && is_term(buf[pos]) {
            pos += 1;
        }
        if pos >= end || pos >= n {
            return Ok(out);
        }
        let mut j = 0;
        loop {
            if j == ncols {
                return Err(GiveUp); // more fields than the header
            }
            // What ended the field: true for the delimiter (another field follows).
            let more;
            if let Col::Num(vals, int) = &mut cols[j] {
                // The common case of a number column, parsed while it is scanned.
                if let Some((v, i, end)) = scan_number(buf, pos, delim) {
                    vals.push(v);
                    *int &= i;
                    more = buf.get(end) == Some(&delim);
                    pos = end + 1;
                    j += 1;
                    if more {
                        continue;
                    }
                    break;
                }
            }
            if buf[pos..].first() == Some(&b'"') {
                pos += 1;
                let fstart = pos;
                // While `escaped` is false the content is buf[fstart..content_end]; once true,
                // it is in `scratch`.
                let mut escaped = false;
                scratch.clear();
                let content_end;
                loop {
                    match buf[pos..].iter().position(|&c| c == b'"') {
                        None => {
                            // An unclosed quote runs to the end of the input.
                            if escaped {
                                scratch.extend_from_slice(&buf[pos..]);
                            }
                            content_end = n;
                            pos = n;
                            break;
                        }
                        Some(k) => {
                            let q = pos + k;
                            let doubled = buf.get(q + 1) == Some(&b'"');
                            if escaped {
                                scratch.extend_from_slice(&buf[pos..q]);
                            } else if doubled {
                                scratch.extend_from_slice(&buf[fstart..q]);
                                escaped = true;
                            }
                            if doubled {
                                scratch.push(b'"');
                                pos = q + 2;
                                continue;
                            }
                            content_end = q;
                            pos = q + 1;
                            break;
                        }
                    }
                }
                if pos < n && !stop[buf[pos] as usize] {
                    // Text after the closing quote is kept, up to the field's end.
                    if !escaped {
                        scratch.extend_from_slice(&buf[fstart..content_end]);
                        escaped = true;
                    }
                    let s = pos;
                    while pos < n && !stop[buf[pos] as usize] {
                        pos += 1;
                    }
                    scratch.extend_from_slice(&buf[s..pos]);
                }
                more = pos < n && buf[pos] == delim;
                cols[j].push(if escaped { &scratch } else { &buf[fstart..content_end] })?;
            } else {
                let s = pos;
                while pos < n && !stop[buf[pos] as usize] {
                    pos += 1;
                }
                more = pos < n && buf[pos] == delim;
                cols[j].push(&buf[s..pos])?;
            }
            out.by_eof = pos >= n;
            pos += 1; // past the delimiter or terminator (or beyond the end)
            j += 1;
            if !more {
                break;
            }
        }
        if j != ncols {
            return Err(GiveUp); // fewer fields than the header
        }
        out.rows += 1;
        pos = pos.min(n);
    }
}

/// Whether `b` holds an odd number of quotes (a byte-wise XOR that vectorizes well).
fn quote_parity(b: &[u8]) -> bool {
    let mut acc = [0u8; 64];
    let mut blocks = b.chunks_exact(64);
    for blk in &mut blocks {
        for (a, &c) in acc.iter_mut().zip(blk) {
            *a ^= (c == b'"') as u8;
        }
    }
    let tail = blocks.remainder().iter().fold(0u8, |a, &c| a ^ (c == b'"') as u8);
    acc.iter().fold(tail, |a, &x| a ^ x) == 1
}

/// The last place in `buf` (which starts at a record start) that may end a record: just after
/// a `\n` or `\r` preceded by an even number of quotes. Parsing up to it confirms it.
fn last_cut(buf: &[u8]) -> Option<usize> {
    let mut odd = quote_parity(buf);
    for p in (0..buf.len()).rev() {
        let c = buf[p];
        odd ^= c == b'"'; // now the parity of buf[..p]
        if is_term(c) && !odd {
            return Some(p + 1);
        }
    }
    None
}

/// Bytes read from a file per block by one thread.
const BLOCK: usize = 1 << 20;

/// Bytes per block when several threads parse a file (small blocks keep the per-block columns
/// small, so their memory is reused rather than fresh).
const PIPELINE_BLOCK: usize = 256 << 10;

/// Where the CSV bytes come from: memory, or a file.
#[derive(Clone, Copy)]
enum Source<'s> {
    Bytes(&'s [u8]),
    File(&'s std::fs::File),
}

/// Reads `f` into `buf[*filled..]` until it is full or the file ends; true at the end.
fn fill(f: &mut impl Read, buf: &mut [u8], filled: &mut usize) -> Result<bool, GiveUp> {
    while *filled < buf.len() {
        match f.read(&mut buf[*filled..]) {
            Ok(0) => return Ok(true),
            Ok(k) => *filled += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return Err(GiveUp),
        }
    }
    Ok(false)
}

/// Hands out the blocks of a source in order: each ends at the last place in it where a record
/// can end ([`last_cut`]), or at the end of the input. Parsing a block confirms its cut: it must
/// come out as whole records (see [`parse_block`]).
struct Blocks<'s> {
    src: Source<'s>,
    file: Option<std::fs::File>,
    /// Memory: where the next block starts.
    pos: usize,
    /// File: bytes read after the last cut.
    tail: Vec<u8>,
    block: usize,
    /// Number of the next block.
    next: usize,
    done: bool,
}

/// A block: a range of the source's bytes in memory, or the first bytes of a reader's buffer.
#[derive(Clone, Copy)]
enum Taken {
    Range(usize, usize),
    Buf(usize),
}

/// The bytes of a block.
fn block_data<'a>(src: Source<'a>, buf: &'a [u8], taken: Taken) -> &'a [u8] {
    match (taken, src) {
        (Taken::Range(a, b), Source::Bytes(bytes)) => &bytes[a..b],
        (Taken::Buf(n), _) => &buf[..n],
        (Taken::Range(..), Source::File(_)) => unreachable!("file blocks are read into the buffer"),
    }
}

impl<'s> Blocks<'s> {
    fn new(src: Source<'s>, start: usize, block: usize) -> Result<Self, GiveUp> {
        let file = match src {
            Source::Bytes(_) => None,
            Source::File(file) => {
                let mut f = file.try_clone().map_err(|_| GiveUp)?;
                f.seek(SeekFrom::Start(start as u64)).map_err(|_| GiveUp)?;
                Some(f)
            }
        };
        Ok(Blocks { src, file, pos: start, tail: Vec::new(), block: block.max(1), next: 0, done: false })
    }

    /// The next block (`buf` holds it when read from a file), its number, and whether it is the
    /// last; `None` after the last.
    fn take(&mut self, buf: &mut Vec<u8>) -> Result<Option<(Taken, usize, bool)>, GiveUp> {
        if self.done {
            return Ok(None);
        }
        let (taken, last) = match (self.src, &mut self.file) {
            (Source::Bytes(bytes), _) => {
                let mut end = self.pos;
                loop {
                    end = (end + self.block).min(bytes.len());
                    if end == bytes.len() {
                        break (Taken::Range(self.pos, end), true);
                    }
                    if let Some(c) = last_cut(&bytes[self.pos..end]) {
                        break (Taken::Range(self.pos, self.pos + c), false);
                    }
                }
            }
            (Source::File(_), Some(file)) => {
                buf.clear();
                buf.append(&mut self.tail);
                let mut filled = buf.len();
                loop {
                    buf.resize(filled + self.block, 0);
                    if fill(file, buf, &mut filled)? {
                        buf.truncate(filled);
                        break (Taken::Buf(filled), true);
                    }
                    if let Some(c) = last_cut(&buf[..filled]) {
                        self.tail.extend_from_slice(&buf[c..filled]);
                        buf.truncate(c);
                        break (Taken::Buf(c), false);
                    }
                }
            }
            (Source::File(_), None) => unreachable!("a file source has a file"),
        };
        if let Taken::Range(_, end) = taken {
            self.pos = end;
        }
        let index = self.next;
        self.next += 1;
        self.done = last;
        Ok(Some((taken, index, last)))
    }
}

/// Parses one block (which starts at a record start) into `cols`: its records must all end with
/// a terminator unless it is the last block, or its cut was not a record end (inside quotes).
fn parse_block(data: &[u8], last: bool, delim: u8, cols: &mut [Col]) -> Result<usize, GiveUp> {
    let p = parse_range(data, 0, data.len(), delim, cols)?;
    if p.by_eof && !last {
        return Err(GiveUp);
    }
    Ok(p.rows)
}

/// Parsed blocks waiting for their turn, and the columns of all blocks joined so far.
struct Joined {
    next: usize,
    waiting: std::collections::BTreeMap<usize, Result<(Vec<Col>, usize), GiveUp>>,
    cols: Option<Vec<Col>>,
    rows: usize,
    failed: bool,
}

/// Parses the source from `start` (a record start) in blocks of about `block` bytes with
/// builders from `init`. On one thread the blocks go straight into one set of columns. On
/// several, each thread takes the next block, parses it into columns of its own, and whoever
/// completes the next block in order appends it (and the blocks after it that are waiting) to
/// the joined columns with [`Col::join`], so the result is that of one pass; at most a few blocks
/// are ahead of the joined ones at a time, so their memory is reused, not fresh.
fn parse_blocks(
    src: Source,
    start: usize,
    threads: usize,
    block: usize,
    delim: u8,
    init: &(dyn Fn() -> Vec<Col> + Sync),
) -> Result<(Vec<Col>, usize), GiveUp> {
    use std::sync::{Condvar, Mutex};
    let mut blocks = Blocks::new(src, start, block)?;
    if threads <= 1 {
        let (mut cols, mut rows) = (init(), 0);
        let mut buf = Vec::new();
        while let Some((taken, _, last)) = blocks.take(&mut buf)? {
            rows += parse_block(block_data(src, &buf, taken), last, delim, &mut cols)?;
        }
        return Ok((cols, rows));
    }
    let reader = Mutex::new(blocks);
    let joined = Mutex::new(Joined {
        next: 0,
        waiting: Default::default(),
        cols: Some(init()),
        rows: 0,
        failed: false,
    });
    let turn = Condvar::new();
    let ahead = 2 * threads;
    let fail = || {
        joined.lock().expect("no panics under the lock").failed = true;
        turn.notify_all();
    };
    let work = || {
        let mut buf: Vec<u8> = Vec::new();
        loop {
            // Wait while too far ahead of the joined blocks.
            {
                let mut j = joined.lock().expect("no panics under the lock");
                while !j.failed && reader.lock().expect("no panics under the lock").next >= j.next + ahead {
                    j = turn.wait(j).expect("no panics under the lock");
                }
                if j.failed {
                    return;
                }
            }
            let taken = reader.lock().expect("no panics under the lock").take(&mut buf);
            let (taken, index, last) = match taken {
                Ok(Some(t)) => t,
                Ok(None) => return,
                Err(GiveUp) => return fail(),
            };
            let mut cols = init();
            let parsed =
                parse_block(block_data(src, &buf, taken), last, delim, &mut cols).map(|rows| (cols, rows));
            let mut j = joined.lock().expect("no panics under the lock");
            j.waiting.insert(index, parsed);
            loop {
                let next = j.next;
                let Some(part) = j.waiting.remove(&next) else { break };
                j.next += 1;
                match part {
                    Ok((cols, rows)) if !j.failed => {
                        let acc = j.cols.take().expect("joined columns");
                        j.cols = Some(acc.into_iter().zip(cols).map(|(a, b)| a.join(b)).collect());
                        j.rows += rows;
                    }
                    _ => j.failed = true,
                }
            }
            drop(j);
            turn.notify_all();
        }
    };
    std::thread::scope(|s| {
        let handles: Vec<_> = (1..threads).map(|_| s.spawn(work)).collect();
        work();
        for h in handles {
            h.join().expect("a CSV block parser panicked");
        }
    });
    let j = joined.into_inner().expect("no panics under the lock");
    let r = reader.into_inner().expect("no panics under the lock");
    if j.failed || !r.done || j.next != r.next {
        return Err(GiveUp);
    }
    Ok((j.cols.expect("joined columns"), j.rows))
}

/// The header: names (BOM trimmed) and the byte offset where the records start.
fn read_header(bytes: &[u8], delim: u8) -> Result<(Vec<String>, usize), ReadError> {
    let mut rdr = csv::ReaderBuilder::new().delimiter(delim).flexible(false).from_reader(bytes);
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| format!("cannot read the CSV header: {e}"))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    if headers.is_empty() || headers.iter().all(|h| h.is_empty()) {
        return Err("the CSV has no header row".into());
    }
    Ok((headers, (rdr.position().byte() as usize).min(bytes.len())))
}

fn finish(names: Vec<String>, cols: Vec<Col>, texts: Vec<Option<TextColumn>>, rows: usize) -> Table {
    let mut columns: Vec<Column> = names
        .into_iter()
        .zip(cols)
        .zip(texts)
        .map(|((name, col), text)| {
            let (data, integral) = match (col, text) {
                (_, Some(t)) => (ColumnData::Text(t), false),
                (Col::Empty(n), None) => (ColumnData::Num(vec![f64::NAN; n]), false),
                (Col::Num(v, i), None) => (ColumnData::Num(v), i),
                (Col::Bool(v), None) => (ColumnData::Bool(v), false),
                (Col::Text(t), None) => (ColumnData::Text(t.finish()), false),
                (Col::Demoted | Col::Skip, None) => unreachable!("demoted columns are re-read as text"),
            };
            Column { name, data, integral }
        })
        .collect();
    dedupe_names(&mut columns);
    Table { columns, rows }
}

/// The fast path: records from `start` on, in blocks of `block` bytes on `threads` threads;
/// columns that turn out to need it are read again as text. `None` when it gives up.
fn read_fast(
    src: Source,
    delim: u8,
    names: &[String],
    start: usize,
    threads: usize,
    block: usize,
) -> Option<Table> {
    let ncols = names.len();
    let fresh = || (0..ncols).map(|_| Col::Empty(0)).collect::<Vec<_>>();
    let (cols, rows) = parse_blocks(src, start, threads, block, delim, &fresh).ok()?;
    let demoted: Vec<bool> = cols.iter().map(|c| matches!(c, Col::Demoted)).collect();
    let mut texts: Vec<Option<TextColumn>> = vec![None; ncols];
    if demoted.iter().any(|&d| d) {
        let as_text = || {
            demoted.iter().map(|&d| if d { Col::Text(TextBuilder::default()) } else { Col::Skip }).collect()
        };
        let (again, _) = parse_blocks(src, start, threads, block, delim, &as_text).ok()?;
        for (slot, c) in texts.iter_mut().zip(again) {
            if let Col::Text(t) = c {
                *slot = Some(t.finish());
            }
        }
    }
    Some(finish(names.to_vec(), cols, texts, rows))
}

/// The `csv` crate loop: the reference behaviour, and the exact errors.
fn read_slow(bytes: &[u8], delim: u8, names: Vec<String>) -> Result<Table, ReadError> {
    let mut rdr = csv::ReaderBuilder::new().delimiter(delim).flexible(false).from_reader(bytes);
    rdr.headers().map_err(|e| format!("cannot read the CSV header: {e}"))?;
    let mut cols: Vec<Col> = names.iter().map(|_| Col::Empty(0)).collect();
    let mut rec = csv::ByteRecord::new();
    let mut rows = 0usize;
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(format!("invalid CSV at data row {}: {e}", rows + 1)),
        }
        for (c, field) in cols.iter_mut().zip(rec.iter()) {
            std::str::from_utf8(field)
                .map_err(|_| format!("row {} is not valid UTF-8; re-save the file as UTF-8", rows + 1))?;
            c.push(field).expect("the field is valid UTF-8");
        }
        rows += 1;
    }
    let demoted: Vec<usize> = (0..cols.len()).filter(|&i| matches!(cols[i], Col::Demoted)).collect();
    let mut texts: Vec<Option<TextColumn>> = vec![None; cols.len()];
    if !demoted.is_empty() {
        let mut builders: Vec<TextBuilder> = demoted.iter().map(|_| TextBuilder::default()).collect();
        let mut rdr = csv::ReaderBuilder::new().delimiter(delim).from_reader(bytes);
        while rdr.read_byte_record(&mut rec).map_err(|e| e.to_string())? {
            for (t, &c) in builders.iter_mut().zip(&demoted) {
                t.push(&rec[c]).expect("validated in the first pass");
            }
        }
        for (t, &c) in builders.into_iter().zip(&demoted) {
            texts[c] = Some(t.finish());
        }
    }
    Ok(finish(names, cols, texts, rows))
}

/// Reads CSV `bytes` (header row first) into a table, on `threads` threads.
pub(crate) fn read(bytes: &[u8], threads: usize) -> Result<Table, ReadError> {
    read_with(bytes, threads, if threads > 1 { PIPELINE_BLOCK } else { usize::MAX / 2 })
}

/// [`read`] in blocks of `block` bytes.
fn read_with(bytes: &[u8], threads: usize, block: usize) -> Result<Table, ReadError> {
    let delim = sniff_delimiter(bytes);
    let (names, start) = read_header(bytes, delim)?;
    match read_fast(Source::Bytes(bytes), delim, &names, start, threads, block) {
        Some(t) => Ok(t),
        None => read_slow(bytes, delim, names),
    }
}

/// Reads an open CSV file (from its start) into a table without holding the whole file in
/// memory: in blocks of `block` bytes, parsed by `threads` threads. Falls back to reading the
/// whole file (and the exact errors of [`read`]) when the streaming path gives up.
pub(crate) fn read_open(file: &File, threads: usize, block: usize) -> Result<Table, ReadError> {
    let whole = || {
        let mut bytes = Vec::new();
        file.try_clone()
            .and_then(|mut f| f.seek(SeekFrom::Start(0)).and_then(|_| f.read_to_end(&mut bytes)))
            .map_err(|e| format!("cannot read the file: {e}"))?;
        read(&bytes, default_chunks(bytes.len()))
    };
    let Ok(mut f) = file.try_clone() else { return whole() };
    if f.seek(SeekFrom::Start(0)).is_err() {
        return whole();
    }
    let Ok(len) = f.metadata().map(|m| m.len() as usize) else { return whole() };
    // The first line (to sniff the delimiter) and the whole header record.
    let mut head = vec![0u8; (64 << 10).min(len).max(16)];
    let mut filled = 0;
    let (delim, names, start) = loop {
        let Ok(eof) = fill(&mut f, &mut head, &mut filled) else { return whole() };
        let h = &head[..filled];
        if eof || h.contains(&b'\n') {
            let delim = sniff_delimiter(h);
            let (names, start) = read_header(h, delim)?;
            // The header ended before the end of what was read (or the file ends there).
            if eof || start < filled {
                break (delim, names, start);
            }
        }
        if eof {
            return whole();
        }
        head.resize(head.len() * 2, 0);
    };
    drop(head);
    match read_fast(Source::File(file), delim, &names, start, threads.max(1), block) {
        Some(t) => Ok(t),
        None => whole(),
    }
}

/// [`read_open`] with the default block size, on one thread per core for files of 1 MiB or more.
pub(crate) fn read_file(file: &File) -> Result<Table, ReadError> {
    let len = file.metadata().map(|m| m.len() as usize).unwrap_or(0);
    let threads = default_chunks(len);
    read_open(file, threads, if threads > 1 { PIPELINE_BLOCK } else { BLOCK })
}

#[cfg(test)]
pub(crate) fn read_reference(bytes: &[u8]) -> Result<Table, ReadError> {
    let delim = sniff_delimiter(bytes);
    let (names, _) = read_header(bytes, delim)?;
    read_slow(bytes, delim, names)
}

#[cfg(test)]
mod tests {
    use super::super::table::NA_VALUES;
    use super::*;

    #[test]
    fn na_bytes_match_the_list() {
        for s in NA_VALUES {
            assert!(is_na(s.as_bytes()), "{s}");
        }
        for s in ["1", "-1", "1.#INDX", "#N/", "na", "Na", "NAN", "nULL", "-", "<na>", " NA", "None "] {
            assert!(!is_na(s.as_bytes()), "{s}");
        }
    }

    #[test]
    fn fast_numbers_equal_std_parse() {
        let cases = [
            "0",
            "-0",
            "+0",
            "1",
            "-1",
            "+7",
            "007",
            "0.1",
            ".5",
            "-.5",
            "+.5",
            "5.",
            "-5.",
            "123.456",
            "9007199254740993",
            "9007199254740993.5",
            "18446744073709551615",
            "9999999999999999999",
            "1234567890123456789",
            "0.3",
            "61.1407",
            "568230.326287",
            "1.7976931348623157",
            "0.000000000000000000001",
            "12345678901234567.8",
            "4.35",
            "2.675",
            "100000000000000000000",
            "1e5",
            "inf",
            ".",
            "-",
            "",
            "1.2.3",
            "1,5",
        ];
        for s in cases {
            let want = parse_num_str(s);
            if let Some((v, int)) = fast_num(s.as_bytes()) {
                let (w, wi) = want.unwrap_or_else(|| panic!("{s}: fast accepted what std rejects"));
                assert_eq!(v.to_bits(), w.to_bits(), "{s}");
                assert_eq!(int, wi, "{s}");
            }
            let got = parse_num(s.as_bytes()).unwrap();
            assert_eq!(got.map(|(v, i)| (v.to_bits(), i)), want.map(|(v, i)| (v.to_bits(), i)), "{s}");
        }
        // Random decimals of every digit count against std's parser, bit for bit.
        let mut x: u64 = 0x243f_6a88_85a3_08d3;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let digits = 1 + (x % 19) as usize;
            let mant = format!("{:019}", x % 10_000_000_000_000_000_000)[19 - digits..].to_string();
            let dot = (x >> 40) as usize % (digits + 2);
            let s = if dot > digits { mant.clone() } else { format!("{}.{}", &mant[..dot], &mant[dot..]) };
            let s = if (x >> 60) & 1 == 1 { format!("-{s}") } else { s };
            let want = parse_num_str(&s).map(|(v, i)| (v.to_bits(), i));
            let got = parse_num(s.as_bytes()).unwrap().map(|(v, i)| (v.to_bits(), i));
            assert_eq!(got, want, "{s}");
        }
    }

    #[test]
    fn swar_digits_equal_a_byte_loop() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Mostly digits, sometimes another byte (including bytes below and above '0'..'9').
            let bytes: Vec<u8> = (0..8)
                .map(|i| {
                    let r = (x >> (i * 8)) as u8;
                    if r < 200 {
                        b'0' + r % 10
                    } else {
                        r.wrapping_mul(7)
                    }
                })
                .collect();
            let chunk = u64::from_le_bytes(bytes.clone().try_into().unwrap());
            let len = bytes.iter().take_while(|c| c.is_ascii_digit()).count();
            let want = bytes[..len].iter().fold(0u64, |m, c| m * 10 + (c - b'0') as u64);
            assert_eq!(leading_digits(chunk), (want, len), "{bytes:?}");
        }
        for s in [
            "123",
            "-0.5",
            "+7",
            "1.",
            ".5",
            "12345678901234567.89",
            "1234567890123456789",
            "1,",
            "7\n",
            "12345678.25\r\n",
        ] {
            let b = s.as_bytes();
            let end = b.iter().position(|&c| c == b',' || is_term(c)).unwrap_or(b.len());
            let want = fast_num(&b[..end]).map(|(v, i)| (v.to_bits(), i, end));
            assert_eq!(scan_number(b, 0, b',').map(|(v, i, e)| (v.to_bits(), i, e)), want, "{s}");
        }
        // Twenty digits, an exponent or a space: not for the fast scan.
        for s in ["12345678901234567890", "1e5", "1 ", "-", "", "1.2.3", "\"1\""] {
            assert!(scan_number(s.as_bytes(), 0, b',').is_none(), "{s}");
        }
    }

    #[test]
    fn short_keys_are_the_bytes_and_length() {
        let text = b"abcdefghijklmnopq";
        for n in 0..=15 {
            for start in 0..2 {
                let b = &text[start..start + n];
                let mut k = [0u8; 16];
                k[..n].copy_from_slice(b);
                k[15] = n as u8;
                assert_eq!(short_key(b), Some(u128::from_le_bytes(k)), "{n}");
            }
        }
        assert_eq!(short_key(&text[..16]), None);
    }

    fn same(got: &Result<Table, ReadError>, want: &Result<Table, ReadError>, what: &str) {
        // Debug text: floats print their shortest round-trip form, and NaN equals NaN.
        assert_eq!(format!("{got:?}"), format!("{want:?}"), "{what}");
    }

    /// A temporary file holding `bytes`.
    struct TempCsv(std::path::PathBuf);

    impl TempCsv {
        fn new(bytes: &[u8]) -> TempCsv {
            use std::sync::atomic::{AtomicU64, Ordering};
            static N: AtomicU64 = AtomicU64::new(0);
            let p = std::env::temp_dir().join(format!(
                "vana-csv-read-test-{}-{}.csv",
                std::process::id(),
                N.fetch_add(1, Ordering::SeqCst)
            ));
            std::fs::write(&p, bytes).unwrap();
            TempCsv(p)
        }

        fn open(&self) -> File {
            File::open(&self.0).unwrap()
        }
    }

    impl Drop for TempCsv {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    /// The fast paths (memory and file, one to three threads, blocks small enough that cuts fall
    /// everywhere) all equal the reference reader. With `well_formed` quoting (quotes only around
    /// whole fields), the fast path must not have given up.
    fn check_with(csv: &str, well_formed: bool) {
        let b = csv.as_bytes();
        let want = read_reference(b);
        let file = TempCsv::new(b);
        let delim = sniff_delimiter(b);
        let header = read_header(b, delim);
        for threads in 1..=3 {
            for block in [16, 37, 1 << 20] {
                let what = format!("{threads} threads, block {block}, input {csv:?}");
                same(&read_with(b, threads, block), &want, &format!("memory, {what}"));
                same(&read_open(&file.open(), threads, block), &want, &format!("file, {what}"));
                let Ok((names, start)) = &header else { continue };
                if want.is_ok() && (well_formed || block == 1 << 20) {
                    let opened = file.open();
                    for src in [Source::Bytes(b), Source::File(&opened)] {
                        let fast = read_fast(src, delim, names, *start, threads, block)
                            .unwrap_or_else(|| panic!("the fast path gave up: {what}"));
                        same(&Ok(fast), &want, &what);
                    }
                }
            }
        }
    }

    fn check(csv: &str) {
        check_with(csv, false);
    }

    #[test]
    fn edge_cases_equal_the_csv_crate() {
        let cases = [
            "a,b\n1,2\n3,4\n",
            "a,b\n1,2\n3,4",
            "a,b\r\n1,2\r\n3,4\r\n",
            "a,b\r1,2\r3,4\r",
            "a,b\n\n1,2\n\n\n3,4\n\n",
            "a,b\n1,\n,2\n",
            "a,b,c\n1,2,\n",
            "a\n\n",
            "a\n",
            "a",
            "a,b\n",
            "a,b\n\"x\",\"y\"\n\"1\",\"2\"\n",
            "a,b\n\"x\ny\",1\n\"p,q\",2\n\"he said \"\"hi\"\"\",3\n",
            "a,b\n\"ab\"cd,1\nx\"y,2\n\"\",3\n\"\"\"\",4\n",
            "a,b\n1,\"unclosed\n2,3\n",
            "a,b\n1,\"x\"\r\n2,\"y\"\r\n",
            "a,b\n1,2\n3\n",
            "a,b\n1,2\n3,4,5\n",
            "a;b\n1,5;2\n3;4\n",
            "a\tb\n1\t2\n",
            "\u{feff}id,v\n1,x\n",
            "a,a,a\n1,2,3\n",
            "a,b\nNA,1\nnan,2\n1.#IND,3\n-1.#QNAN,4\n,5\n",
            "a,b\n1,True\n2,false\n,TRUE\n",
            "a,b\n1,True\n2,x\n",
            "a,b\nx,1\n1,2\n",
            "a,b\n1,1\n2.5,2\nx,3\n",
            "a,b\n1,1\nTrue,2\n",
            "a,b\nTrue,1\n1,2\n",
            "a,b\n+5,1\n-0,2\ninf,3\n-Infinity,4\n+nan,5\n1e3,6\n.5,7\n5.,8\n",
            "a,b\n007,x\n12345678901234567890123,y\n",
            "a,b\n é,1\nü,2\n é,3\n",
            "a,b\n\"x\"\"y\",1\n\"x\"\"y\",2\n",
            // A literal quote in an unquoted field, then an unclosed quoted field: the even-quote
            // cut after `"z` is inside a field; the block's parse notices.
            "h\nx\"y\n\"z\nw\n\nmore\n1\n2\n3\n",
        ];
        for c in cases {
            check(c);
        }
        // The wrong cut above is noticed: the fast path gives up (and the fallback is exact).
        let tricky = cases[cases.len() - 1].as_bytes();
        let (names, start) = read_header(tricky, b',').unwrap();
        assert!(read_fast(Source::Bytes(tricky), b',', &names, start, 1, 16).is_none());
        assert!(read_fast(Source::Bytes(tricky), b',', &names, start, 1, 1 << 20).is_some());
        // Invalid UTF-8 gives the reference error, from memory and from a file.
        let bad = b"a,b\n1,x\n2,\xff\n";
        assert_eq!(read(bad, 1), read_reference(bad));
        assert_eq!(read(bad, 3), read_reference(bad));
        assert!(read(bad, 1).unwrap_err().contains("row 2"));
        let file = TempCsv::new(bad);
        assert_eq!(read_open(&file.open(), 2, 16), read_reference(bad));
    }

    #[test]
    fn quoted_newlines_across_block_cuts() {
        // Quoted fields with newlines and escaped quotes everywhere, so that block cuts are tried
        // inside quoted fields and right after them; then columns that change type in later
        // blocks.
        let mut s = String::from("id,note,v,flag\n");
        for i in 0..400 {
            let note = match i % 5 {
                0 => format!("\"line {i}\nnext\n\"\"quoted\"\"\""),
                1 => format!("\"{i}\r\n\""),
                2 => "plain".to_string(),
                3 => String::new(),
                _ => format!("\"a,b\n{}\"", i % 3),
            };
            let v = if i == 350 { "oops".to_string() } else { format!("{}.5", i) };
            let flag = if i % 4 == 0 {
                "NA"
            } else if i % 2 == 0 {
                "True"
            } else {
                "False"
            };
            s.push_str(&format!("{i},{note},{v},{flag}\n"));
        }
        check_with(&s, true);
        let t = read_with(s.as_bytes(), 4, 64).unwrap();
        assert_eq!(t.rows, 400);
        assert_eq!(t.columns[1].text_at(0).as_deref(), Some("line 0\nnext\n\"quoted\""));
        assert_eq!(t.columns[2].dtype(), "object", "demoted by the late text value");
        assert_eq!(t.columns[3].dtype(), "object", "booleans with missing values");
    }

    #[test]
    fn random_csvs_equal_the_csv_crate() {
        let mut x: u64 = 0x5eed;
        let mut rnd = move |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % m
        };
        for case in 0..60 {
            let cols = 1 + rnd(5) as usize;
            let rows = rnd(120) as usize;
            let eol = ["\n", "\r\n", "\r"][rnd(3) as usize];
            // Each column mostly holds one kind of value, sometimes another (type changes).
            let kinds: Vec<u64> = (0..cols).map(|_| rnd(5)).collect();
            let mut s: String = (0..cols).map(|c| format!("c{c}")).collect::<Vec<_>>().join(",") + eol;
            for r in 0..rows {
                let fields: Vec<String> = kinds
                    .iter()
                    .map(|&k| {
                        let k = if rnd(40) == 0 { rnd(5) } else { k };
                        match (k, rnd(10)) {
                            (_, 0) => ["", "NA", "nan", "NULL", "#N/A", "-NaN"][rnd(6) as usize].to_string(),
                            (0, _) => format!("{}", rnd(2000) as i64 - 1000),
                            (1, _) => format!("{:.3}", (rnd(1_000_000) as f64 - 5e5) / 7.0),
                            (2, _) => ["True", "False", "true", "FALSE"][rnd(4) as usize].to_string(),
                            (3, _) => ["north", "south", "a fairly long category name", "é"][rnd(4) as usize]
                                .to_string(),
                            _ => match rnd(4) {
                                0 => format!("\"q{r},\nline\"\"x\"\"\""),
                                1 => format!("\"{}\"", rnd(9)),
                                2 => "\"\"".to_string(),
                                _ => format!("t{}", rnd(30)),
                            },
                        }
                    })
                    .collect();
                s.push_str(&fields.join(","));
                s.push_str(eol);
                if rnd(15) == 0 {
                    s.push_str(eol); // a blank line
                }
            }
            if rnd(2) == 0 {
                s.truncate(s.trim_end_matches(['\r', '\n']).len()); // no final line end
            }
            let want = read_reference(s.as_bytes());
            assert!(want.is_ok(), "case {case}: {want:?}");
            check_with(&s, true);
        }
    }

    #[test]
    fn text_then_numbers_across_blocks_stays_text() {
        // Block 1 sees text, later blocks only numbers: one pass keeps everything as text.
        let mut s = String::from("k,n\n");
        s.push_str("x,1\n");
        for i in 0..300 {
            s.push_str(&format!("{i}.0,{i}\n"));
        }
        check(&s);
        let t = read_with(s.as_bytes(), 3, 64).unwrap();
        assert_eq!(t.columns[0].text_at(5).as_deref(), Some("4.0"));
        assert_eq!(t.columns[1].dtype(), "int64");
    }
}
