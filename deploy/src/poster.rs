//! Poster art for demo titles: an SVG (2:3) whose palette and shapes derive from the title's
//! name, so each poster is distinct and the same name always gives the same picture.

use std::fmt::Write;

/// Poster size in SVG user units; 2:3 like a film poster.
pub const WIDTH: u32 = 400;
pub const HEIGHT: u32 = 600;

/// The longest line of title text, in characters, before wrapping.
const LINE_CHARS: usize = 14;

/// Renders the poster for `name` and `year`.
pub fn render(name: &str, year: u16) -> String {
    let seed = fnv1a(name.as_bytes());
    let mut bits = Bits(seed);
    let hue = bits.take(360);
    let hue2 = (hue + 40 + bits.take(100)) % 360;
    let accent = (hue + 180) % 360;

    let mut svg = String::with_capacity(4096);
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{label}">"##,
        label = escape(&format!("{name} ({year})"))
    );
    let _ = write!(
        svg,
        r##"<defs><linearGradient id="bg" x1="0" y1="0" x2="0.3" y2="1"><stop offset="0" stop-color="hsl({hue},55%,32%)"/><stop offset="1" stop-color="hsl({hue2},60%,10%)"/></linearGradient></defs><rect width="{WIDTH}" height="{HEIGHT}" fill="url(#bg)"/>"##
    );
    shapes(&mut svg, &mut bits, hue, accent);
    title_text(&mut svg, name, year);
    svg.push_str("</svg>");
    svg
}

/// A few translucent circles and a horizon band: enough variety to tell posters apart.
fn shapes(svg: &mut String, bits: &mut Bits, hue: u32, accent: u32) {
    let circles = 3 + bits.take(3);
    for i in 0..circles {
        let cx = bits.take(WIDTH);
        let cy = 40 + bits.take(HEIGHT / 2);
        let r = 30 + bits.take(110);
        let h = if i % 2 == 0 { accent } else { (hue + 30) % 360 };
        let _ = write!(
            svg,
            r##"<circle cx="{cx}" cy="{cy}" r="{r}" fill="hsl({h},70%,60%)" fill-opacity="0.{op}"/>"##,
            op = 18 + bits.take(30)
        );
    }
    let horizon = HEIGHT / 2 + 40 + bits.take(60);
    let peak = horizon - 40 - bits.take(80);
    let px = 60 + bits.take(WIDTH - 120);
    let _ = write!(
        svg,
        r##"<polygon points="0,{horizon} {px},{peak} {WIDTH},{horizon} {WIDTH},{HEIGHT} 0,{HEIGHT}" fill="hsl({hue},40%,8%)" fill-opacity="0.75"/>"##
    );
}

fn title_text(svg: &mut String, name: &str, year: u16) {
    let lines = wrap(name, LINE_CHARS);
    let size = if lines.len() > 3 { 30 } else { 38 };
    let line_height = size + 6;
    let n = u32::try_from(lines.len()).unwrap_or(1);
    let first_y = HEIGHT - 110 - (n.saturating_sub(1)) * line_height;
    let _ = write!(
        svg,
        r##"<text class="title" x="{x}" y="{first_y}" text-anchor="middle" font-family="Georgia, 'DejaVu Serif', serif" font-size="{size}" font-weight="bold" fill="#ffffff">"##,
        x = WIDTH / 2
    );
    for (i, line) in lines.iter().enumerate() {
        let dy = if i == 0 { 0 } else { line_height };
        let _ = write!(
            svg,
            r##"<tspan x="{x}" dy="{dy}">{text}</tspan>"##,
            x = WIDTH / 2,
            text = escape(line)
        );
    }
    svg.push_str("</text>");
    let _ = write!(
        svg,
        r##"<text class="year" x="{x}" y="{y}" text-anchor="middle" font-family="Helvetica, Arial, sans-serif" font-size="20" letter-spacing="4" fill="#ffffff" fill-opacity="0.8">{year}</text>"##,
        x = WIDTH / 2,
        y = HEIGHT - 50
    );
}

/// Greedy word wrap; a word longer than `width` gets a line of its own.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        if !current.is_empty() && current.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

/// Escapes text for XML character data and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0; drop them.
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// A tiny deterministic number source seeded from the name's hash (xorshift64).
struct Bits(u64);

impl Bits {
    fn take(&mut self, below: u32) -> u32 {
        let mut x = self.0 | 1;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        u32::try_from(x % u64::from(below.max(1))).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::DEMO_TITLES;

    fn title_of(svg: &str) -> (String, String) {
        let doc = roxmltree::Document::parse(svg).expect("well-formed XML");
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        let text = |class: &str| {
            root.descendants()
                .find(|n| n.attribute("class") == Some(class))
                .map(|n| {
                    n.descendants()
                        .filter(|d| d.is_text())
                        .filter_map(|d| d.text())
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .expect("text element")
        };
        (text("title"), text("year"))
    }

    #[test]
    fn every_demo_poster_parses_and_shows_its_name_and_year() {
        for t in DEMO_TITLES {
            let svg = render(t.name, t.year);
            let (title, year) = title_of(&svg);
            assert_eq!(title, t.name);
            assert_eq!(year, t.year.to_string());
        }
    }

    #[test]
    fn markup_in_names_is_escaped() {
        let name = r#"<Tom & "Jerry's"> </svg><script>x</script>"#;
        let svg = render(name, 1999);
        assert!(!svg.contains("<script>"));
        let (title, _) = title_of(&svg);
        assert_eq!(title, name);
        let doc = roxmltree::Document::parse(&svg).expect("xml");
        assert_eq!(
            doc.root_element().attribute("aria-label"),
            Some(format!("{name} (1999)").as_str())
        );
    }

    #[test]
    fn control_characters_do_not_break_the_xml() {
        let svg = render("Bell\u{7} Tower", 2001);
        let (title, _) = title_of(&svg);
        assert_eq!(title, "Bell Tower");
    }

    #[test]
    fn poster_is_two_by_three() {
        let svg = render("Saltgrass", 2020);
        let doc = roxmltree::Document::parse(&svg).expect("xml");
        let root = doc.root_element();
        let w: u32 = root
            .attribute("width")
            .and_then(|v| v.parse().ok())
            .expect("width");
        let h: u32 = root
            .attribute("height")
            .and_then(|v| v.parse().ok())
            .expect("height");
        assert_eq!(w * 3, h * 2);
        assert_eq!(root.attribute("viewBox"), Some("0 0 400 600"));
    }

    #[test]
    fn deterministic_and_distinct() {
        assert_eq!(render("Glasswing", 2021), render("Glasswing", 2021));
        let posters: std::collections::HashSet<_> = DEMO_TITLES
            .iter()
            .map(|t| {
                // Compare the art only (background and shapes), not the text.
                let svg = render(t.name, t.year);
                svg[..svg.find("<text").expect("text")].to_string()
            })
            .collect();
        assert_eq!(posters.len(), DEMO_TITLES.len());
    }

    #[test]
    fn wraps_on_word_boundaries() {
        assert_eq!(
            wrap("The Lantern Keepers of Vell", 14),
            vec!["The Lantern", "Keepers of", "Vell"]
        );
        assert_eq!(
            wrap("Supercalifragilistic", 5),
            vec!["Supercalifragilistic"]
        );
        assert!(wrap("   ", 5).is_empty());
    }
}
