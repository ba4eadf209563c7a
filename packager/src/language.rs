//! Language tags for audio and subtitle tracks: what sources and uploads say (ISO 639-1 `en`
//! or ISO 639-2 `eng`/`fre`), brought to the BCP 47 form manifests and players use, with a
//! name to show in a track menu.

/// (ISO 639-1, ISO 639-2 codes, English name) of the languages Marquee names; others keep
/// their code, which players still match.
const KNOWN: &[(&str, &[&str], &str)] = &[
    ("en", &["eng"], "English"),
    ("fr", &["fra", "fre"], "French"),
    ("de", &["deu", "ger"], "German"),
    ("es", &["spa"], "Spanish"),
    ("it", &["ita"], "Italian"),
    ("pt", &["por"], "Portuguese"),
    ("nl", &["nld", "dut"], "Dutch"),
    ("sv", &["swe"], "Swedish"),
    ("pl", &["pol"], "Polish"),
    ("ja", &["jpn"], "Japanese"),
    ("ko", &["kor"], "Korean"),
    ("zh", &["zho", "chi"], "Chinese"),
    ("ar", &["ara"], "Arabic"),
    ("hi", &["hin"], "Hindi"),
];

/// "Undetermined" (ISO 639-2), for a track that names no language.
pub const UNDETERMINED: &str = "und";

/// The tag to publish for `raw`: the two-letter code when there is one, else `raw` lowercased
/// if it looks like a language code (2–3 letters), else `und`.
pub fn normalise(raw: &str) -> String {
    let raw = raw.trim().to_ascii_lowercase();
    if let Some((code, _, _)) = KNOWN
        .iter()
        .find(|(code, long, _)| *code == raw || long.contains(&raw.as_str()))
    {
        return (*code).to_owned();
    }
    if (2..=3).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_lowercase()) {
        raw
    } else {
        UNDETERMINED.to_owned()
    }
}

/// A name for a track menu: the language's English name, or its code.
pub fn name(tag: &str) -> String {
    KNOWN
        .iter()
        .find(|(code, _, _)| *code == tag)
        .map_or_else(|| tag.to_owned(), |(_, _, name)| (*name).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_letter_codes_become_two_and_unknown_stays_readable() {
        assert_eq!(normalise("eng"), "en");
        assert_eq!(normalise("FRE"), "fr");
        assert_eq!(normalise("fr"), "fr");
        assert_eq!(normalise("tlh"), "tlh");
        assert_eq!(normalise(""), "und");
        assert_eq!(normalise("english"), "und");
        assert_eq!(name("de"), "German");
        assert_eq!(name("tlh"), "tlh");
    }
}
