//! A touch's channel from its UTM `source` / `medium`: the rules of
//! `[touches.channel_rules]` first, then the contract's default rules.

use std::collections::{BTreeMap, HashMap};

/// The default rules of the contract, first match wins; `source` and
/// `medium` trimmed and lower-cased. `None`: no rule matches (`(none)`).
pub fn default_channel(source: &str, medium: &str) -> Option<&'static str> {
    const SOCIAL: &[&str] = &[
        "facebook",
        "instagram",
        "linkedin",
        "twitter",
        "x",
        "tiktok",
        "reddit",
    ];
    let m = medium;
    if matches!(m, "cpc" | "ppc" | "paid" | "paidsearch" | "sem") {
        return Some(if SOCIAL.contains(&source) {
            "Paid Social"
        } else {
            "Paid Search"
        });
    }
    match m {
        "social" | "social-network" | "sm" => return Some("Organic Social"),
        "email" => return Some("Email"),
        "referral" => return Some("Referral"),
        "display" | "banner" | "cpm" => return Some("Display"),
        "affiliate" => return Some("Partner"),
        "organic" => return Some("Organic"),
        _ => {}
    }
    if source == "(direct)" || matches!(m, "(none)" | "none") {
        return Some("Direct");
    }
    None
}

pub use crate::config::parse_rule_key;

/// The configured rules: an exact (source, medium) rule wins over a
/// medium-only rule (`* / medium`), which wins over a source-only rule
/// (`source / *`); then the default rules.
#[derive(Debug, Default, Clone)]
pub struct Rules {
    both: HashMap<(String, String), String>,
    medium: HashMap<String, String>,
    source: HashMap<String, String>,
}

impl Rules {
    pub fn new(map: &BTreeMap<String, String>) -> Result<Rules, String> {
        let mut r = Rules::default();
        for (k, v) in map {
            let v = v.trim().to_string();
            match parse_rule_key(k)? {
                (Some(s), Some(m)) => r.both.insert((s, m), v),
                (None, Some(m)) => r.medium.insert(m, v),
                (Some(s), None) => r.source.insert(s, v),
                (None, None) => None,
            };
        }
        Ok(r)
    }

    /// The channel of a touch without its own or its campaign's channel:
    /// `None` when both values are empty or no rule matches.
    pub fn channel(&self, source: Option<&str>, medium: Option<&str>) -> Option<String> {
        let s = source.unwrap_or("").trim().to_lowercase();
        let m = medium.unwrap_or("").trim().to_lowercase();
        if s.is_empty() && m.is_empty() {
            return None;
        }
        if let Some(c) = self.both.get(&(s.clone(), m.clone())) {
            return Some(c.clone());
        }
        if let Some(c) = self.medium.get(&m) {
            return Some(c.clone());
        }
        if let Some(c) = self.source.get(&s) {
            return Some(c.clone());
        }
        default_channel(&s, &m).map(str::to_string)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_rules_in_order() {
        let r = Rules::default();
        let ch = |s: &str, m: &str| r.channel(Some(s), Some(m));
        assert_eq!(ch("google", "CPC").as_deref(), Some("Paid Search"));
        assert_eq!(ch(" LinkedIn ", "paid").as_deref(), Some("Paid Social"));
        assert_eq!(ch("x", "ppc").as_deref(), Some("Paid Social"));
        assert_eq!(ch("facebook", "social").as_deref(), Some("Organic Social"));
        assert_eq!(ch("news", "email").as_deref(), Some("Email"));
        assert_eq!(ch("blog", "referral").as_deref(), Some("Referral"));
        assert_eq!(ch("gdn", "cpm").as_deref(), Some("Display"));
        assert_eq!(ch("p", "affiliate").as_deref(), Some("Partner"));
        assert_eq!(ch("google", "organic").as_deref(), Some("Organic"));
        assert_eq!(ch("(direct)", "").as_deref(), Some("Direct"));
        assert_eq!(ch("", "(none)").as_deref(), Some("Direct"));
        assert_eq!(ch("newsletter", "print"), None);
        assert_eq!(r.channel(None, Some("  ")), None);
        // whole values only
        assert_eq!(ch("google", "cpc-test"), None);
    }

    #[test]
    fn configured_rules_first_exact_then_medium_then_source() {
        let map: BTreeMap<String, String> = [
            ("google / cpc", "Brand Search"),
            ("* / cpc", "SEA"),
            ("google / *", "Google"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let r = Rules::new(&map).unwrap();
        assert_eq!(
            r.channel(Some("Google"), Some("cpc")).as_deref(),
            Some("Brand Search")
        );
        assert_eq!(r.channel(Some("bing"), Some("cpc")).as_deref(), Some("SEA"));
        assert_eq!(
            r.channel(Some("google"), Some("email")).as_deref(),
            Some("Google")
        );
        assert_eq!(
            r.channel(Some("bing"), Some("email")).as_deref(),
            Some("Email")
        );
        assert!(parse_rule_key("* / *").is_err());
        assert!(parse_rule_key("google").is_err());
    }
}
