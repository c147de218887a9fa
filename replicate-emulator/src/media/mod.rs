//! The synthetic output files the emulator serves: a small valid file for each extension a
//! model may ask for (images, audio, video, subtitles, archives, documents, meshes, arrays),
//! with its content type. Extensions without an encoder here are served under the nearest
//! format of their family (see [`servable_name`]).

mod audio;
mod bits;
mod documents;
mod image;
pub(crate) mod probe;
pub(crate) mod thumbnail;

pub(crate) use audio::wav;
pub(crate) use image::{png, png_rgb};
mod video;

/// Extensions written as another of the same family: `tiff`→`png`, `flac`→`wav`, `webm`→`mp4`.
fn substitute(ext: &str) -> Option<&'static str> {
    Some(match ext {
        "tif" | "tiff" | "avif" | "heic" | "heif" | "svg" | "ico" => "png",
        "flac" | "ogg" | "oga" | "m4a" | "aac" | "opus" | "weba" => "wav",
        "webm" | "mov" | "avi" | "mkv" | "m4v" => "mp4",
        _ => return None,
    })
}

fn extension(name: &str) -> String {
    match name.rsplit_once('.') {
        Some((_, ext)) => ext.to_ascii_lowercase(),
        None => String::new(),
    }
}

/// The name an output file is published under: `name` itself, or with its extension replaced
/// by one the emulator writes real bytes for (`clip.webm` → `clip.mp4`), so that every URL's
/// extension matches its bytes.
pub(crate) fn servable_name(name: &str) -> String {
    let ext = extension(name);
    match (substitute(&ext), name.rsplit_once('.')) {
        (Some(to), Some((stem, _))) => format!("{stem}.{to}"),
        _ => name.to_string(),
    }
}

/// The bytes and MIME type of a synthetic output file, chosen by its file extension.
pub(crate) fn file_for(name: &str, seed: u64) -> (Vec<u8>, &'static str) {
    let ext = extension(name);
    let ext = substitute(&ext).unwrap_or(&ext);
    match ext {
        "png" => (image::png(64, 64, seed), "image/png"),
        "jpg" | "jpeg" => (image::jpeg(64, 64, seed), "image/jpeg"),
        "webp" => (image::webp(64, 64, seed), "image/webp"),
        "gif" => (image::gif(64, 64, seed), "image/gif"),
        "bmp" => (image::bmp(64, 64, seed), "image/bmp"),
        "wav" => (audio::wav(seed), "audio/wav"),
        "mp3" => (audio::mp3(), "audio/mpeg"),
        "mp4" => (video::mp4(64, 64, seed), "video/mp4"),
        "json" => (format!("{{\"seed\":{seed}}}").into_bytes(), "application/json"),
        "srt" => (documents::srt(seed), "application/x-subrip"),
        "vtt" => (documents::vtt(seed), "text/vtt"),
        "zip" => (documents::zip(seed), "application/zip"),
        "tar" => (documents::tar(seed), "application/x-tar"),
        "pdf" => (documents::pdf(seed), "application/pdf"),
        "glb" => (documents::glb(), "model/gltf-binary"),
        "obj" => (documents::obj(), "model/obj"),
        "ply" => (documents::ply(), "application/octet-stream"),
        "npy" => (documents::npy(seed), "application/octet-stream"),
        _ => (format!("emulated output {name} (seed {seed})\n").into_bytes(), "text/plain"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_extension_gets_bytes_of_its_format() {
        let sig = |name: &str| {
            let (bytes, mime) = file_for(name, 42);
            (bytes[..12.min(bytes.len())].to_vec(), mime)
        };
        assert!(sig("a.webp").0.starts_with(b"RIFF") && sig("a.webp").0.ends_with(b"WEBP"));
        assert_eq!(sig("a.WEBP").1, "image/webp");
        assert!(sig("a.jpg").0.starts_with(&[0xFF, 0xD8, 0xFF]));
        assert_eq!(sig("a.jpeg").1, "image/jpeg");
        assert!(sig("a.gif").0.starts_with(b"GIF89a"));
        assert!(sig("a.bmp").0.starts_with(b"BM"));
        assert!(sig("a.mp3").0.starts_with(&[0xFF, 0xFB]));
        assert_eq!(&sig("a.mp4").0[4..8], b"ftyp");
        assert_eq!(sig("a.txt").1, "text/plain");
        assert!(sig("a.zip").0.starts_with(b"PK"));
        assert!(sig("a.pdf").0.starts_with(b"%PDF-"));
    }

    #[test]
    fn unsupported_extensions_are_renamed_within_their_family() {
        assert_eq!(servable_name("clip.webm"), "clip.mp4");
        assert_eq!(servable_name("song.flac"), "song.wav");
        assert_eq!(servable_name("scan.TIFF"), "scan.png");
        assert_eq!(servable_name("out-1.webp"), "out-1.webp");
        assert_eq!(servable_name("notes"), "notes");
        assert_eq!(file_for("scan.tiff", 1).1, "image/png");
    }
}
