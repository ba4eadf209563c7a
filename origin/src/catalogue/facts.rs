//! What viewers search and filter a film, a series or an episode by beyond its name: the
//! languages it was made and dubbed in, when it came out, who is in it and who made it. One
//! shape for titles and episodes, checked by one function.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use marquee_packager::language;

/// Most cast names or crew credits one title or episode keeps.
pub const MAX_PEOPLE: usize = 50;
/// Most audio languages one title or episode lists.
pub const MAX_LANGUAGES: usize = 20;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Facts {
    /// The language it was made in: an ISO 639 code (`en`, `ja`; `eng` becomes `en`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_language: Option<String>,
    /// The languages of its audio tracks (the original and its dubs), ISO 639 codes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audio_languages: Vec<String>,
    /// Its first release, `YYYY-MM-DD`. Setting it sets the title's year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_date: Option<String>,
    /// Actors' names, billing order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cast: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub crew: Vec<Credit>,
}

/// One person who made it, and what they did (`Director`, `Writer`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Credit {
    pub name: String,
    pub job: String,
}

impl Facts {
    /// The year of the release date, when there is one.
    pub fn release_year(&self) -> Option<u16> {
        self.release_date
            .as_deref()
            .and_then(|d| d.get(..4)?.parse().ok())
    }

    /// The languages one can watch it in: the original first, then the dubs, each once.
    pub fn spoken_languages(&self) -> Vec<String> {
        let mut out: Vec<String> = self.original_language.iter().cloned().collect();
        for l in &self.audio_languages {
            if !out.contains(l) {
                out.push(l.clone());
            }
        }
        out
    }
}

/// `facts` trimmed and normalised, or what is wrong with it (for a 422).
pub fn checked(facts: Facts) -> Result<Facts, String> {
    let original_language = facts
        .original_language
        .map(|l| language_code(&l))
        .transpose()?;
    if facts.audio_languages.len() > MAX_LANGUAGES {
        return Err(format!("audio_languages: at most {MAX_LANGUAGES}"));
    }
    let mut audio_languages = Vec::new();
    for l in &facts.audio_languages {
        let code = language_code(l)?;
        if !audio_languages.contains(&code) {
            audio_languages.push(code);
        }
    }
    let release_date = facts.release_date.map(|d| release_date(&d)).transpose()?;
    if facts.cast.len() > MAX_PEOPLE || facts.crew.len() > MAX_PEOPLE {
        return Err(format!("cast and crew: at most {MAX_PEOPLE} people each"));
    }
    let cast = facts
        .cast
        .iter()
        .map(|n| person("cast", n, 100))
        .collect::<Result<_, _>>()?;
    let crew = facts
        .crew
        .iter()
        .map(|c| {
            Ok(Credit {
                name: person("crew name", &c.name, 100)?,
                job: person("crew job", &c.job, 40)?,
            })
        })
        .collect::<Result<_, String>>()?;
    Ok(Facts {
        original_language,
        audio_languages,
        release_date,
        cast,
        crew,
    })
}

/// The ISO 639 code `raw` names (`eng` is `en`), or why it is none.
pub fn language_code(raw: &str) -> Result<String, String> {
    let code = language::normalise(raw);
    if code == language::UNDETERMINED || raw.trim().len() > 3 {
        return Err(format!(
            "{raw:?} is not a language: give an ISO 639 code such as en, fr or deu"
        ));
    }
    Ok(code)
}

/// A calendar date `YYYY-MM-DD` between 1870 and 2100 (the years titles may have).
fn release_date(raw: &str) -> Result<String, String> {
    let bad = || format!("release_date {raw:?} must be a date YYYY-MM-DD between 1870 and 2100");
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(raw.trim(), format).map_err(|_| bad())?;
    if !(1870..=2100).contains(&date.year()) {
        return Err(bad());
    }
    date.format(format).map_err(|_| bad())
}

fn person(what: &str, raw: &str, max: usize) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > max || name.chars().any(char::is_control) {
        return Err(format!(
            "{what} {raw:?} must be 1 to {max} characters without control characters"
        ));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts {
            original_language: Some("FRE".into()),
            audio_languages: vec!["fr".into(), "eng".into(), "en".into()],
            release_date: Some(" 1999-03-31 ".into()),
            cast: vec![" Keanu Reeves ".into()],
            crew: vec![Credit {
                name: "Lana Wachowski".into(),
                job: "Director".into(),
            }],
        }
    }

    #[test]
    fn languages_dates_and_names_come_back_normalised() {
        let f = checked(facts()).unwrap();
        assert_eq!(f.original_language.as_deref(), Some("fr"));
        assert_eq!(f.audio_languages, ["fr", "en"]);
        assert_eq!(f.release_date.as_deref(), Some("1999-03-31"));
        assert_eq!(f.release_year(), Some(1999));
        assert_eq!(f.cast, ["Keanu Reeves"]);
        assert_eq!(f.spoken_languages(), ["fr", "en"]);
    }

    #[test]
    fn bad_facts_say_which_field() {
        let with = |change: fn(&mut Facts)| {
            let mut f = facts();
            change(&mut f);
            checked(f).unwrap_err()
        };
        assert!(with(|f| f.original_language = Some("english".into())).contains("language"));
        assert!(with(|f| f.release_date = Some("1999-02-30".into())).contains("release_date"));
        assert!(with(|f| f.release_date = Some("31/03/1999".into())).contains("release_date"));
        assert!(with(|f| f.release_date = Some("1700-01-01".into())).contains("release_date"));
        assert!(with(|f| f.cast = vec![String::new()]).contains("cast"));
        assert!(with(|f| f.cast = vec!["x".into(); 51]).contains("at most"));
        assert!(with(|f| f.crew[0].job = "a\u{7}".into()).contains("crew job"));
    }
}
