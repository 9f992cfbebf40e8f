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

mod blocks;
mod column;
mod dictionary;
mod number;
mod tokenizer;

use blocks::*;
use column::*;
use dictionary::*;
use number::*;
use tokenizer::*;

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
