//! The app's address: the view and the question open in it, kept in the URL's hash
//! (`#evaluate`, `#dataset/q/56ddde6b9a695914005b9628`) so that Back, reload and shared links
//! open the same place. Nothing is sent anywhere: a hash never leaves the browser.

/// The views, one per tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Dataset,
    Evaluate,
    Compare,
    Tokenization,
    Training,
    Ask,
}

impl Tab {
    pub const ALL: [Tab; 6] = [
        Tab::Dataset,
        Tab::Evaluate,
        Tab::Compare,
        Tab::Tokenization,
        Tab::Training,
        Tab::Ask,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Tab::Dataset => "Dataset",
            Tab::Evaluate => "Evaluate",
            Tab::Compare => "Compare",
            Tab::Tokenization => "Tokenization",
            Tab::Training => "Training run",
            Tab::Ask => "Ask the model",
        }
    }

    /// The name in the URL (and in `data-testid="tab-{slug}"`).
    pub fn slug(self) -> &'static str {
        match self {
            Tab::Dataset => "dataset",
            Tab::Evaluate => "evaluate",
            Tab::Compare => "compare",
            Tab::Tokenization => "tokenization",
            Tab::Training => "training",
            Tab::Ask => "ask",
        }
    }

    pub fn from_slug(s: &str) -> Option<Tab> {
        Tab::ALL.into_iter().find(|t| t.slug() == s)
    }

    /// The tab `step` places away (wrapping), for the arrow keys.
    pub fn cycle(self, step: isize) -> Tab {
        let n = Tab::ALL.len() as isize;
        let i = Tab::ALL.iter().position(|&t| t == self).unwrap_or(0) as isize;
        Tab::ALL[(i + step).rem_euclid(n) as usize]
    }
}

/// A place in the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub tab: Tab,
    /// The id of the question shown in detail.
    pub question: Option<String>,
}

impl Route {
    /// The hash for this place (with its `#`).
    pub fn to_hash(&self) -> String {
        match &self.question {
            None => format!("#{}", self.tab.slug()),
            Some(q) => format!("#{}/q/{}", self.tab.slug(), encode(q)),
        }
    }

    /// The place a hash names; None for an empty or unknown hash.
    pub fn parse(hash: &str) -> Option<Route> {
        let h = hash.strip_prefix('#').unwrap_or(hash);
        let (tab, rest) = h.split_once('/').unwrap_or((h, ""));
        let tab = Tab::from_slug(tab)?;
        let question = rest
            .strip_prefix("q/")
            .map(decode)
            .filter(|q| !q.is_empty());
        Some(Route { tab, question })
    }
}

/// Percent-encoding of everything but `A-Z a-z 0-9 - _ . ~` (question ids are free text in
/// user datasets).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = || {
            std::str::from_utf8(b.get(i + 1..i + 3)?)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        };
        match (b[i], hex()) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_round_trip() {
        for route in [
            Route {
                tab: Tab::Evaluate,
                question: None,
            },
            Route {
                tab: Tab::Dataset,
                question: Some("56ddde6b9a695914005b9628".into()),
            },
            Route {
                tab: Tab::Compare,
                question: Some("a/b c%d?é#".into()),
            },
        ] {
            let h = route.to_hash();
            assert!(!h[1..].contains('#') && !h.contains(' '), "{h}");
            assert_eq!(Route::parse(&h), Some(route));
        }
        assert_eq!(
            Route {
                tab: Tab::Training,
                question: None
            }
            .to_hash(),
            "#training"
        );
        assert_eq!(
            Route::parse("#dataset/q/x%2Fy")
                .unwrap()
                .question
                .as_deref(),
            Some("x/y")
        );
    }

    #[test]
    fn unknown_hashes_are_none() {
        assert_eq!(Route::parse(""), None);
        assert_eq!(Route::parse("#"), None);
        assert_eq!(Route::parse("#nope"), None);
        assert_eq!(
            Route::parse("#evaluate/q/"),
            Some(Route {
                tab: Tab::Evaluate,
                question: None
            })
        );
        // A stray % is kept as text.
        assert_eq!(
            Route::parse("#dataset/q/50%").unwrap().question.as_deref(),
            Some("50%")
        );
    }

    #[test]
    fn arrow_keys_wrap() {
        assert_eq!(Tab::Dataset.cycle(-1), Tab::Ask);
        assert_eq!(Tab::Ask.cycle(1), Tab::Dataset);
        assert_eq!(Tab::Training.cycle(1), Tab::Ask);
        assert_eq!(Tab::Evaluate.cycle(1), Tab::Compare);
    }
}
