//! Rust names for schema names: type names, field names and enum variant names.
//!
//! Every name is built from *words*: runs of ASCII letters and digits. Latin-1 letters are
//! transliterated (`é` → `e`, `ß` → `ss`); every other character separates words. A word also ends
//! where the case changes (`MrKrabs` → `Mr`, `Krabs`; `DPMSolver` → `DPM`, `Solver`).

use std::collections::HashSet;

/// Strict, reserved and weak keywords that cannot be (or should not be) field names.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate", "do", "dyn",
    "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop",
    "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return", "self", "static",
    "struct", "super", "trait", "true", "try", "type", "typeof", "union", "unsafe", "unsized", "use",
    "virtual", "where", "while", "yield",
];

/// The ASCII spelling of a Latin-1 letter, if it has one.
fn transliterate(c: char) -> Option<&'static str> {
    Some(match c {
        'À'..='Å' => "A",
        'Æ' => "AE",
        'Ç' => "C",
        'È'..='Ë' => "E",
        'Ì'..='Ï' => "I",
        'Ð' => "D",
        'Ñ' => "N",
        'Ò'..='Ö' | 'Ø' => "O",
        'Ù'..='Ü' => "U",
        'Ý' => "Y",
        'Þ' => "TH",
        'ß' => "ss",
        'à'..='å' => "a",
        'æ' => "ae",
        'ç' => "c",
        'è'..='ë' => "e",
        'ì'..='ï' => "i",
        'ð' => "d",
        'ñ' => "n",
        'ò'..='ö' | 'ø' => "o",
        'ù'..='ü' => "u",
        'ý' | 'ÿ' => "y",
        'þ' => "th",
        _ => return None,
    })
}

/// The words of `text` (see the module docs), as written.
pub(crate) fn words(text: &str) -> Vec<String> {
    // `None` marks a separator.
    let mut chars: Vec<Option<char>> = Vec::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            chars.push(Some(c));
        } else if let Some(ascii) = transliterate(c) {
            chars.extend(ascii.chars().map(Some));
        } else {
            chars.push(None);
        }
    }
    let mut out = Vec::new();
    let mut current = String::new();
    for (i, c) in chars.iter().enumerate() {
        let Some(c) = *c else {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            continue;
        };
        if let Some(prev) = current.chars().last() {
            let next = chars.get(i + 1).copied().flatten();
            let lower_to_upper =
                (prev.is_ascii_lowercase() || prev.is_ascii_digit()) && c.is_ascii_uppercase();
            let acronym_end = prev.is_ascii_uppercase()
                && c.is_ascii_uppercase()
                && next.is_some_and(|n| n.is_ascii_lowercase());
            if lower_to_upper || acronym_end {
                out.push(std::mem::take(&mut current));
            }
        }
        current.push(c);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// `word` with its first letter upper case and the rest lower case.
fn capitalize(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    for (i, c) in word.chars().enumerate() {
        out.push(if i == 0 { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() });
    }
    out
}

/// Joins capitalized words; two digits that were in different words keep a `_` between them
/// (`16:9` → `16_9`), which the `non_camel_case_types` lint allows.
fn camel_join(words: &[String]) -> String {
    let mut out = String::new();
    for word in words {
        let word = capitalize(word);
        if out.ends_with(|c: char| c.is_ascii_digit()) && word.starts_with(|c: char| c.is_ascii_digit()) {
            out.push('_');
        }
        out.push_str(&word);
    }
    out
}

/// An UpperCamelCase type name for a schema name (`aspect_ratio` → `AspectRatio`), or `None` when the
/// name has no letters or digits. A leading digit gets a `T` before it.
pub(crate) fn type_name(name: &str) -> Option<String> {
    let ws = words(name);
    if ws.is_empty() {
        return None;
    }
    let joined = camel_join(&ws);
    Some(if joined.starts_with(|c: char| c.is_ascii_digit()) { format!("T{joined}") } else { joined })
}

/// A variant name for one choice value (its text: the string, or the integer written out), `index`
/// being its position in the schema's list. The rules:
/// - the words, capitalized and joined: `no_refiner` → `NoRefiner`, `K_EULER` → `KEuler`, `DDIM` → `Ddim`,
///   `zh-CN` → `ZhCn`, `pt BR` → `PtBr`, `none` → `None`;
/// - a name that would start with a digit gets a `V` before it: `1:1` → `V1_1`, `0.25` → `V0_25`, `64` → `V64`;
/// - a leading `-` before a digit becomes `Neg`: `-1` → `Neg1`;
/// - the empty string is `Empty`; text without any usable letter or digit is `Value{index}`;
/// - `Self` (a keyword) becomes `SelfValue`.
pub(crate) fn variant_name(text: &str, index: usize) -> String {
    if text.is_empty() {
        return "Empty".into();
    }
    let ws = words(text);
    if ws.is_empty() {
        return format!("Value{index}");
    }
    let mut name = camel_join(&ws);
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        let negative =
            text.trim_start().strip_prefix('-').is_some_and(|t| t.starts_with(|c: char| c.is_ascii_digit()));
        name = if negative { format!("Neg{name}") } else { format!("V{name}") };
    }
    if name == "Self" {
        name = "SelfValue".into();
    }
    name
}

