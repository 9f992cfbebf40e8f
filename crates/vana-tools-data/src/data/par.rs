//! A small scoped work queue: runs independent tasks on the machine's cores.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Number of threads worth using on this machine.
pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// `f(0), f(1), ..., f(n - 1)` on up to `threads` threads (tasks are taken in index order, so
/// put the longest first); the results in index order.
pub(crate) fn map<T: Send>(n: usize, threads: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let threads = threads.min(n).max(1);
    if threads == 1 {
        return (0..n).map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= n {
                return done;
            }
            done.push((i, f(i)));
        }
    };
    let mut all: Vec<(usize, T)> = std::thread::scope(|s| {
        let handles: Vec<_> = (1..threads).map(|_| s.spawn(work)).collect();
        let mut all = work();
        for h in handles {
            all.extend(h.join().expect("a worker thread panicked"));
        }
        all
    });
    all.sort_unstable_by_key(|e| e.0);
    all.into_iter().map(|e| e.1).collect()
}
