//! Printing: JSON, aligned tables, prediction outputs, and saving output files.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use replicate_core::{FileOutput, Replicate};
use serde::Serialize;
use serde_json::Value;

use crate::error::{CliError, CliResult};

/// Whether stdout is a terminal (human output) or a pipe (plain output).
pub fn stdout_is_tty() -> bool {
    std::io::stdout().is_terminal()
}

/// Whether stderr is a terminal (progress display).
pub fn stderr_is_tty() -> bool {
    std::io::stderr().is_terminal()
}

/// Prints a value as JSON (pretty), followed by a newline.
pub fn print_json(value: &impl Serialize) -> CliResult<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| CliError::other(e.to_string()))?;
    println_out(&text)
}

/// Prints a line on stdout; a closed pipe is not an error worth a panic.
pub fn println_out(text: &str) -> CliResult<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .map_err(|e| CliError::other(format!("writing to stdout: {e}")))
}

/// Prints rows as columns separated by two spaces, the header first (when stdout is a terminal) —
/// or tab-separated without a header when stdout is a pipe.
pub fn print_table(header: &[&str], rows: &[Vec<String>]) -> CliResult<()> {
    if !stdout_is_tty() {
        for row in rows {
            println_out(&row.join("\t"))?;
        }
        return Ok(());
    }
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                text.push_str(cell);
            } else {
                let pad = widths.get(i).copied().unwrap_or(0).saturating_sub(cell.chars().count());
                text.push_str(cell);
                text.push_str(&" ".repeat(pad + 2));
            }
        }
        text
    };
    println_out(&line(header.to_vec()))?;
    for row in rows {
        println_out(&line(row.iter().map(String::as_str).collect()))?;
    }
    Ok(())
}

/// `text` cut to `max` characters (an ellipsis marks the cut).
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Prints `key: value` lines, skipping empty values.
pub fn print_fields(fields: &[(&str, Option<String>)]) -> CliResult<()> {
    let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (key, value) in fields {
        if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
            println_out(&format!("{key:width$}  {value}"))?;
        }
    }
    Ok(())
}

/// The text to print for a prediction's output: a string as is, a list of strings (tokens joined when
/// `concatenate`, else one per line), anything else as pretty JSON.
pub fn render_output(output: &Value, concatenate: bool) -> String {
    match output {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.iter().all(Value::is_string) => {
            let strings = items.iter().filter_map(Value::as_str);
            if concatenate { strings.collect() } else { strings.collect::<Vec<_>>().join("\n") }
        }
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

/// Every file URL (`http(s)://` or `data:`) in an output, in order.
pub fn file_urls(output: &Value) -> Vec<String> {
    let mut urls = Vec::new();
    collect_urls(output, &mut urls);
    urls
}

fn collect_urls(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s)
            if s.starts_with("https://") || s.starts_with("http://") || s.starts_with("data:") =>
        {
            out.push(s.clone())
        }
        Value::Array(items) => items.iter().for_each(|i| collect_urls(i, out)),
        Value::Object(map) => map.values().for_each(|i| collect_urls(i, out)),
        _ => {}
    }
}

/// A file name for an output URL: the last path segment of a URL, `output.<ext>` for a data URL; `index`
/// disambiguates names already taken.
pub fn file_name(url: &str, index: usize, taken: &[PathBuf]) -> String {
    let base = if let Some(rest) = url.strip_prefix("data:") {
        let mime = rest.split([';', ',']).next().unwrap_or_default();
        let ext = match mime {
            "image/png" => "png",
            "image/jpeg" => "jpg",
            "image/webp" => "webp",
            "image/gif" => "gif",
            "audio/wav" | "audio/x-wav" => "wav",
            "audio/mpeg" => "mp3",
            "video/mp4" => "mp4",
            "text/plain" => "txt",
            "application/json" => "json",
            _ => "bin",
        };
        format!("output.{ext}")
    } else {
        let path = url.split(['?', '#']).next().unwrap_or_default();
        let last = path.rsplit('/').next().unwrap_or_default();
        let clean: String =
            last.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')).collect();
        if clean.is_empty() || clean.starts_with('.') { format!("output-{index}") } else { clean }
    };
    let exists = |name: &str| taken.iter().any(|p| p.file_name().and_then(|n| n.to_str()) == Some(name));
    if !exists(&base) {
        return base;
    }
    let (stem, ext) = match base.rsplit_once('.') {
        Some((s, e)) => (s.to_owned(), format!(".{e}")),
        None => (base.clone(), String::new()),
    };
    (1..).map(|n| format!("{stem}-{n}{ext}")).find(|n| !exists(n)).unwrap_or(base)
}

/// Saves every file of `output` into `dir` (created if needed); returns the paths written.
pub async fn save_files(client: &Replicate, output: &Value, dir: &Path) -> CliResult<Vec<PathBuf>> {
    let urls = file_urls(output);
    if urls.is_empty() {
        return Ok(Vec::new());
    }
    std::fs::create_dir_all(dir).map_err(|e| CliError::other(format!("creating {}: {e}", dir.display())))?;
    let mut written: Vec<PathBuf> = Vec::new();
    for (i, url) in urls.iter().enumerate() {
        let path = dir.join(file_name(url, i, &written));
        FileOutput::new(url.clone(), Some(client.clone()))
            .save(&path)
            .await
            .map_err(|e| CliError::from(e).context(format!("saving {}", path.display())))?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn outputs_render_for_people() {
        assert_eq!(render_output(&json!("hi"), false), "hi");
        assert_eq!(render_output(&json!(["a", " b"]), true), "a b");
        assert_eq!(render_output(&json!(["u1", "u2"]), false), "u1\nu2");
        assert_eq!(render_output(&json!({"n": 1}), false), "{\n  \"n\": 1\n}");
    }

    #[test]
    fn file_names_come_from_urls_and_never_collide() {
        let taken = vec![PathBuf::from("d/out-0.png")];
        assert_eq!(file_name("https://x/y/out-0.png?sig=1", 0, &[]), "out-0.png");
        assert_eq!(file_name("https://x/y/out-0.png", 1, &taken), "out-0-1.png");
        assert_eq!(file_name("data:image/png;base64,AAAA", 0, &[]), "output.png");
        assert_eq!(file_name("https://x/", 3, &[]), "output-3");
        assert_eq!(
            file_urls(&json!({"a": ["https://x/1.png", "text"], "b": "data:text/plain,hi"})),
            vec!["https://x/1.png".to_owned(), "data:text/plain,hi".to_owned()]
        );
    }
}