/// A snake_case field name for a property name: `guidanceScale` → `guidance_scale`, `Seed` → `seed`,
/// `type` → `type_` (keywords get a trailing `_`), `2x` → `field_2x` (a leading digit gets `field_`),
/// and a name without letters or digits becomes `field_{index}`.
pub(crate) fn field_name(name: &str, index: usize) -> String {
    let ws = words(name);
    if ws.is_empty() {
        return format!("field_{index}");
    }
    let joined = ws.iter().map(|w| w.to_ascii_lowercase()).collect::<Vec<_>>().join("_");
    if joined.starts_with(|c: char| c.is_ascii_digit()) {
        format!("field_{joined}")
    } else if KEYWORDS.contains(&joined.as_str()) {
        format!("{joined}_")
    } else {
        joined
    }
}

/// Hands out unique names: a name already taken gets a number appended (`2`, `3`, ...; after `_`
/// when the name ends with a digit or is snake_case).
#[derive(Default)]
pub(crate) struct Unique {
    taken: HashSet<String>,
}

impl Unique {
    /// `name`, or `name` with the smallest number that makes it unique.
    pub(crate) fn claim(&mut self, name: String) -> String {
        if self.taken.insert(name.clone()) {
            return name;
        }
        let snake = name.starts_with(|c: char| c.is_ascii_lowercase());
        let sep = if snake || name.ends_with(|c: char| c.is_ascii_digit()) { "_" } else { "" };
        let mut n = 2;
        loop {
            let candidate = format!("{name}{sep}{n}");
            if self.taken.insert(candidate.clone()) {
                return candidate;
            }
            n += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_words_at_separators_and_case_changes() {
        assert_eq!(words("K_EULER_ANCESTRAL"), ["K", "EULER", "ANCESTRAL"]);
        assert_eq!(words("DPMSolverMultistep"), ["DPM", "Solver", "Multistep"]);
        assert_eq!(words("MrKrabs"), ["Mr", "Krabs"]);
        assert_eq!(words("width/height"), ["width", "height"]);
        assert_eq!(words("Español"), ["Espanol"]);
        assert_eq!(words("日本語"), Vec::<String>::new());
    }

    #[test]
    fn variant_names_follow_the_documented_rules() {
        let cases = [
            ("1:1", "V1_1"),
            ("16:9", "V16_9"),
            ("0.25", "V0_25"),
            ("zh-CN", "ZhCn"),
            ("pt BR", "PtBr"),
            ("none", "None"),
            ("Self", "SelfValue"),
            ("", "Empty"),
            ("plain text", "PlainText"),
            ("K_EULER", "KEuler"),
            ("DDIM", "Ddim"),
            ("no_refiner", "NoRefiner"),
            ("large-v2", "LargeV2"),
            ("64", "V64"),
            ("-1", "Neg1"),
            ("Français", "Francais"),
            ("MrKrabs", "MrKrabs"),
        ];
        for (value, expected) in cases {
            assert_eq!(variant_name(value, 0), expected, "{value:?}");
        }
        assert_eq!(variant_name("日本語", 3), "Value3");
        assert_eq!(variant_name("—", 0), "Value0");
    }

    #[test]
    fn field_names_are_snake_case_identifiers() {
        assert_eq!(field_name("guidanceScale", 0), "guidance_scale");
        assert_eq!(field_name("Seed", 0), "seed");
        assert_eq!(field_name("type", 0), "type_");
        assert_eq!(field_name("self", 0), "self_");
        assert_eq!(field_name("2x", 0), "field_2x");
        assert_eq!(field_name("input-image", 0), "input_image");
        assert_eq!(field_name("@@", 4), "field_4");
        assert_eq!(field_name("prompt", 0), "prompt");
    }

    #[test]
    fn type_names_are_upper_camel_case() {
        assert_eq!(type_name("aspect_ratio").as_deref(), Some("AspectRatio"));
        assert_eq!(type_name("3d_mode").as_deref(), Some("T3dMode"));
        assert_eq!(type_name("::"), None);
    }

    #[test]
    fn unique_appends_numbers() {
        let mut unique = Unique::default();
        assert_eq!(unique.claim("seed".into()), "seed");
        assert_eq!(unique.claim("seed".into()), "seed_2");
        assert_eq!(unique.claim("V1".into()), "V1");
        assert_eq!(unique.claim("V1".into()), "V1_2");
        assert_eq!(unique.claim("Neg".into()), "Neg");
        assert_eq!(unique.claim("Neg".into()), "Neg2");
    }
}
