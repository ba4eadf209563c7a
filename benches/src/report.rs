//! The results table: per round, median, and the edge/nginx ratio (pure formatting).

use std::fmt::Write;

use crate::wrk::WrkResult;

/// One measured target in one round.
#[derive(Debug, Clone)]
pub struct Sample {
    pub round: usize,
    pub target: &'static str,
    pub result: WrkResult,
}

/// Median of the values (mean of the middle two for an even count); `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len().is_multiple_of(2) {
        (v[mid - 1] + v[mid]) / 2.0
    } else {
        v[mid]
    })
}

/// The 99th percentile (nearest rank) of the values; `None` when empty.
pub fn p99(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let rank = ((values.len() as f64) * 0.99).ceil() as usize;
    Some(values[rank.clamp(1, values.len()) - 1])
}

/// Whether side A goes first in `round` of an A/B comparison: the order flips every round so
/// neither side always runs on a warmer machine.
pub fn ab_order(round: usize) -> [bool; 2] {
    if round.is_multiple_of(2) {
        [true, false]
    } else {
        [false, true]
    }
}

/// Medians of one target: (requests/s, p99 ms, transfer MiB/s).
pub fn medians(samples: &[Sample], target: &str) -> Option<(f64, f64, f64)> {
    let of = |f: fn(&WrkResult) -> f64| {
        let values: Vec<f64> = samples
            .iter()
            .filter(|s| s.target == target)
            .map(|s| f(&s.result))
            .collect();
        median(&values)
    };
    Some((
        of(|r| r.requests_per_sec)?,
        of(|r| r.p99_ms)?,
        of(WrkResult::transfer_mib_per_sec)?,
    ))
}

fn row(out: &mut String, round: &str, target: &str, rps: f64, p99: f64, mib: f64) {
    let _ = writeln!(
        out,
        "{round:<8} {target:<6} {rps:>12.0} {p99:>10.2} {mib:>14.1}"
    );
}

/// Renders the table for `targets` (e.g. `["edge", "nginx"]`). The ratio line appears when
/// both `edge` and `nginx` have samples.
pub fn table(samples: &[Sample], targets: &[&str]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<8} {:<6} {:>12} {:>10} {:>14}",
        "round", "target", "requests/s", "p99 ms", "transfer MiB/s"
    );
    for s in samples {
        let r = &s.result;
        row(
            &mut out,
            &s.round.to_string(),
            s.target,
            r.requests_per_sec,
            r.p99_ms,
            r.transfer_mib_per_sec(),
        );
    }
    for target in targets {
        if let Some((rps, p99, mib)) = medians(samples, target) {
            row(&mut out, "median", target, rps, p99, mib);
        }
    }
    if let (Some(e), Some(n)) = (medians(samples, "edge"), medians(samples, "nginx")) {
        let _ = writeln!(
            out,
            "{:<15} {:>11.2}x {:>9.2}x {:>13.2}x",
            "edge/nginx",
            e.0 / n.0,
            e.1 / n.1,
            e.2 / n.2
        );
        out.push_str(
            "(ratio > 1: edge serves more requests and bytes per second; p99 ratio < 1: edge \
             answers faster)\n",
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p99_is_the_nearest_rank_and_ab_order_alternates() {
        let values: Vec<f64> = (1..=200).map(f64::from).rev().collect();
        assert_eq!(p99(values), Some(198.0));
        assert_eq!(p99(vec![5.0]), Some(5.0));
        assert_eq!(p99(Vec::new()), None);
        assert_eq!(ab_order(0), [true, false]);
        assert_eq!(ab_order(1), [false, true]);
        assert_eq!(ab_order(2), [true, false]);
    }

    fn sample(round: usize, target: &'static str, rps: f64, p99: f64, mib: f64) -> Sample {
        Sample {
            round,
            target,
            result: WrkResult {
                requests_per_sec: rps,
                p50_ms: 1.0,
                p99_ms: p99,
                transfer_bytes_per_sec: mib * 1024.0 * 1024.0,
                requests: 1,
                non_success: 0,
                socket_errors: 0,
            },
        }
    }

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn table_has_rounds_medians_and_ratio() {
        let samples = vec![
            sample(1, "edge", 1000.0, 4.0, 800.0),
            sample(1, "nginx", 500.0, 8.0, 400.0),
            sample(2, "nginx", 700.0, 6.0, 560.0),
            sample(2, "edge", 1200.0, 3.0, 960.0),
            sample(3, "edge", 1100.0, 5.0, 880.0),
            sample(3, "nginx", 550.0, 10.0, 440.0),
        ];
        let t = table(&samples, &["edge", "nginx"]);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 1 + 6 + 2 + 2);
        assert_eq!(
            lines[7],
            "median   edge           1100       4.00          880.0"
        );
        assert_eq!(
            lines[8],
            "median   nginx           550       8.00          440.0"
        );
        assert_eq!(
            lines[9],
            "edge/nginx             2.00x      0.50x          2.00x"
        );
    }

    #[test]
    fn no_ratio_without_both_targets() {
        let t = table(&[sample(1, "nginx", 1.0, 1.0, 1.0)], &["nginx"]);
        assert!(!t.contains("edge/nginx"));
    }
}
