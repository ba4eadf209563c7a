//! Just enough of WebVTT (W3C WebVTT, §4) to refuse what is not a subtitle file before it is
//! packaged: the signature line, and cue timings that parse and run forwards. Cue text is
//! passed through as the viewer's player will render it.

/// Whether `bytes` is a WebVTT file with at least one well-formed cue; the reason if not.
pub fn check(bytes: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".to_owned())?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines();
    let first = lines.next().unwrap_or("");
    let after = first
        .strip_prefix("WEBVTT")
        .ok_or("the first line must start with WEBVTT")?;
    if !(after.is_empty() || after.starts_with([' ', '\t'])) {
        return Err(
            "the first line must be WEBVTT, optionally followed by a space and text".into(),
        );
    }
    let mut cues = 0;
    for (n, line) in lines.enumerate() {
        if !line.contains("-->") {
            continue;
        }
        let line_no = n + 2;
        let (start, rest) = line
            .split_once("-->")
            .ok_or_else(|| format!("line {line_no}: a cue timing needs -->"))?;
        let end = rest.split_whitespace().next().unwrap_or("");
        let (start, end) = match (timestamp(start.trim()), timestamp(end)) {
            (Some(s), Some(e)) => (s, e),
            _ => {
                return Err(format!(
                    "line {line_no}: cue times must look like 00:01:02.500"
                ));
            }
        };
        if end < start {
            return Err(format!("line {line_no}: a cue ends before it starts"));
        }
        cues += 1;
    }
    if cues == 0 {
        return Err("it has no cues".into());
    }
    Ok(())
}

/// `[hh:]mm:ss.ttt` in milliseconds.
fn timestamp(s: &str) -> Option<u64> {
    let (clock, millis) = s.split_once('.')?;
    if millis.len() != 3 || !millis.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let parts: Vec<&str> = clock.split(':').collect();
    let number = |p: &str, max: u64| -> Option<u64> {
        (p.len() >= 2 && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse().ok())
            .flatten()
            .filter(|n| *n <= max)
    };
    let (h, m, sec) = match parts.as_slice() {
        [m, sec] => (0, number(m, 59)?, number(sec, 59)?),
        [h, m, sec] => (
            number(h, u64::MAX / 3_600_000)?,
            number(m, 59)?,
            number(sec, 59)?,
        ),
        _ => return None,
    };
    Some(((h * 60 + m) * 60 + sec) * 1000 + millis.parse::<u64>().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_webvtt_with_cues() {
        let ok = "\u{feff}WEBVTT - subtitles\n\nNOTE made by hand\n\n1\n00:00:01.000 --> 00:00:02.500 align:start\nHello\n\n00:03.000 --> 00:04.000\nAgain\n";
        assert_eq!(check(ok.as_bytes()), Ok(()));
    }

    #[test]
    fn refuses_what_is_not() {
        for (bad, why) in [
            ("1\n00:00:01,000 --> 00:00:02,000\nAn SRT file\n", "WEBVTT"),
            ("WEBVTTX\n\n00:01.000 --> 00:02.000\nx\n", "WEBVTT"),
            ("WEBVTT\n\nno cues at all\n", "no cues"),
            ("WEBVTT\n\n00:00:01,000 --> 00:00:02,000\ncomma\n", "line 3"),
            (
                "WEBVTT\n\n00:00:05.000 --> 00:00:02.000\nbackwards\n",
                "ends before",
            ),
            ("WEBVTT\n\n00:61.000 --> 00:62.000\nx\n", "line 3"),
        ] {
            let err = check(bad.as_bytes()).unwrap_err();
            assert!(err.contains(why), "{bad:?}: {err}");
        }
        assert!(check(&[0xff, 0xfe, 0x00]).unwrap_err().contains("UTF-8"));
    }
}
