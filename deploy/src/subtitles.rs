//! Demo subtitles: WebVTT made up on the spot, one cue every few seconds, in English or
//! French, so the player has something to switch on. The lines are Marquee's own.

use std::fmt::Write;

const LINES: &[(&str, &str)] = &[
    ("Did you hear that?", "Tu as entendu ça ?"),
    ("It's the signal again.", "C'est encore le signal."),
    ("Nobody else is awake.", "Personne d'autre n'est réveillé."),
    ("Write down the time.", "Note l'heure."),
    ("We should tell someone.", "On devrait prévenir quelqu'un."),
    ("Not yet. Listen.", "Pas encore. Écoute."),
    ("It's getting closer.", "Ça se rapproche."),
    ("Hold the light steady.", "Tiens la lumière droite."),
];

/// A WebVTT file in `language` (`en` or `fr`; other languages get English) for a clip of
/// `seconds`: a two-second line every four seconds, the first one naming the title.
pub fn webvtt(title: &str, language: &str, seconds: u32) -> String {
    let french = language == "fr";
    let mut out = String::from("WEBVTT\n");
    let mut n = 0;
    let mut at = 1;
    while at + 2 <= seconds {
        let text = if n == 0 {
            title.to_owned()
        } else {
            let (en, fr) = LINES[(n - 1) % LINES.len()];
            (if french { fr } else { en }).to_owned()
        };
        let _ = write!(out, "\n{} --> {}\n{text}\n", stamp(at), stamp(at + 2));
        n += 1;
        at += 4;
    }
    out
}

fn stamp(secs: u32) -> String {
    format!(
        "{:02}:{:02}:{:02}.000",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cues_fill_the_clip_in_the_language_asked() {
        let en = webvtt("Night Shift", "en", 60);
        assert!(en.starts_with("WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nNight Shift\n"));
        assert!(en.contains("\n00:00:05.000 --> 00:00:07.000\nDid you hear that?\n"));
        assert!(
            en.ends_with(
                "00:00:57.000 --> 00:00:59.000
Not yet. Listen.
"
            ),
            "{en}"
        );
        let fr = webvtt("Night Shift", "fr", 60);
        assert!(fr.contains("Tu as entendu ça ?"));
        assert_eq!(en.matches("-->").count(), fr.matches("-->").count());
    }
}
