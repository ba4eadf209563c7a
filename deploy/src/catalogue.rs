//! The demo catalogue `marquee up` seeds on first run. Every name and summary here is
//! original to Marquee; the pictures and sounds are generated (see `poster` and `video`).

/// The moving picture behind a demo clip: one of ffmpeg's lavfi sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    TestSrc2,
    Mandelbrot,
    Life,
    CellAuto,
    Gradients,
    SmpteHdBars,
}

impl Pattern {
    pub const ALL: [Pattern; 6] = [
        Pattern::TestSrc2,
        Pattern::Mandelbrot,
        Pattern::Life,
        Pattern::CellAuto,
        Pattern::Gradients,
        Pattern::SmpteHdBars,
    ];
}

/// How a title's demo video is generated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VideoRecipe {
    pub pattern: Pattern,
    /// Pitch of the sine tone on the audio track, in Hz.
    pub tone_hz: u32,
    /// A second audio track (a "French dub" at this pitch): the English track is tagged `eng`,
    /// the dub `fre`.
    pub dub_tone_hz: Option<u32>,
}

#[derive(Debug, Clone, Copy)]
pub struct DemoTitle {
    pub name: &'static str,
    pub synopsis: &'static str,
    pub year: u16,
    pub genres: &'static [&'static str],
    pub maturity_rating: &'static str,
    pub kind: &'static str,
    pub video: VideoRecipe,
    pub facts: DemoFacts,
}

/// What viewers search and filter a demo title by beyond its name (made-up people).
#[derive(Debug, Clone, Copy)]
pub struct DemoFacts {
    pub original_language: &'static str,
    pub audio: &'static [&'static str],
    /// `YYYY-MM-DD`, in the title's year.
    pub release_date: &'static str,
    pub cast: &'static [&'static str],
    /// (name, job).
    pub crew: &'static [(&'static str, &'static str)],
}

impl DemoFacts {
    /// As origin's API takes them.
    pub fn to_json(&self) -> serde_json::Value {
        let crew: Vec<_> = self
            .crew
            .iter()
            .map(|(name, job)| serde_json::json!({ "name": name, "job": job }))
            .collect();
        serde_json::json!({
            "original_language": self.original_language,
            "audio_languages": self.audio,
            "release_date": self.release_date,
            "cast": self.cast,
            "crew": crew,
        })
    }
}

impl DemoTitle {
    /// A file-name-safe form of the name, used for the cached clip.
    pub fn slug(&self) -> String {
        let mut slug = String::new();
        for c in self.name.chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c.to_ascii_lowercase());
            } else if !slug.ends_with('-') && !slug.is_empty() {
                slug.push('-');
            }
        }
        slug.trim_end_matches('-').to_string()
    }
}

/// Genres the browse page shows as rows; every demo title uses only these.
pub const GENRES: [&str; 6] = [
    "Drama",
    "Comedy",
    "Sci-Fi",
    "Thriller",
    "Documentary",
    "Animation",
];

/// Ratings the origin's API documents (docs/interfaces.md).
pub const RATINGS: [&str; 5] = ["G", "PG", "PG-13", "R", "TV-MA"];

const fn recipe(pattern: Pattern, tone_hz: u32) -> VideoRecipe {
    VideoRecipe {
        pattern,
        tone_hz,
        dub_tone_hz: None,
    }
}

