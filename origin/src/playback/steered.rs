//! Content steering (ETSI TS 103 998 / DASH-IF for DASH, HLS `EXT-X-CONTENT-STEERING`): a
//! packaged manifest rewritten per viewer so every ranked edge is a pathway, plus the steering
//! server's JSON answer. Pure text work; the handlers are in [`super::manifests`].
//!
//! Packaged manifests name their files relatively. Here each pathway gets absolute URLs on its
//! edge (token included), so a player that loses one edge carries on from the next.

use std::fmt::Write;

use quick_xml::escape::escape as xml_escape;
use serde::Serialize;

/// One edge as a pathway: its id (the pathway id) and the package directory on it, ending in `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pathway {
    pub id: String,
    pub base_url: String,
}

/// HLS allows only these in a PATHWAY-ID; DASH service locations follow suit here.
pub fn is_pathway_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
}

/// The MPD with one MPD-level `<BaseURL serviceLocation>` per pathway and a
/// `<ContentSteering>` naming `steering_uri`, best pathway first. `None` when `mpd` has no
/// `<MPD …>` element to put them in.
pub fn dash(mpd: &str, pathways: &[Pathway], steering_uri: &str) -> Option<String> {
    let open = mpd.find("<MPD")?;
    let end = open + mpd[open..].find('>')? + 1;
    let mut inserted = String::from("\n");
    for p in pathways {
        let _ = writeln!(
            inserted,
            "  <BaseURL serviceLocation=\"{}\">{}</BaseURL>",
            xml_escape(&p.id),
            xml_escape(&p.base_url)
        );
    }
    // Every pathway is a default, in rank order: a player that never reaches the steering
    // server still has somewhere to go when the first edge fails.
    let defaults: Vec<&str> = pathways.iter().map(|p| p.id.as_str()).collect();
    let _ = write!(
        inserted,
        "  <ContentSteering defaultServiceLocation=\"{}\" queryBeforeStart=\"false\">{}</ContentSteering>",
        xml_escape(defaults.join(",")),
        xml_escape(steering_uri)
    );
    let rest = &mpd[end..];
    let rest = rest.strip_prefix('\n').unwrap_or(rest);
    Some(format!("{}{inserted}\n{rest}", &mpd[..end]))
}

/// The quoted attribute `name="…"` of an HLS tag line, as (start of value, end of value).
fn quoted_attr(line: &str, name: &str) -> Option<(usize, usize)> {
    let needle = format!("{name}=\"");
    let mut from = 0;
    while let Some(at) = line[from..].find(&needle) {
        let at = from + at;
        // The attribute must start the list or follow a comma (not end another name).
        if matches!(line.as_bytes().get(at.wrapping_sub(1)), Some(b':' | b',')) {
            let start = at + needle.len();
            let len = line[start..].find('"')?;
            return Some((start, start + len));
        }
        from = at + needle.len();
    }
    None
}

fn replace_attr(line: &str, name: &str, value: impl FnOnce(&str) -> String) -> String {
    match quoted_attr(line, name) {
        Some((start, end)) => format!(
            "{}{}{}",
            &line[..start],
            value(&line[start..end]),
            &line[end..]
        ),
        None => line.to_owned(),
    }
}

fn absolute(base: &str, uri: &str) -> String {
    if uri.contains("://") {
        uri.to_owned()
    } else {
        format!("{base}{uri}")
    }
}

