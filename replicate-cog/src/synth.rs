//! Deterministic synthesis of outputs that fit an Output schema.

use serde_json::{Map, Number, Value};

use crate::file_hint::{ExtensionGuesser, FileHint};
use crate::input::InputField;
use crate::output::{OutputSchema, ScalarType};

/// A synthesised output.
#[derive(Debug, Clone, PartialEq)]
pub enum Synthesized {
    /// The whole output at once.
    Single(Value),
    /// Items to emit one by one (an iterator output); the final `output` is the array of all items.
    Iterator {
        /// The items in order.
        items: Vec<Value>,
        /// Text tokens meant to be concatenated into one string.
        concatenate: bool,
    },
}

impl Synthesized {
    /// The prediction's final `output` value: the single value, or the array of items.
    pub fn into_output(self) -> Value {
        match self {
            Synthesized::Single(value) => value,
            Synthesized::Iterator { items, .. } => Value::Array(items),
        }
    }

    /// The items joined into one string, for a concatenate iterator (`None` otherwise).
    pub fn concatenated(&self) -> Option<String> {
        match self {
            Synthesized::Iterator { items, concatenate: true } => {
                Some(items.iter().filter_map(Value::as_str).collect())
            }
            _ => None,
        }
    }
}

/// Words the text tokens are drawn from.
const WORDS: &[&str] = &[
    "the", "a", "quiet", "river", "runs", "through", "an", "old", "forest", "where", "light", "falls", "on",
    "moss", "and", "stone", "every", "morning", "brings", "new", "colours", "to", "sky", "above", "hills",
    "small", "birds", "sing", "while", "wind", "moves", "leaves", "of", "tall", "trees", "in", "slow",
    "waves", "model", "answer", "is", "clear", "simple", "bright", "warm", "soft", "path", "leads", "home",
];

/// Input names whose value says how many items an array output has.
const COUNT_INPUTS: &[&str] = &[
    "num_outputs",
    "num_images",
    "number_of_images",
    "num_images_per_prompt",
    "batch_size",
    "num_samples",
    "n_samples",
    "samples",
    "n",
];

/// Input names whose value bounds how many tokens a text stream has.
const TOKEN_INPUTS: &[&str] = &["max_new_tokens", "max_tokens", "max_length", "max_new_token", "max_gen_len"];

/// Input names whose value is the fewest tokens a text stream has.
const MIN_TOKEN_INPUTS: &[&str] = &["min_new_tokens", "min_tokens", "min_length"];

/// Most tokens a synthesised text stream has.
const MAX_TOKENS: u64 = 64;

/// Most items of a synthesised array or non-text iterator.
const MAX_ITEMS: u64 = 8;

/// A splitmix64 generator: small, fast and the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `low..=high`.
    fn range(&mut self, low: u64, high: u64) -> u64 {
        if high <= low { low } else { low + self.next() % (high - low + 1) }
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn word(&mut self) -> &'static str {
        WORDS[self.range(0, WORDS.len() as u64 - 1) as usize]
    }
}

/// FNV-1a over a canonical rendering of `value` (object keys sorted), so key order never matters.
fn hash_value(value: &Value, hash: &mut u64) {
    fn eat(hash: &mut u64, bytes: &[u8]) {
        for b in bytes {
            *hash ^= u64::from(*b);
            *hash = hash.wrapping_mul(0x0100_0000_01B3);
        }
    }
    match value {
        Value::Object(map) => {
            eat(hash, b"{");
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            for key in keys {
                eat(hash, key.as_bytes());
                eat(hash, b":");
                if let Some(v) = map.get(key) {
                    hash_value(v, hash);
                }
                eat(hash, b",");
            }
            eat(hash, b"}");
        }
        Value::Array(items) => {
            eat(hash, b"[");
            for item in items {
                hash_value(item, hash);
                eat(hash, b",");
            }
            eat(hash, b"]");
        }
        other => eat(hash, other.to_string().as_bytes()),
    }
}

struct Synthesizer<'a> {
    rng: Rng,
    fields: &'a [InputField],
    input: &'a Value,
    extensions: ExtensionGuesser,
    files: &'a mut dyn FnMut(&FileHint) -> String,
}

