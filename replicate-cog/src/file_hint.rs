//! Guessing the file extension of an output file from the schema and the prediction input.

use serde_json::Value;

use crate::input::InputField;

/// Where an output file sits in the output and what kind of file it probably is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileHint {
    /// The file's place in the output: `output`, `output[2]`, `output.image`, `output[0].image`.
    pub path: String,
    /// A guessed extension without the dot (`png`, `jpg`, `webp`, `gif`, `mp4`, `wav`, `mp3`, `txt`,
    /// `json`, `srt`, `vtt`, `zip`, `glb`, ...), or `None` when nothing hints at one.
    pub extension: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Category {
    Image,
    Video,
    Audio,
}

impl Category {
    fn default_extension(self) -> &'static str {
        match self {
            Category::Image => "png",
            Category::Video => "mp4",
            Category::Audio => "wav",
        }
    }

    fn of_extension(ext: &str) -> Option<Category> {
        Some(match ext {
            "png" | "jpg" | "webp" | "bmp" | "tiff" => Category::Image,
            "mp4" | "webm" | "mov" | "gif" | "avi" | "mkv" => Category::Video,
            "wav" | "mp3" | "flac" | "ogg" | "m4a" | "aac" | "opus" => Category::Audio,
            _ => return None,
        })
    }
}

/// Extensions recognised in `output_format`-style inputs.
const KNOWN_EXTENSIONS: &[&str] = &[
    "png", "jpg", "webp", "bmp", "tiff", "gif", "mp4", "webm", "mov", "avi", "mkv", "wav", "mp3", "flac",
    "ogg", "m4a", "aac", "opus", "txt", "json", "srt", "vtt", "zip", "glb", "obj", "ply", "npy", "pdf",
];

/// Words in property names that name an exact extension.
const EXACT_WORDS: &[(&str, &str)] = &[
    ("srt", "srt"),
    ("vtt", "vtt"),
    ("txt", "txt"),
    ("transcript", "txt"),
    ("json", "json"),
    ("zip", "zip"),
    ("archive", "zip"),
    ("glb", "glb"),
    ("mesh", "glb"),
    ("obj", "obj"),
    ("ply", "ply"),
    ("npy", "npy"),
    ("gif", "gif"),
    ("pdf", "pdf"),
];

/// Words (in names, titles and descriptions) that point at a category.
const CATEGORY_WORDS: &[(&str, Category)] = &[
    ("video", Category::Video),
    ("mp4", Category::Video),
    ("fps", Category::Video),
    ("frames", Category::Video),
    ("animation", Category::Video),
    ("animate", Category::Video),
    ("audio", Category::Audio),
    ("voice", Category::Audio),
    ("speech", Category::Audio),
    ("music", Category::Audio),
    ("song", Category::Audio),
    ("sound", Category::Audio),
    ("wav", Category::Audio),
    ("mp3", Category::Audio),
    ("sample_rate", Category::Audio),
    ("pitch", Category::Audio),
    ("image", Category::Image),
    ("img", Category::Image),
    ("photo", Category::Image),
    ("picture", Category::Image),
    ("png", Category::Image),
    ("width", Category::Image),
    ("height", Category::Image),
    ("mask", Category::Image),
];

/// The known extension an `output_format` value names: `png`, `.JPEG`, `image/gif`, `video/h264-mp4`.
fn known_extension(value: &str) -> Option<String> {
    let value = value.trim().to_ascii_lowercase();
    let value = value.rsplit('/').next().unwrap_or(&value);
    value.rsplit(['-', '+']).find_map(|part| {
        let part = part.trim_start_matches('.');
        let part = match part {
            "jpeg" => "jpg",
            "tif" => "tiff",
            "mpeg" => "mp3",
            other => other,
        };
        KNOWN_EXTENSIONS.contains(&part).then(|| part.to_owned())
    })
}

/// What the schema and the input say about output files, computed once per synthesis.
pub(crate) struct ExtensionGuesser {
    requested: Option<String>,
    model_category: Option<Category>,
}

