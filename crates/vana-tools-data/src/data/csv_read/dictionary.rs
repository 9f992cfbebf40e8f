//! Text columns under construction: each distinct value stored once, with maps from a value
//! (packed into an integer when short) to its code.

#[allow(unused_imports)]
use super::*;

/// Up to 8 bytes as a little-endian integer, from overlapping loads (no byte-wise copy).
#[inline(always)]
pub(super) fn load_le(b: &[u8]) -> u64 {
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
pub(super) fn short_key(b: &[u8]) -> Option<u128> {
    let n = b.len();
    if n > 15 {
        return None;
    }
    let (lo, hi) = if n > 8 { (load_le(&b[..8]), load_le(&b[8..])) } else { (load_le(b), 0) };
    Some(lo as u128 | (hi as u128) << 64 | (n as u128) << 120)
}

/// Open-addressing map from [`short_key`]s to codes. Key 0 marks a free slot: no key is 0, since
/// every key holds its value's length and empty values are missing, never in the dictionary.
pub(super) struct ShortMap {
    pub(super) slots: Vec<(u128, u32)>,
    pub(super) len: usize,
    pub(super) shift: u32,
}

impl Default for ShortMap {
    fn default() -> Self {
        ShortMap { slots: vec![(0, 0); 16], len: 0, shift: 64 - 4 }
    }
}

impl ShortMap {
    #[inline(always)]
    pub(super) fn slot(&self, k: u128) -> usize {
        let x = (k as u64) ^ ((k >> 64) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (x.wrapping_mul(0xf135_7aea_2e62_a9c5) >> self.shift) as usize
    }

    /// The code stored for `k`, or `next` after storing it.
    #[inline(always)]
    pub(super) fn get_or_insert(&mut self, k: u128, next: u32) -> u32 {
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

    pub(super) fn grow(&mut self) {
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
pub(super) struct LongMap {
    pub(super) slots: Vec<(u64, u32)>,
    pub(super) len: usize,
}

impl LongMap {
    const FREE: u32 = u32::MAX;

    pub(super) fn hash(b: &[u8]) -> u64 {
        let mut h = FxHasher::default();
        h.write(b);
        h.finish()
    }

    /// The code of `b` (one of `values`), or `next` after storing it.
    pub(super) fn get_or_insert(&mut self, b: &[u8], values: &[String], next: u32) -> u32 {
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

    pub(super) fn grow(&mut self) {
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
pub(super) struct TextBuilder {
    pub(super) codes: Vec<u32>,
    pub(super) short: ShortMap,
    pub(super) long: LongMap,
    pub(super) values: Vec<String>,
}

impl TextBuilder {
    pub(super) fn with_missing(n: usize) -> Self {
        TextBuilder { codes: vec![MISSING_CODE; n], ..Default::default() }
    }

    /// The code of `b`, adding it to the dictionary if new.
    #[inline]
    pub(super) fn code(&mut self, b: &[u8]) -> Result<u32, GiveUp> {
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
    pub(super) fn push(&mut self, b: &[u8]) -> Result<(), GiveUp> {
        if is_na(b) {
            self.codes.push(MISSING_CODE);
            return Ok(());
        }
        let c = self.code(b)?;
        self.codes.push(c);
        Ok(())
    }

    /// Appends `other`'s rows after this builder's.
    pub(super) fn append(&mut self, other: TextBuilder) {
        // Other's values in its first-seen order: the joined dictionary keeps first-seen order.
        let remap: Vec<u32> =
            other.values.iter().map(|v| self.code(v.as_bytes()).expect("valid UTF-8")).collect();
        self.codes.extend(other.codes.iter().map(|&c| if c == MISSING_CODE { c } else { remap[c as usize] }));
    }

    pub(super) fn finish(self) -> TextColumn {
        TextColumn::from_parts(self.codes, self.values)
    }
}
