//! Routing evaluation: a labelled set of requests (`eval/routing.yaml`), the router's accuracy
//! on it, a confusion matrix and latencies, printable as a report.

use crate::error::{io_err, RouterError};
use crate::router::Router;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;
use std::time::Duration;

/// One labelled request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct EvalCase {
    /// What the user wrote.
    pub request: String,
    /// The agent that should handle it.
    pub agent: String,
}

/// A routing evaluation set, in YAML:
///
/// ```yaml
/// cases:
///   - request: "plot the revenue per month from sales.csv"
///     agent: data_science
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct EvalSet {
    /// The labelled requests.
    pub cases: Vec<EvalCase>,
}

impl EvalSet {
    /// Reads an evaluation set file.
    pub fn load(path: &Path) -> Result<EvalSet, RouterError> {
        let text = std::fs::read_to_string(path).map_err(io_err(path))?;
        serde_yaml::from_str(&text).map_err(|source| RouterError::Yaml { path: path.to_path_buf(), source })
    }

    /// Parses an evaluation set from YAML text.
    pub fn from_yaml(text: &str) -> Result<EvalSet, serde_yaml::Error> {
        serde_yaml::from_str(text)
    }

    /// The distinct expected agents.
    pub fn agents(&self) -> BTreeSet<&str> {
        self.cases.iter().map(|c| c.agent.as_str()).collect()
    }
}

/// A request routed to the wrong agent.
#[derive(Debug, Clone, PartialEq)]
pub struct Miss {
    /// The request.
    pub request: String,
    /// The agent it should have gone to.
    pub expected: String,
    /// The agent it went to (the fallback when the router was not confident).
    pub got: String,
    /// The best agent's score.
    pub score: f32,
}

/// Results of [`evaluate`].
#[derive(Debug, Clone, PartialEq)]
pub struct EvalReport {
    /// Number of requests.
    pub total: usize,
    /// Requests routed to the expected agent.
    pub correct: usize,
    /// `correct / total` (0 for an empty set).
    pub accuracy: f64,
    /// `(expected, got)` → number of requests; `got` is the decision's target, so requests below
    /// the threshold count as going to the fallback agent.
    pub confusion: BTreeMap<(String, String), usize>,
    /// Per expected agent: fraction of its requests routed to it.
    pub recall: BTreeMap<String, f64>,
    /// Requests whose best score was below the threshold.
    pub low_confidence: usize,
    /// The router's threshold during the run.
    pub threshold: f32,
    /// The router's fallback agent during the run.
    pub fallback: String,
    /// Mean time per routing decision.
    pub mean_latency: Duration,
    /// Median time per routing decision.
    pub p50_latency: Duration,
    /// 95th percentile of the time per routing decision.
    pub p95_latency: Duration,
    /// The wrongly routed requests, in set order.
    pub misses: Vec<Miss>,
}

/// Routes every case of `set` with `router` (after one warm-up request) and scores the result.
pub fn evaluate(router: &Router, set: &EvalSet) -> EvalReport {
    if let Some(first) = set.cases.first() {
        router.route(&first.request);
    }
    let mut confusion = BTreeMap::new();
    let mut per_agent: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut latencies = Vec::with_capacity(set.cases.len());
    let (mut correct, mut low_confidence, mut misses) = (0, 0, Vec::new());
    for case in &set.cases {
        let decision = router.route(&case.request);
        latencies.push(decision.elapsed);
        low_confidence += usize::from(!decision.confident);
        *confusion.entry((case.agent.clone(), decision.target.clone())).or_insert(0) += 1;
        let counts = per_agent.entry(case.agent.clone()).or_default();
        counts.1 += 1;
        if decision.target == case.agent {
            correct += 1;
            counts.0 += 1;
        } else {
            misses.push(Miss {
                request: case.request.clone(),
                expected: case.agent.clone(),
                got: decision.target,
                score: decision.score,
            });
        }
    }
    let total = set.cases.len();
    let mean_latency = latencies.iter().sum::<Duration>().checked_div(total as u32).unwrap_or_default();
    latencies.sort();
    EvalReport {
        total,
        correct,
        accuracy: if total == 0 { 0.0 } else { correct as f64 / total as f64 },
        confusion,
        recall: per_agent.into_iter().map(|(a, (ok, n))| (a, ok as f64 / n as f64)).collect(),
        low_confidence,
        threshold: router.threshold(),
        fallback: router.fallback().to_string(),
        mean_latency,
        p50_latency: percentile(&latencies, 0.50),
        p95_latency: percentile(&latencies, 0.95),
        misses,
    }
}