pub const DEMO_TITLES: &[DemoTitle] = &[
    DemoTitle {
        name: "The Lantern Keepers of Vell",
        synopsis: "In a fishing town whose lighthouse went dark a century ago, two sisters inherit the job of lighting paper lanterns along the cliffs each night. When a stranger's boat follows their lights into the harbour, the town has to decide what it owes to the people the sea brings in.",
        year: 2019,
        genres: &["Drama", "Animation"],
        maturity_rating: "PG",
        kind: "film",
        video: recipe(Pattern::Gradients, 330),
        facts: DemoFacts {
            original_language: "fr",
            audio: &["fr", "en"],
            release_date: "2019-05-10",
            cast: &["Mira Castell", "Ines Okafor", "Tomas Reyne"],
            crew: &[("Hanne Vold", "Director"), ("Pauline Arceneaux", "Writer")],
        },
    },
    DemoTitle {
        name: "Orbit of Small Hours",
        synopsis: "A night-shift engineer aboard a cargo station notices that the station clock loses eleven seconds every day. Her search for the missing time turns up a crew member nobody remembers hiring and a log of messages sent to a planet that no longer answers.",
        year: 2023,
        genres: &["Sci-Fi", "Drama"],
        maturity_rating: "PG-13",
        kind: "series",
        video: recipe(Pattern::Mandelbrot, 220),
        facts: DemoFacts {
            original_language: "en",
            audio: &["en"],
            release_date: "2023-02-17",
            cast: &["Dana Kirei", "Luc Ferrand", "Priya Sandhu"],
            crew: &[("Ada Lindqvist", "Director")],
        },
    },
    DemoTitle {
        name: "Pickles & Parliament",
        synopsis: "A retired chess teacher becomes mayor of a village of four hundred people after a clerical error swaps two ballots. She has one year to fix the bridge, settle the pickle-contest feud and find out where the council keeps the keys.",
        year: 2021,
        genres: &["Comedy"],
        maturity_rating: "PG",
        kind: "series",
        video: recipe(Pattern::SmpteHdBars, 523),
        facts: DemoFacts {
            original_language: "en",
            audio: &["en"],
            release_date: "2021-09-03",
            cast: &["Rosalind Pemberton", "Arthur Quayle"],
            crew: &[("Graham Whitlock", "Director")],
        },
    },
    DemoTitle {
        name: "The Quiet Ledger",
        synopsis: "An auditor at a shipping firm finds a column of numbers that balances too perfectly. The deeper she reads, the more her colleagues forget her name in meetings, until the firm's founder invites her to a dinner she cannot refuse.",
        year: 2017,
        genres: &["Thriller", "Drama"],
        maturity_rating: "R",
        kind: "film",
        video: recipe(Pattern::CellAuto, 196),
        facts: DemoFacts {
            original_language: "en",
            audio: &["en"],
            release_date: "2017-11-24",
            cast: &["Sofia Marchetti", "Elliot Crane"],
            crew: &[("Naomi Hartley", "Director"), ("Victor Anselm", "Writer")],
        },
    },
    DemoTitle {
        name: "Saltgrass",
        synopsis: "A year on a tidal marsh, filmed from the mud up: wading birds, crabs that farm algae, and the volunteers who count them at dawn. A patient portrait of a landscape that floods twice a day and still keeps its shape.",
        year: 2020,
        genres: &["Documentary"],
        maturity_rating: "G",
        kind: "film",
        video: recipe(Pattern::Life, 392),
        facts: DemoFacts {
            original_language: "en",
            audio: &["en"],
            release_date: "2020-04-22",
            cast: &["Bea Thornton"],
            crew: &[("Owen Marsh", "Director")],
        },
    },
    DemoTitle {
        name: "Kettle & Comet",
        synopsis: "A clockwork kettle who dreams of space teams up with a comet who is afraid of heights. Together they cross a kitchen the size of a continent to reach the window before the morning frost melts.",
        year: 2022,
        genres: &["Animation", "Comedy"],
        maturity_rating: "G",
        kind: "film",
        video: recipe(Pattern::TestSrc2, 659),
        facts: DemoFacts {
            original_language: "en",
            audio: &["en"],
            release_date: "2022-12-09",
            cast: &["Jonah Pike", "Lottie Brennan"],
            crew: &[("Kaito Morimoto", "Director")],
        },
    },
    DemoTitle {
        name: "Ninth Floor Signal",
        synopsis: "Every night at 3:14 a radio on the ninth floor of an empty office tower picks up a voice reading tomorrow's traffic reports. A courier who hears it once decides to use it, and soon learns who else is listening.",
        year: 2024,
        genres: &["Thriller", "Sci-Fi"],
        maturity_rating: "PG-13",
        kind: "film",
        video: recipe(Pattern::Mandelbrot, 147),
        facts: DemoFacts {
            original_language: "en",
            audio: &["en"],
            release_date: "2024-03-15",
            cast: &["Marcus Adebayo", "Helen Strand"],
            crew: &[("Ruth Calloway", "Director")],
        },
    },
    DemoTitle {
        name: "The Cartographer's Daughter",
        synopsis: "After her father's death, a young mapmaker inherits a shop full of charts of places that do not exist. Each episode she follows one of them and finds a town that has been waiting for someone to write it down.",
        year: 2018,
        genres: &["Drama"],
        maturity_rating: "PG",
        kind: "series",
        video: recipe(Pattern::Gradients, 262),
        facts: DemoFacts {
            original_language: "en",
            audio: &["en"],
            release_date: "2018-01-12",
            cast: &["Eleanor Vance", "Samuel Iredale"],
            crew: &[("Clara Montague", "Director")],
        },
    },
    DemoTitle {
        name: "Beneath the Copper Sky",
        synopsis: "Miners, geologists and a town choir tell the story of the copper seam that built their homes and the long quiet after it closed. Archive photographs and new interviews trace what a place keeps when its work is gone.",
        year: 2016,
        genres: &["Documentary"],
        maturity_rating: "PG",
        kind: "film",
        video: recipe(Pattern::CellAuto, 294),
        facts: DemoFacts {
            original_language: "en",
            audio: &["en"],
            release_date: "2016-06-30",
            cast: &["Ilya Petrov"],
            crew: &[("Dominika Wren", "Director")],
        },
    },
    DemoTitle {
        name: "Glasswing",
        synopsis: "In a city built inside a greenhouse, a girl who repairs mechanical butterflies finds one that can fly beyond the glass. Following it takes her through the climate engines that keep the city alive, and to the people who switched them on.",
        year: 2021,
        genres: &["Sci-Fi", "Animation"],
        maturity_rating: "PG",
        kind: "film",
        video: recipe(Pattern::Life, 440),
        facts: DemoFacts {
            original_language: "en",
            audio: &["en"],
            release_date: "2021-08-06",
            cast: &["Nell Achterberg", "Felix Dunmore"],
            crew: &[("Yuna Hara", "Director")],
        },
    },
    DemoTitle {
        name: "Last Train to Marrowby",
        synopsis: "Seven strangers share the final carriage of a night train that skips every station it should stop at. As the hours stretch past the timetable, a retired conductor among them recognises the route from a journey he swore he never made.",
        year: 2015,
        genres: &["Thriller"],
        maturity_rating: "TV-MA",
        kind: "series",
        video: recipe(Pattern::TestSrc2, 175),
        facts: DemoFacts {
            original_language: "en",
            audio: &["en"],
            release_date: "2015-10-02",
            cast: &["Gideon Harrow", "Tess Mulgrew"],
            crew: &[("Bernard Oyelaran", "Director")],
        },
    },
    DemoTitle {
        name: "Hollow Peaks",
        synopsis: "Three cave divers map a flooded cave system under a northern mountain range, one narrow passage at a time. The series follows their planning, their setbacks, and the blind fish and ancient ice they meet along the way.",
        year: 2022,
        genres: &["Documentary"],
        maturity_rating: "PG",
        kind: "series",
        video: recipe(Pattern::SmpteHdBars, 349),
        facts: DemoFacts {
            original_language: "en",
            audio: &["en"],
            release_date: "2022-02-25",
            cast: &["Anouk Brandt"],
            crew: &[("Teodor Nilsen", "Director")],
        },
    },
    DemoTitle {
        name: "Moth & Marigold",
        synopsis: "A moth who hosts a night-time radio show and a marigold who can only listen by day try to become friends through letters left in a garden shed. Short, gentle episodes about patience, mishearing and mending things.",
        year: 2019,
        genres: &["Animation", "Comedy"],
        maturity_rating: "G",
        kind: "series",
        video: recipe(Pattern::Gradients, 587),
        facts: DemoFacts {
            original_language: "en",
            audio: &["en"],
            release_date: "2019-04-05",
            cast: &["Poppy Alder", "Rufus Finch"],
            crew: &[("Maren Holt", "Director")],
        },
    },
];

