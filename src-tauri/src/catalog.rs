//! The UI's string catalog, read by Rust for the few texts it shows itself (desktop notifications),
//! so every string still lives in one place: ui/locales/*.json.

use std::collections::HashMap;

const EN: &str = include_str!("../../ui/locales/en.json");
const NB: &str = include_str!("../../ui/locales/nb.json");

pub struct Catalog {
    texts: HashMap<String, String>,
}

impl Catalog {
    pub fn for_language(language: &str) -> Self {
        let source = if language == "nb" { NB } else { EN };
        // The catalogs are part of the build and checked by a test below; a broken one gives keys as text.
        let texts = serde_json::from_str(source).unwrap_or_default();
        Catalog { texts }
    }

    /// The text for `key` with `{name}` placeholders filled; the key itself when missing.
    pub fn text(&self, key: &str, values: &[(&str, &str)]) -> String {
        let mut text = self.texts.get(key).cloned().unwrap_or_else(|| key.to_owned());
        for (name, value) in values {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_catalogs_parse_and_have_the_notification_texts() {
        for language in ["en", "nb"] {
            let catalog = Catalog::for_language(language);
            assert!(!catalog.texts.is_empty(), "{language} catalog did not parse");
            for key in ["notify.keyUsable", "notify.keyRefused", "notify.keyFailed"] {
                for part in ["title", "body"] {
                    let full = format!("{key}.{part}");
                    assert!(catalog.texts.contains_key(&full), "{language} lacks {full}");
                }
            }
        }
    }

    #[test]
    fn both_catalogs_have_the_same_keys() {
        let en: HashMap<String, String> = serde_json::from_str(EN).unwrap();
        let nb: HashMap<String, String> = serde_json::from_str(NB).unwrap();
        let mut missing: Vec<_> = en.keys().filter(|key| !nb.contains_key(*key)).collect();
        missing.extend(nb.keys().filter(|key| !en.contains_key(*key)));
        assert!(missing.is_empty(), "keys in only one catalog: {missing:?}");
    }

    #[test]
    fn fills_placeholders() {
        let catalog = Catalog { texts: HashMap::from([("k".to_owned(), "Key for {recipient} at {lock}".to_owned())]) };
        assert_eq!(catalog.text("k", &[("recipient", "+4790000000"), ("lock", "Bod")]), "Key for +4790000000 at Bod");
        assert_eq!(catalog.text("missing", &[]), "missing");
    }
}
