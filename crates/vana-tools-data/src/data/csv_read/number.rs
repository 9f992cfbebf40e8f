//! Field values: missing-value markers, booleans, and numbers parsed from bytes as
//! `str::parse::<f64>` parses them (a fast exact path for up to 19 digits).

#[allow(unused_imports)]
use super::*;

#[inline]
pub(super) fn is_na(b: &[u8]) -> bool {
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
pub(super) fn parse_bool(b: &[u8]) -> Option<bool> {
    match b {
        b"True" | b"TRUE" | b"true" => Some(true),
        b"False" | b"FALSE" | b"false" => Some(false),
        _ => None,
    }
}

/// The number in `s` and whether it was written as an integer (Rust's float syntax, after a
/// first character that can start a number).
pub(super) fn parse_num_str(s: &str) -> Option<(f64, bool)> {
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
pub(super) const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
    1e19, 1e20, 1e21, 1e22,
];

/// `[+-]?digits[.digits]` with at most 19 digits, parsed exactly as `str::parse::<f64>` does
/// (both round correctly; this is the case where one integer conversion or one division of two
/// exactly represented numbers is the correctly rounded result). `None`: anything else.
#[inline]
pub(super) fn fast_num(b: &[u8]) -> Option<(f64, bool)> {
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

pub(super) const ONES: u64 = 0x0101_0101_0101_0101;

/// The eight digit values in `v` (one per byte, the first digit in the lowest byte) as a number.
#[inline(always)]
pub(super) fn eight_digits(v: u64) -> u64 {
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
pub(super) fn leading_digits(chunk: u64) -> (u64, usize) {
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
pub(super) const POW10_U64: [u64; 9] =
    [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];

/// Reads the digits at `buf[*p..]` into `m` (at most 19 digits in all, counted in `count`).
#[inline(always)]
pub(super) fn read_digits(buf: &[u8], p: &mut usize, m: &mut u64, count: &mut usize) -> Option<()> {
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
pub(super) fn scan_number(buf: &[u8], pos: usize, delim: u8) -> Option<(f64, bool, usize)> {
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
pub(super) fn parse_num(b: &[u8]) -> Result<Option<(f64, bool)>, GiveUp> {
    if let Some(r) = fast_num(b) {
        return Ok(Some(r));
    }
    std::str::from_utf8(b).map(parse_num_str).map_err(|_| GiveUp)
}
