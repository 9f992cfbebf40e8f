//! One column under construction, with pandas-like type inference (numbers, else booleans,
//! else text) and the joining of per-block columns.

#[allow(unused_imports)]
use super::*;

/// One column under construction; the states and transitions are pandas-like type inference:
/// numbers, else booleans, else text; a column that sees text after numbers or booleans (or
/// numbers after booleans) is re-read as text.
pub(super) enum Col {
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
    pub(super) fn push(&mut self, b: &[u8]) -> Result<(), GiveUp> {
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
    pub(super) fn join(self, next: Col) -> Col {
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

pub(super) fn prepend<T: Copy>(mut head: Vec<T>, tail: Vec<T>) -> Vec<T> {
    head.extend_from_slice(&tail);
    head
}