/// Seconds of a long demo clip: long enough to watch the player change rungs and to seek.
pub const LONG_SECONDS: u32 = 60;
/// Lines of a long clip's episode pictures: a small source, so twelve episodes package fast.
pub const EPISODE_HEIGHT: u32 = 360;

/// A planned episode of a demo series.
#[derive(Debug, Clone, Copy)]
pub struct DemoEpisode {
    pub name: &'static str,
    pub synopsis: &'static str,
}

/// The seasons of a demo series with episodes of their own; a series not listed here gets one
/// short episode.
#[derive(Debug, Clone, Copy)]
pub struct DemoSeries {
    pub title: &'static str,
    pub seasons: &'static [&'static [DemoEpisode]],
    /// Subtitle languages every episode gets.
    pub subtitles: &'static [&'static str],
    /// The episodes' picture: a cheap one to render (twelve minutes of Mandelbrot set would take
    /// longer to make than to package).
    pub pattern: Pattern,
}

const fn ep(name: &'static str, synopsis: &'static str) -> DemoEpisode {
    DemoEpisode { name, synopsis }
}

pub const DEMO_SERIES: &[DemoSeries] = &[
    DemoSeries {
        title: "Orbit of Small Hours",
        seasons: &[
            &[
                ep(
                    "Night Shift",
                    "The station's only insomniac logs a signal nobody else hears.",
                ),
                ep(
                    "Dead Reckoning",
                    "A supply pod drifts off course and someone has to fetch it by hand.",
                ),
                ep(
                    "The Long Corridor",
                    "Power fails in the ring, and the crew learns how far apart they sleep.",
                ),
            ],
            &[
                ep(
                    "Second Orbit",
                    "A new crew arrives with questions about the signal log.",
                ),
                ep(
                    "Quiet Frequencies",
                    "Two engineers race to record the signal before the station turns away.",
                ),
                ep("Homeward", "The station decides whether to answer."),
            ],
        ],
        subtitles: &["en", "fr"],
        pattern: Pattern::TestSrc2,
    },
    DemoSeries {
        title: "Moth & Marigold",
        seasons: &[
            &[
                ep(
                    "The Lamp in the Garden",
                    "Moth finds a lamp that never goes out and Marigold wants to know why.",
                ),
                ep(
                    "Rain Day",
                    "The garden floods, and the friends build a boat from a leaf.",
                ),
                ep(
                    "The Night Market",
                    "A market of fireflies opens for one night only.",
                ),
            ],
            &[
                ep("Seeds", "Marigold plants a seed that grows a staircase."),
                ep(
                    "The Lost Button",
                    "A button rolls away and leads them across the whole garden.",
                ),
                ep(
                    "First Frost",
                    "The friends get the garden ready for winter.",
                ),
            ],
        ],
        subtitles: &["en"],
        pattern: Pattern::Gradients,
    },
];

