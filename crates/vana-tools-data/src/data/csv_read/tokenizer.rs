//! The record tokenizer over raw bytes (csv_core's default dialect) and where a block may be
//! cut (after a record terminator that follows an even number of quotes).

#[allow(unused_imports)]
use super::*;

#[inline]
pub(super) fn is_term(c: u8) -> bool {
    c == b'\n' || c == b'\r'
}

/// Byte classes for the unquoted-field scan: true ends a field.
pub(super) fn stop_table(delim: u8) -> [bool; 256] {
    let mut t = [false; 256];
    t[delim as usize] = true;
    t[b'\n' as usize] = true;
    t[b'\r' as usize] = true;
    t
}

/// What [`parse_range`] parsed.
#[derive(Clone, Copy, Debug)]
pub(super) struct Parsed {
    /// Records parsed.
    pub(super) rows: usize,
    /// The last record ran into the end of the input instead of ending with a terminator.
    pub(super) by_eof: bool,
}

/// Parses the records of `buf` that start at or after `start` and before `end` (`start` must be
/// a record start; a record that starts before `end` is read to its end), feeding field `j` of
/// each to `cols[j]`. The end of `buf` is the end of the input.
pub(super) fn parse_range(
    buf: &[u8],
    start: usize,
    end: usize,
    delim: u8,
    cols: &mut [Col],
) -> Result<Parsed, GiveUp> {
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
pub(super) fn quote_parity(b: &[u8]) -> bool {
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
pub(super) fn last_cut(buf: &[u8]) -> Option<usize> {
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
