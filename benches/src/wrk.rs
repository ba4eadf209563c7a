//! Parsing `wrk --latency` output into numbers (pure, unit-tested against real wrk 4.1 output).

/// Why wrk's output could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WrkParseError {
    #[error("wrk output has no {0:?} line")]
    Missing(&'static str),
    #[error("cannot read {what} value {value:?}")]
    BadValue { what: &'static str, value: String },
}

/// One wrk run's results.
#[derive(Debug, Clone, PartialEq)]
pub struct WrkResult {
    pub requests_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Bytes per second (wrk prints binary units: 1 MB = 2^20 bytes).
    pub transfer_bytes_per_sec: f64,
    pub requests: u64,
    /// Non-2xx/3xx answers; a clean run has none.
    pub non_success: u64,
    /// Sum of connect, read, write and timeout socket errors.
    pub socket_errors: u64,
}

impl WrkResult {
    pub fn transfer_mib_per_sec(&self) -> f64 {
        self.transfer_bytes_per_sec / (1024.0 * 1024.0)
    }
}

pub fn parse(output: &str) -> Result<WrkResult, WrkParseError> {
    let rps = value_after(output, "Requests/sec:")?;
    let transfer = value_after(output, "Transfer/sec:")?;
    Ok(WrkResult {
        requests_per_sec: number(rps, "Requests/sec")?,
        p50_ms: latency_ms(percentile(output, "50%")?)?,
        p99_ms: latency_ms(percentile(output, "99%")?)?,
        transfer_bytes_per_sec: bytes(transfer)?,
        requests: total_requests(output)?,
        non_success: non_success(output)?,
        socket_errors: socket_errors(output)?,
    })
}

fn value_after<'a>(output: &'a str, label: &'static str) -> Result<&'a str, WrkParseError> {
    output
        .lines()
        .find_map(|l| l.trim().strip_prefix(label))
        .map(str::trim)
        .ok_or(WrkParseError::Missing(label))
}

/// The value of a line like `     99%    2.31ms` in the "Latency Distribution" block.
fn percentile<'a>(output: &'a str, label: &'static str) -> Result<&'a str, WrkParseError> {
    output
        .lines()
        .skip_while(|l| !l.contains("Latency Distribution"))
        .find_map(|l| l.trim().strip_prefix(label))
        .map(str::trim)
        .ok_or(WrkParseError::Missing(label))
}

fn number(s: &str, what: &'static str) -> Result<f64, WrkParseError> {
    s.parse::<f64>().map_err(|_| WrkParseError::BadValue {
        what,
        value: s.to_owned(),
    })
}

/// wrk's time units: us, ms, s, m, h.
fn latency_ms(s: &str) -> Result<f64, WrkParseError> {
    let bad = || WrkParseError::BadValue {
        what: "latency",
        value: s.to_owned(),
    };
    let split = s.find(|c: char| c.is_ascii_alphabetic()).ok_or_else(bad)?;
    let (n, unit) = s.split_at(split);
    let n: f64 = n.parse().map_err(|_| bad())?;
    let factor = match unit {
        "us" => 0.001,
        "ms" => 1.0,
        "s" => 1_000.0,
        "m" => 60_000.0,
        "h" => 3_600_000.0,
        _ => return Err(bad()),
    };
    Ok(n * factor)
}

/// wrk's byte units: B, KB, MB, GB, TB (powers of 1024).
fn bytes(s: &str) -> Result<f64, WrkParseError> {
    let bad = || WrkParseError::BadValue {
        what: "transfer",
        value: s.to_owned(),
    };
    let split = s.find(|c: char| c.is_ascii_alphabetic()).ok_or_else(bad)?;
    let (n, unit) = s.split_at(split);
    let n: f64 = n.parse().map_err(|_| bad())?;
    let power = match unit {
        "B" => 0,
        "KB" => 1,
        "MB" => 2,
        "GB" => 3,
        "TB" => 4,
        _ => return Err(bad()),
    };
    Ok(n * 1024f64.powi(power))
}

/// `  123456 requests in 10.00s, 9.50GB read`
fn total_requests(output: &str) -> Result<u64, WrkParseError> {
    let line = output
        .lines()
        .find(|l| l.contains(" requests in "))
        .ok_or(WrkParseError::Missing("requests in"))?;
    let n = line.split_whitespace().next().unwrap_or_default();
    n.parse().map_err(|_| WrkParseError::BadValue {
        what: "request count",
        value: n.to_owned(),
    })
}

/// `  Non-2xx or 3xx responses: 12` (absent when all succeeded).
fn non_success(output: &str) -> Result<u64, WrkParseError> {
    match value_after(output, "Non-2xx or 3xx responses:") {
        Ok(v) => number(v, "Non-2xx count").map(|n| n as u64),
        Err(_) => Ok(0),
    }
}

/// `  Socket errors: connect 0, read 3, write 0, timeout 1` (absent when none).
fn socket_errors(output: &str) -> Result<u64, WrkParseError> {
    let Ok(rest) = value_after(output, "Socket errors:") else {
        return Ok(0);
    };
    rest.split(',')
        .map(|part| {
            let n = part.split_whitespace().last().unwrap_or_default();
            n.parse::<u64>().map_err(|_| WrkParseError::BadValue {
                what: "socket errors",
                value: part.to_owned(),
            })
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLEAN: &str = "Running 10s test @ http://127.0.0.1:40001/media/bench/seg-1.m4s
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.01ms    2.10ms  40.12ms   80.00%
    Req/Sec     3.20k   210.55     3.90k    70.50%
  Latency Distribution
     50%    4.70ms
     75%    6.01ms
     90%    7.80ms
     99%   12.34ms
  63871 requests in 10.00s, 47.29GB read
Requests/sec:   6385.44
Transfer/sec:      4.73GB
";

    #[test]
    fn parses_a_clean_run() {
        let r = parse(CLEAN).expect("parses");
        assert_eq!(r.requests_per_sec, 6385.44);
        assert_eq!(r.p50_ms, 4.70);
        assert_eq!(r.p99_ms, 12.34);
        assert_eq!(r.transfer_bytes_per_sec, 4.73 * 1024.0 * 1024.0 * 1024.0);
        assert_eq!(r.requests, 63871);
        assert_eq!(r.non_success, 0);
        assert_eq!(r.socket_errors, 0);
    }

    #[test]
    fn parses_errors_and_other_units() {
        let out = CLEAN
            .replace("12.34ms", "812.00us")
            .replace("4.73GB", "512.50MB")
            .replace(
                "Requests/sec:",
                "  Socket errors: connect 0, read 3, write 0, timeout 2\n  Non-2xx or 3xx responses: 17\nRequests/sec:",
            );
        let r = parse(&out).expect("parses");
        assert!((r.p99_ms - 0.812).abs() < 1e-9);
        assert_eq!(r.transfer_mib_per_sec(), 512.5);
        assert_eq!(r.non_success, 17);
        assert_eq!(r.socket_errors, 5);
    }

    #[test]
    fn seconds_latency_is_converted() {
        assert_eq!(latency_ms("1.50s"), Ok(1500.0));
        assert!(latency_ms("3.0parsecs").is_err());
    }

    #[test]
    fn missing_lines_are_named() {
        assert_eq!(
            parse("unable to connect to 127.0.0.1:1 Connection refused"),
            Err(WrkParseError::Missing("Requests/sec:"))
        );
        let no_latency = CLEAN.replace("Latency Distribution", "");
        assert_eq!(parse(&no_latency), Err(WrkParseError::Missing("50%")));
    }
}