/// A film with a long clip.
#[derive(Debug, Clone, Copy)]
pub struct LongFilm {
    pub title: &'static str,
    /// Subtitle languages it gets.
    pub subtitles: &'static [&'static str],
    /// Whether its clip has a second ("French") audio track.
    pub dubbed: bool,
}

pub const LONG_FILMS: &[LongFilm] = &[
    LongFilm {
        title: "The Lantern Keepers of Vell",
        subtitles: &["en", "fr"],
        dubbed: true,
    },
    LongFilm {
        title: "Saltgrass",
        subtitles: &[],
        dubbed: false,
    },
];

/// The intro and credits of a long clip: the opening titles, then the last eight seconds.
pub fn long_clip_markers(seconds: u32) -> (f64, f64, f64) {
    (1.0, 8.0, f64::from(seconds) - 8.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn at_least_twelve_titles_with_unique_names_and_slugs() {
        assert!(DEMO_TITLES.len() >= 12);
        let names: HashSet<_> = DEMO_TITLES.iter().map(|t| t.name).collect();
        assert_eq!(names.len(), DEMO_TITLES.len(), "duplicate name");
        let slugs: HashSet<_> = DEMO_TITLES.iter().map(|t| t.slug()).collect();
        assert_eq!(slugs.len(), DEMO_TITLES.len(), "duplicate slug");
    }

    #[test]
    fn every_genre_fills_a_row() {
        for genre in GENRES {
            let count = DEMO_TITLES
                .iter()
                .filter(|t| t.genres.contains(&genre))
                .count();
            assert!(count >= 3, "genre {genre} has only {count} titles");
        }
    }

    #[test]
    fn fields_are_valid() {
        for t in DEMO_TITLES {
            assert!(!t.genres.is_empty(), "{}", t.name);
            assert!(t.genres.iter().all(|g| GENRES.contains(g)), "{}", t.name);
            assert!(RATINGS.contains(&t.maturity_rating), "{}", t.name);
            assert!(t.kind == "film" || t.kind == "series", "{}", t.name);
            assert!((1990..=2026).contains(&t.year), "{}", t.name);
            let sentences = t.synopsis.matches(". ").count() + 1;
            assert!((2..=3).contains(&sentences), "{}: {sentences}", t.name);
            assert!(t.synopsis.ends_with('.'), "{}", t.name);
            assert!((20..=20_000).contains(&t.video.tone_hz), "{}", t.name);
            let f = &t.facts;
            assert!(
                f.release_date.starts_with(&t.year.to_string()),
                "{}",
                t.name
            );
            assert!(f.audio.contains(&f.original_language), "{}", t.name);
            assert!(!f.cast.is_empty() && !f.crew.is_empty(), "{}", t.name);
        }
    }

    #[test]
    fn a_dubbed_film_lists_both_its_audio_languages() {
        for film in LONG_FILMS.iter().filter(|f| f.dubbed) {
            let demo = DEMO_TITLES.iter().find(|t| t.name == film.title).unwrap();
            assert!(demo.facts.audio.len() >= 2, "{}", film.title);
        }
    }

    #[test]
    fn both_kinds_and_varied_patterns_are_present() {
        assert!(DEMO_TITLES.iter().any(|t| t.kind == "film"));
        assert!(DEMO_TITLES.iter().any(|t| t.kind == "series"));
        let patterns: HashSet<_> = DEMO_TITLES
            .iter()
            .map(|t| format!("{:?}", t.video.pattern))
            .collect();
        assert_eq!(patterns.len(), 6);
    }

    #[test]
    fn planned_series_and_long_films_are_demo_titles_of_their_kind() {
        for plan in DEMO_SERIES {
            let title = DEMO_TITLES
                .iter()
                .find(|t| t.name == plan.title)
                .expect(plan.title);
            assert_eq!(title.kind, "series", "{}", plan.title);
            assert!(plan.seasons.len() >= 2 && plan.seasons.iter().all(|s| s.len() >= 3));
        }
        for film in LONG_FILMS {
            let title = DEMO_TITLES
                .iter()
                .find(|t| t.name == film.title)
                .expect(film.title);
            assert_eq!(title.kind, "film", "{}", film.title);
        }
        assert!(
            LONG_FILMS.iter().any(|f| f.dubbed),
            "a film has two audio tracks"
        );
        assert!(
            DEMO_SERIES.iter().any(|s| s.subtitles.len() >= 2),
            "some titles carry two subtitle languages"
        );
    }

    #[test]
    fn slug_is_file_name_safe() {
        let t = DEMO_TITLES
            .iter()
            .find(|t| t.name == "The Cartographer's Daughter")
            .expect("title");
        assert_eq!(t.slug(), "the-cartographer-s-daughter");
        let t = DEMO_TITLES
            .iter()
            .find(|t| t.name == "Pickles & Parliament")
            .expect("title");
        assert_eq!(t.slug(), "pickles-parliament");
    }
}