/// The master playlist with `EXT-X-CONTENT-STEERING` and every variant and rendition once per
/// pathway: variants carry `PATHWAY-ID`, each pathway has its own rendition groups (their URIs
/// differ), and every URI is absolute on the pathway's edge.
pub fn hls(master: &str, pathways: &[Pathway], steering_uri: &str) -> String {
    let lines: Vec<&str> = master.lines().collect();
    let body_start = lines
        .iter()
        .position(|l| l.starts_with("#EXT-X-MEDIA:") || l.starts_with("#EXT-X-STREAM-INF:"))
        .unwrap_or(lines.len());
    let mut out = String::new();
    for line in &lines[..body_start] {
        let _ = writeln!(out, "{line}");
    }
    if let Some(first) = pathways.first() {
        let _ = writeln!(
            out,
            "#EXT-X-CONTENT-STEERING:SERVER-URI=\"{steering_uri}\",PATHWAY-ID=\"{}\"",
            first.id
        );
    }
    let group = |name: &str, p: &Pathway| format!("{name}-{}", p.id);
    for p in pathways {
        let mut uri_next = false;
        for line in &lines[body_start..] {
            if uri_next && !line.starts_with('#') && !line.trim().is_empty() {
                let _ = writeln!(out, "{}", absolute(&p.base_url, line.trim()));
                uri_next = false;
            } else if line.starts_with("#EXT-X-MEDIA:") {
                let line = replace_attr(line, "GROUP-ID", |g| group(g, p));
                let line = replace_attr(&line, "URI", |u| absolute(&p.base_url, u));
                let _ = writeln!(out, "{line}");
            } else if line.starts_with("#EXT-X-STREAM-INF:") {
                let line = replace_attr(line, "AUDIO", |g| group(g, p));
                let line = replace_attr(&line, "SUBTITLES", |g| group(g, p));
                let _ = writeln!(out, "{line},PATHWAY-ID=\"{}\"", p.id);
                uri_next = true;
            } else if line.starts_with("#EXT-X-I-FRAME-STREAM-INF:") {
                let line = replace_attr(line, "URI", |u| absolute(&p.base_url, u));
                let _ = writeln!(out, "{line},PATHWAY-ID=\"{}\"", p.id);
            } else {
                let _ = writeln!(out, "{line}");
            }
        }
    }
    out
}

/// The steering server's answer. Shaka reads `PATHWAY-PRIORITY` for DASH too; DASH-IF names
/// it `SERVICE-LOCATION-PRIORITY`, so both are sent.
#[derive(Debug, Serialize, PartialEq)]
pub struct SteeringManifest {
    #[serde(rename = "VERSION")]
    pub version: u32,
    #[serde(rename = "TTL")]
    pub ttl: u32,
    #[serde(rename = "RELOAD-URI")]
    pub reload_uri: String,
    #[serde(rename = "PATHWAY-PRIORITY")]
    pub pathway_priority: Vec<String>,
    #[serde(rename = "SERVICE-LOCATION-PRIORITY")]
    pub service_location_priority: Vec<String>,
}