/// Nearest-rank percentile of sorted durations (zero when empty).
pub fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Short, unique labels for agent names: initials of multi-word names (`data_science` → `ds`),
/// the first three letters of single words (`research` → `res`), lengthened on collision.
pub fn abbreviations<'a>(names: impl IntoIterator<Item = &'a str>) -> BTreeMap<String, String> {
    let names: BTreeSet<&str> = names.into_iter().collect();
    let mut taken = BTreeSet::new();
    let mut out = BTreeMap::new();
    for name in names {
        let words: Vec<&str> = name.split(['_', '-', ' ']).filter(|w| !w.is_empty()).collect();
        let base: String = if words.len() > 1 {
            words.iter().filter_map(|w| w.chars().next()).collect()
        } else {
            name.chars().take(3).collect()
        };
        let mut label = base.clone();
        let mut extra = name.chars().filter(|c| c.is_alphanumeric()).skip(base.chars().count());
        while taken.contains(&label) {
            match extra.next() {
                Some(c) => label.push(c),
                None => label.push('\''),
            }
        }
        taken.insert(label.clone());
        out.insert(name.to_string(), label);
    }
    out
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "routing accuracy: {}/{} = {:.1}%  ({} below the confidence threshold {:.2}, sent to {})",
            self.correct,
            self.total,
            self.accuracy * 100.0,
            self.low_confidence,
            self.threshold,
            self.fallback
        )?;
        writeln!(
            f,
            "latency per decision: mean {:.2} ms, p50 {:.2} ms, p95 {:.2} ms",
            ms(self.mean_latency),
            ms(self.p50_latency),
            ms(self.p95_latency)
        )?;
        let expected: BTreeSet<&str> = self.confusion.keys().map(|(e, _)| e.as_str()).collect();
        let predicted: BTreeSet<&str> = self.confusion.keys().map(|(_, g)| g.as_str()).collect();
        let abbr = abbreviations(expected.iter().chain(&predicted).copied());
        let name_width = abbr.keys().map(|n| n.len()).max().unwrap_or(0);
        writeln!(f, "\nrecall per agent:")?;
        for (agent, recall) in &self.recall {
            let n: usize = self.confusion.iter().filter(|((e, _), _)| e == agent).map(|(_, n)| n).sum();
            let ok = self.confusion.get(&(agent.clone(), agent.clone())).copied().unwrap_or(0);
            writeln!(
                f,
                "  {:<4} {agent:<name_width$}  {ok:>3}/{n:<3} {:>6.1}%",
                abbr[agent],
                recall * 100.0
            )?;
        }
        let columns: Vec<&str> = abbr.keys().map(String::as_str).filter(|n| predicted.contains(n)).collect();
        let width = columns.iter().map(|c| abbr[*c].len()).max().unwrap_or(1).max(3) + 1;
        writeln!(f, "\nconfusion matrix (rows: expected, columns: predicted):")?;
        write!(f, "  {:<4}", "")?;
        for c in &columns {
            write!(f, "{:>width$}", abbr[*c])?;
        }
        writeln!(f)?;
        for row in &expected {
            write!(f, "  {:<4}", abbr[*row])?;
            for col in &columns {
                match self.confusion.get(&(row.to_string(), col.to_string())) {
                    Some(n) => write!(f, "{n:>width$}")?,
                    None => write!(f, "{:>width$}", ".")?,
                }
            }
            writeln!(f)?;
        }
        if !self.misses.is_empty() {
            writeln!(f, "\nmisses (expected -> got, best score):")?;
            for m in &self.misses {
                writeln!(f, "  {} -> {} ({:.2}): {}", m.expected, m.got, m.score, m.request)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abbreviations_are_short_and_unique() {
        let a = abbreviations(["data_science", "database", "devops", "design", "vana", "nlp"]);
        assert_eq!(a["data_science"], "ds");
        assert_eq!(a["database"], "dat");
        assert_eq!(a["devops"], "dev");
        assert_eq!(a["design"], "des");
        assert_eq!(a["vana"], "van");
        let b = abbreviations(["dev", "devo", "devops"]);
        let unique: BTreeSet<_> = b.values().collect();
        assert_eq!(unique.len(), 3, "{b:?}");
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let d: Vec<Duration> = (1..=20).map(Duration::from_millis).collect();
        assert_eq!(percentile(&d, 0.5), Duration::from_millis(10));
        assert_eq!(percentile(&d, 0.95), Duration::from_millis(19));
        assert_eq!(percentile(&[], 0.5), Duration::ZERO);
    }

    #[test]
    fn parses_the_yaml_format() {
        let set = EvalSet::from_yaml("cases:\n  - request: hi there\n    agent: vana\n").unwrap();
        assert_eq!(set.cases, [EvalCase { request: "hi there".into(), agent: "vana".into() }]);
    }
}