impl ExtensionGuesser {
    pub(crate) fn new(fields: &[InputField], input: &Value) -> Self {
        ExtensionGuesser {
            requested: requested_format(fields, input),
            model_category: model_category(fields),
        }
    }

    /// The extension for a file whose nearest named place is `property` (an Output object property).
    pub(crate) fn guess(&self, property: Option<&str>) -> Option<String> {
        let property = property.map(str::to_ascii_lowercase);
        if let Some(name) = &property {
            if let Some((_, ext)) = EXACT_WORDS.iter().find(|(word, _)| has_word(name, word)) {
                return Some((*ext).to_owned());
            }
            let named = CATEGORY_WORDS.iter().find(|(word, _)| has_word(name, word)).map(|(_, c)| *c);
            if let Some(category) = named {
                return Some(match &self.requested {
                    Some(ext) if Category::of_extension(ext) == Some(category) => ext.clone(),
                    _ => category.default_extension().to_owned(),
                });
            }
        }
        if let Some(ext) = &self.requested {
            return Some(ext.clone());
        }
        self.model_category.map(|c| c.default_extension().to_owned())
    }
}

/// Whether `word` (or its plural) occurs in `text` delimited by non-letters (`srt_file` has `srt`,
/// `images` has `image`; `portrait` has not `ai`).
fn has_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let rest = &text[i + word.len()..];
        let after = rest.strip_prefix('s').unwrap_or(rest).chars().next();
        !before.is_some_and(|c| c.is_ascii_alphabetic()) && !after.is_some_and(|c| c.is_ascii_alphabetic())
    })
}

/// The extension an `output_format`-like input asks for (the input's value, else the field's default).
fn requested_format(fields: &[InputField], input: &Value) -> Option<String> {
    fields
        .iter()
        .filter(|f| {
            let name = f.name.to_ascii_lowercase();
            name.contains("format") || name == "output_type" || name == "file_type" || name == "extension"
        })
        .find_map(|f| {
            let value = input.get(&f.name).filter(|v| !v.is_null()).or(f.default.as_ref())?;
            known_extension(value.as_str()?)
        })
}

/// The media kind the inputs talk about most (ties go to images); `None` without any hint.
fn model_category(fields: &[InputField]) -> Option<Category> {
    let mut counts = [(Category::Image, 0usize), (Category::Video, 0), (Category::Audio, 0)];
    for field in fields {
        let text = [Some(field.name.as_str()), field.title.as_deref(), field.description.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ")
            .to_ascii_lowercase();
        for (word, category) in CATEGORY_WORDS {
            if has_word(&text, word)
                && let Some(entry) = counts.iter_mut().find(|(c, _)| c == category)
            {
                entry.1 += 1;
            }
        }
    }
    let best = counts.iter().max_by_key(|(c, n)| (*n, *c == Category::Image))?;
    (best.1 > 0).then_some(best.0)
}

#[cfg(test)]
mod tests {
    use super::has_word;

    #[test]
    fn words_are_delimited_by_non_letters() {
        assert!(has_word("srt_file", "srt"));
        assert!(has_word("output video", "video"));
        assert!(has_word("frames_2", "frames"));
        assert!(!has_word("imagery", "image"));
        assert!(!has_word("portrait", "ai"));
        assert!(has_word("number of images to output", "image"));
    }

    #[test]
    fn output_formats_name_extensions() {
        use super::known_extension;
        assert_eq!(known_extension("PNG").as_deref(), Some("png"));
        assert_eq!(known_extension(".jpeg").as_deref(), Some("jpg"));
        assert_eq!(known_extension("video/h264-mp4").as_deref(), Some("mp4"));
        assert_eq!(known_extension("image/gif").as_deref(), Some("gif"));
        assert_eq!(known_extension("audio/mpeg").as_deref(), Some("mp3"));
        assert_eq!(known_extension("best"), None);
    }
}