pub(crate) fn synthesize(
    fields: &[InputField],
    output: &OutputSchema,
    input: &Value,
    seed: u64,
    files: &mut dyn FnMut(&FileHint) -> String,
) -> Synthesized {
    let mut hash = 0xCBF2_9CE4_8422_2325u64 ^ seed;
    hash_value(input, &mut hash);
    let mut s = Synthesizer {
        rng: Rng(hash),
        fields,
        input,
        extensions: ExtensionGuesser::new(fields, input),
        files,
    };
    match output {
        OutputSchema::Iterator { item, concatenate: true } => {
            let count = s.token_count();
            let items = (0..count).map(|i| s.token(item, i, count)).collect();
            Synthesized::Iterator { items, concatenate: true }
        }
        OutputSchema::Iterator { item, concatenate: false } => {
            let count = s.input_count().unwrap_or_else(|| s.rng.range(2, 4));
            let items = (0..count).map(|i| s.value(item, &format!("output[{i}]"), None, 1)).collect();
            Synthesized::Iterator { items, concatenate: false }
        }
        other => Synthesized::Single(s.value(other, "output", None, 0)),
    }
}

impl Synthesizer<'_> {
    /// The value of an input: the one sent, else the field's default.
    fn input_number(&self, names: &[&str]) -> Option<u64> {
        names.iter().find_map(|name| {
            let sent = self.input.get(*name).filter(|v| !v.is_null());
            let default = || self.fields.iter().find(|f| f.name == *name).and_then(|f| f.default.as_ref());
            let value = sent.or_else(default)?;
            value.as_u64().or_else(|| value.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
        })
    }

    fn input_count(&self) -> Option<u64> {
        self.input_number(COUNT_INPUTS).map(|n| n.clamp(1, MAX_ITEMS))
    }

    /// `max_tokens`-like inputs cap the stream (at most 64 tokens); `min_tokens`-like ones raise it.
    fn token_count(&mut self) -> u64 {
        let count = match self.input_number(TOKEN_INPUTS) {
            Some(n) => n.clamp(1, MAX_TOKENS),
            None => self.rng.range(16, 32),
        };
        match self.input_number(MIN_TOKEN_INPUTS) {
            Some(min) => count.max(min.min(MAX_TOKENS)),
            None => count,
        }
    }

    /// One text token of a concatenate stream: a word with a trailing space, the last ending a sentence.
    fn token(&mut self, item: &OutputSchema, index: u64, count: u64) -> Value {
        if !matches!(item, OutputSchema::Scalar(ScalarType::String) | OutputSchema::Any) {
            return self.value(item, &format!("output[{index}]"), None, 1);
        }
        let word = self.rng.word();
        let text = if index == 0 {
            capitalise(word) + " "
        } else if index + 1 == count {
            format!("{word}.")
        } else {
            format!("{word} ")
        };
        Value::String(text)
    }

    fn sentence(&mut self, words: u64) -> String {
        let mut text = String::new();
        for i in 0..words {
            let word = self.rng.word();
            if i == 0 {
                text.push_str(&capitalise(word));
            } else {
                text.push(' ');
                text.push_str(word);
            }
        }
        text.push('.');
        text
    }

    fn value(&mut self, schema: &OutputSchema, path: &str, property: Option<&str>, depth: usize) -> Value {
        match schema {
            OutputSchema::Scalar(ScalarType::String) => {
                let words = if depth == 0 { self.rng.range(8, 24) } else { self.rng.range(2, 8) };
                Value::String(self.sentence(words))
            }
            OutputSchema::Scalar(ScalarType::Integer) => Value::from(self.rng.range(0, 100)),
            OutputSchema::Scalar(ScalarType::Number) => {
                let x = (self.rng.unit() * 1000.0).round() / 1000.0;
                Number::from_f64(x).map_or(Value::from(0), Value::Number)
            }
            OutputSchema::Scalar(ScalarType::Boolean) => Value::Bool(self.rng.next().is_multiple_of(2)),
            OutputSchema::File => {
                let hint = FileHint { path: path.to_owned(), extension: self.extensions.guess(property) };
                Value::String((self.files)(&hint))
            }
            OutputSchema::Array(item) | OutputSchema::Iterator { item, .. } => {
                let count = match (depth, item.as_ref()) {
                    (_, OutputSchema::Scalar(ScalarType::Number | ScalarType::Integer)) => 8,
                    (0, _) => self.input_count().unwrap_or_else(|| self.rng.range(1, 3)),
                    _ => self.rng.range(1, 3),
                };
                Value::Array(
                    (0..count)
                        .map(|i| self.value(item, &format!("{path}[{i}]"), property, depth + 1))
                        .collect(),
                )
            }
            OutputSchema::Object(properties) => {
                let mut map = Map::new();
                for (name, schema, _required) in properties {
                    let value = self.value(schema, &format!("{path}.{name}"), Some(name), depth + 1);
                    map.insert(name.clone(), value);
                }
                Value::Object(map)
            }
            OutputSchema::Any => Value::String(self.sentence(4)),
        }
    }
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
