//! A device's name from its User-Agent, the way a viewer would recognise it in "playing on
//! Chrome on Linux" (woothee's parser, not a hand-written one: user agents are a zoo).

use std::sync::LazyLock;

static PARSER: LazyLock<woothee::parser::Parser> = LazyLock::new(woothee::parser::Parser::new);

/// "Chrome on Linux", "Safari on iPhone", "a Smart TV"; "an unknown device" when it cannot tell.
pub fn name(user_agent: Option<&str>) -> String {
    let Some(parsed) = user_agent.and_then(|ua| PARSER.parse(ua)) else {
        return "an unknown device".into();
    };
    // Libraries and crawlers ("HTTP Library") are no device a viewer would recognise.
    if !matches!(
        parsed.category,
        "pc" | "smartphone" | "mobilephone" | "appliance"
    ) {
        return "an unknown device".into();
    }
    let known = |s: &str| !s.is_empty() && s != woothee::woothee::VALUE_UNKNOWN;
    match (known(parsed.name), known(parsed.os)) {
        (true, true) => format!("{} on {}", parsed.name, parsed.os),
        (true, false) => parsed.name.to_owned(),
        (false, true) => format!("a device on {}", parsed.os),
        (false, false) if parsed.category == "appliance" => "a TV or console".into(),
        (false, false) => "an unknown device".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::name;

    #[test]
    fn devices_get_names_people_recognise() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";
        assert_eq!(name(Some(chrome)), "Chrome on Linux");
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
        assert_eq!(name(Some(iphone)), "Safari on iPhone");
        assert_eq!(name(None), "an unknown device");
        assert_eq!(name(Some("curl/8.0")), "an unknown device");
    }
}
