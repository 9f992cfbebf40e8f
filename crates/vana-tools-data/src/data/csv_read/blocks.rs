//! Input in blocks (in memory, or read from a file into a reused buffer), parsed on one thread
//! or several and joined in order.

#[allow(unused_imports)]
use super::*;

/// Bytes read from a file per block by one thread.
pub(super) const BLOCK: usize = 1 << 20;

/// Bytes per block when several threads parse a file (small blocks keep the per-block columns
/// small, so their memory is reused rather than fresh).
pub(super) const PIPELINE_BLOCK: usize = 256 << 10;

/// Where the CSV bytes come from: memory, or a file.
#[derive(Clone, Copy)]
pub(super) enum Source<'s> {
    Bytes(&'s [u8]),
    File(&'s std::fs::File),
}

/// Reads `f` into `buf[*filled..]` until it is full or the file ends; true at the end.
pub(super) fn fill(f: &mut impl Read, buf: &mut [u8], filled: &mut usize) -> Result<bool, GiveUp> {
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
pub(super) struct Blocks<'s> {
    pub(super) src: Source<'s>,
    pub(super) file: Option<std::fs::File>,
    /// Memory: where the next block starts.
    pub(super) pos: usize,
    /// File: bytes read after the last cut.
    pub(super) tail: Vec<u8>,
    pub(super) block: usize,
    /// Number of the next block.
    pub(super) next: usize,
    pub(super) done: bool,
}

/// A block: a range of the source's bytes in memory, or the first bytes of a reader's buffer.
#[derive(Clone, Copy)]
pub(super) enum Taken {
    Range(usize, usize),
    Buf(usize),
}

/// The bytes of a block.
pub(super) fn block_data<'a>(src: Source<'a>, buf: &'a [u8], taken: Taken) -> &'a [u8] {
    match (taken, src) {
        (Taken::Range(a, b), Source::Bytes(bytes)) => &bytes[a..b],
        (Taken::Buf(n), _) => &buf[..n],
        (Taken::Range(..), Source::File(_)) => unreachable!("file blocks are read into the buffer"),
    }
}

impl<'s> Blocks<'s> {
    pub(super) fn new(src: Source<'s>, start: usize, block: usize) -> Result<Self, GiveUp> {
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
    pub(super) fn take(&mut self, buf: &mut Vec<u8>) -> Result<Option<(Taken, usize, bool)>, GiveUp> {
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
pub(super) fn parse_block(data: &[u8], last: bool, delim: u8, cols: &mut [Col]) -> Result<usize, GiveUp> {
    let p = parse_range(data, 0, data.len(), delim, cols)?;
    if p.by_eof && !last {
        return Err(GiveUp);
    }
    Ok(p.rows)
}

/// Parsed blocks waiting for their turn, and the columns of all blocks joined so far.
pub(super) struct Joined {
    pub(super) next: usize,
    pub(super) waiting: std::collections::BTreeMap<usize, Result<(Vec<Col>, usize), GiveUp>>,
    pub(super) cols: Option<Vec<Col>>,
    pub(super) rows: usize,
    pub(super) failed: bool,
}

/// Parses the source from `start` (a record start) in blocks of about `block` bytes with
/// builders from `init`. On one thread the blocks go straight into one set of columns. On
/// several, each thread takes the next block, parses it into columns of its own, and whoever
/// completes the next block in order appends it (and the blocks after it that are waiting) to
/// the joined columns with [`Col::join`], so the result is that of one pass; at most a few blocks
/// are ahead of the joined ones at a time, so their memory is reused, not fresh.
pub(super) fn parse_blocks(
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
