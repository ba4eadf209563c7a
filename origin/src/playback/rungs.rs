//! A plan's top resolution in the manifests a viewer gets: video rungs taller than the
//! token's `max_height` are left out, so a player never asks for what the edge would refuse.

use quick_xml::Reader;
use quick_xml::Writer;
use quick_xml::events::{BytesStart, Event};

/// The MPD without `<Representation>`s taller than `max_height`.
pub fn dash_within(mpd: &str, max_height: u32) -> Result<String, quick_xml::Error> {
    let mut reader = Reader::from_str(mpd);
    let mut writer = Writer::new(Vec::with_capacity(mpd.len()));
    loop {
        match reader.read_event()? {
            Event::Eof => break,
            Event::Start(e) if too_tall(&e, max_height) => {
                let end = e.to_end().into_owned();
                reader.read_to_end(end.name())?;
            }
            Event::Empty(e) if too_tall(&e, max_height) => {}
            event => writer.write_event(event)?,
        }
    }
    Ok(String::from_utf8_lossy(&writer.into_inner()).into_owned())
}

fn too_tall(e: &BytesStart<'_>, max_height: u32) -> bool {
    e.name().as_ref() == b"Representation"
        && e.try_get_attribute("height")
            .ok()
            .flatten()
            .and_then(|a| std::str::from_utf8(&a.value).ok()?.parse::<u32>().ok())
            .is_some_and(|h| h > max_height)
}

/// The HLS master playlist without variants taller than `max_height` (each
/// `#EXT-X-STREAM-INF` line goes with the URI line after it).
pub fn hls_within(master: &str, max_height: u32) -> String {
    let mut out = String::with_capacity(master.len());
    let mut skip_uri = false;
    for line in master.lines() {
        if skip_uri && !line.starts_with('#') && !line.trim().is_empty() {
            skip_uri = false;
            continue;
        }
        let variant = line.starts_with("#EXT-X-STREAM-INF:");
        let iframe = line.starts_with("#EXT-X-I-FRAME-STREAM-INF:");
        if (variant || iframe) && resolution_height(line).is_some_and(|h| h > max_height) {
            skip_uri = variant;
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// `RESOLUTION=1280x720` → 720.
fn resolution_height(line: &str) -> Option<u32> {
    let at = line.find("RESOLUTION=")? + "RESOLUTION=".len();
    let value = line[at..].split(',').next()?;
    value.split_once('x')?.1.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MPD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static">
  <Period id="0">
    <AdaptationSet contentType="video" mimeType="video/mp4">
      <Representation id="1080p" codecs="avc1.640028" bandwidth="6000000" width="1920" height="1080" sar="1:1">
        <SegmentTemplate media="video/1080p/seg-$Number$.m4s" initialization="video/1080p/init.mp4"/>
      </Representation>
      <Representation id="720p" codecs="avc1.64001f" bandwidth="3000000" width="1280" height="720" sar="1:1">
        <SegmentTemplate media="video/720p/seg-$Number$.m4s" initialization="video/720p/init.mp4"/>
      </Representation>
    </AdaptationSet>
    <AdaptationSet contentType="audio" mimeType="audio/mp4">
      <Representation id="audio" codecs="mp4a.40.2" bandwidth="128000" audioSamplingRate="48000"/>
    </AdaptationSet>
  </Period>
</MPD>
"#;

    #[test]
    fn taller_representations_leave_the_mpd_and_the_rest_stays_as_it_was() {
        let capped = dash_within(MPD, 720).unwrap();
        assert!(!capped.contains("1080p"), "{capped}");
        assert!(capped.contains(r#"<Representation id="720p""#), "{capped}");
        assert!(
            capped.contains(r#"id="audio""#),
            "audio has no height: {capped}"
        );
        assert!(capped.contains(r#"<MPD xmlns="urn:mpeg:dash:schema:mpd:2011""#));
        assert_eq!(
            dash_within(MPD, 1080).unwrap(),
            MPD,
            "nothing to cut: unchanged"
        );
    }

    #[test]
    fn taller_variants_leave_the_master_playlist_with_their_uris() {
        let master = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",URI=\"audio/en/playlist.m3u8\"\n\
#EXT-X-STREAM-INF:BANDWIDTH=6128000,CODECS=\"avc1.640028,mp4a.40.2\",RESOLUTION=1920x1080,AUDIO=\"audio\"\nvideo/1080p/playlist.m3u8\n\
#EXT-X-STREAM-INF:BANDWIDTH=3128000,CODECS=\"avc1.64001f,mp4a.40.2\",RESOLUTION=1280x720,AUDIO=\"audio\"\nvideo/720p/playlist.m3u8\n";
        let capped = hls_within(master, 720);
        assert!(!capped.contains("1080"), "{capped}");
        assert!(capped.contains("video/720p/playlist.m3u8"));
        assert!(capped.contains("audio/en/playlist.m3u8"));
        assert_eq!(hls_within(master, 2160), master);
    }
}