impl SteeringManifest {
    pub fn new(priority: Vec<String>, ttl: u32, reload_uri: String) -> Self {
        Self {
            version: 1,
            ttl,
            reload_uri,
            service_location_priority: priority.clone(),
            pathway_priority: priority,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pathways() -> Vec<Pathway> {
        ["edge-a", "edge-b"]
            .iter()
            .map(|id| Pathway {
                id: (*id).into(),
                base_url: format!("http://{id}.test:8080/t/TOK/media/t1/j1/"),
            })
            .collect()
    }

    const MPD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" type=\"static\">\n  <Period id=\"0\" start=\"PT0S\">\n  </Period>\n</MPD>\n";

    #[test]
    fn dash_gets_a_base_url_per_edge_and_the_steering_server() {
        let out = dash(MPD, &pathways(), "/api/v1/playback/t/TOK/steering?a=1&b=2").unwrap();
        assert_eq!(
            out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" type=\"static\">\n  <BaseURL serviceLocation=\"edge-a\">http://edge-a.test:8080/t/TOK/media/t1/j1/</BaseURL>\n  <BaseURL serviceLocation=\"edge-b\">http://edge-b.test:8080/t/TOK/media/t1/j1/</BaseURL>\n  <ContentSteering defaultServiceLocation=\"edge-a,edge-b\" queryBeforeStart=\"false\">/api/v1/playback/t/TOK/steering?a=1&amp;b=2</ContentSteering>\n  <Period id=\"0\" start=\"PT0S\">\n  </Period>\n</MPD>\n"
        );
        assert_eq!(dash("not xml", &pathways(), "/s"), None);
    }

    const MASTER: &str = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",NAME=\"English\",LANGUAGE=\"en\",DEFAULT=YES,AUTOSELECT=YES,CHANNELS=\"2\",URI=\"audio/playlist.m3u8\"\n#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"German\",LANGUAGE=\"de\",DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,URI=\"subtitles/de.m3u8\"\n#EXT-X-STREAM-INF:BANDWIDTH=900000,CODECS=\"avc1.64001f,mp4a.40.2\",RESOLUTION=640x360,AUDIO=\"audio\",SUBTITLES=\"subs\"\nvideo/360p/playlist.m3u8\n";

    #[test]
    fn hls_repeats_variants_and_groups_per_pathway_with_absolute_uris() {
        let out = hls(MASTER, &pathways(), "/api/v1/playback/t/TOK/steering");
        let expected = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n\
#EXT-X-CONTENT-STEERING:SERVER-URI=\"/api/v1/playback/t/TOK/steering\",PATHWAY-ID=\"edge-a\"\n\
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio-edge-a\",NAME=\"English\",LANGUAGE=\"en\",DEFAULT=YES,AUTOSELECT=YES,CHANNELS=\"2\",URI=\"http://edge-a.test:8080/t/TOK/media/t1/j1/audio/playlist.m3u8\"\n\
#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs-edge-a\",NAME=\"German\",LANGUAGE=\"de\",DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,URI=\"http://edge-a.test:8080/t/TOK/media/t1/j1/subtitles/de.m3u8\"\n\
#EXT-X-STREAM-INF:BANDWIDTH=900000,CODECS=\"avc1.64001f,mp4a.40.2\",RESOLUTION=640x360,AUDIO=\"audio-edge-a\",SUBTITLES=\"subs-edge-a\",PATHWAY-ID=\"edge-a\"\n\
http://edge-a.test:8080/t/TOK/media/t1/j1/video/360p/playlist.m3u8\n\
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio-edge-b\",NAME=\"English\",LANGUAGE=\"en\",DEFAULT=YES,AUTOSELECT=YES,CHANNELS=\"2\",URI=\"http://edge-b.test:8080/t/TOK/media/t1/j1/audio/playlist.m3u8\"\n\
#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs-edge-b\",NAME=\"German\",LANGUAGE=\"de\",DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,URI=\"http://edge-b.test:8080/t/TOK/media/t1/j1/subtitles/de.m3u8\"\n\
#EXT-X-STREAM-INF:BANDWIDTH=900000,CODECS=\"avc1.64001f,mp4a.40.2\",RESOLUTION=640x360,AUDIO=\"audio-edge-b\",SUBTITLES=\"subs-edge-b\",PATHWAY-ID=\"edge-b\"\n\
http://edge-b.test:8080/t/TOK/media/t1/j1/video/360p/playlist.m3u8\n";
        assert_eq!(out, expected);
    }

    #[test]
    fn attributes_are_matched_whole() {
        // `AUDIO` must not match inside another attribute's name.
        let line = "#EXT-X-STREAM-INF:XAUDIO=\"no\",AUDIO=\"yes\"";
        assert_eq!(
            replace_attr(line, "AUDIO", |v| format!("{v}!")),
            "#EXT-X-STREAM-INF:XAUDIO=\"no\",AUDIO=\"yes!\""
        );
        assert!(is_pathway_id("edge-eu-west-1"));
        assert!(!is_pathway_id("edge a"));
        assert!(!is_pathway_id("e\"dge"));
    }

    #[test]
    fn the_steering_answer_names_the_order_both_ways() {
        let answer = SteeringManifest::new(vec!["b".into(), "a".into()], 30, "/s".into());
        assert_eq!(
            serde_json::to_value(&answer).unwrap(),
            serde_json::json!({"VERSION": 1, "TTL": 30, "RELOAD-URI": "/s",
                "PATHWAY-PRIORITY": ["b", "a"], "SERVICE-LOCATION-PRIORITY": ["b", "a"]})
        );
    }
}
