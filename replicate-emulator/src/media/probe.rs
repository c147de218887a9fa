//! Reading facts from the bytes of an input file: the format, media type and dimensions of an
//! image (PNG, JPEG, GIF, WebP, BMP) and the format, rate, channels and duration of audio (WAV,
//! MP3, FLAC, Ogg). Headers only: nothing here decodes pixels or samples.

/// What an image's header says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ImageInfo {
    /// `png`, `jpeg`, `gif`, `webp` or `bmp`.
    pub(crate) format: &'static str,
    /// `image/png`, ...
    pub(crate) media_type: &'static str,
    /// Pixels.
    pub(crate) width: u32,
    /// Pixels.
    pub(crate) height: u32,
}

fn be16(b: &[u8], at: usize) -> Option<u32> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]) as u32)
}
fn le16(b: &[u8], at: usize) -> Option<u32> {
    Some(u16::from_le_bytes([*b.get(at)?, *b.get(at + 1)?]) as u32)
}
fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn le24(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes([*b.get(at)?, *b.get(at + 1)?, *b.get(at + 2)?, 0]))
}

fn start_of(bytes: &[u8]) -> String {
    let head: String = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
    if bytes.is_empty() { "it is empty".into() } else { format!("it starts with {head}") }
}

/// The format and size of an image, or why its bytes are not an image this reads.
pub(crate) fn image_info(b: &[u8]) -> Result<ImageInfo, String> {
    let truncated = |f: &str| format!("a truncated or corrupt {f} image ({} bytes)", b.len());
    let info = |format, media_type, width: u32, height: u32| {
        if width == 0 || height == 0 {
            return Err(format!("a {format} image of {width}x{height} pixels"));
        }
        Ok(ImageInfo { format, media_type, width, height })
    };
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        if b.get(12..16) != Some(b"IHDR") {
            return Err(truncated("PNG"));
        }
        let (w, h) = be32(b, 16).zip(be32(b, 20)).ok_or_else(|| truncated("PNG"))?;
        return info("png", "image/png", w, h);
    }
    if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        let (w, h) = le16(b, 6).zip(le16(b, 8)).ok_or_else(|| truncated("GIF"))?;
        return info("gif", "image/gif", w, h);
    }
    if b.starts_with(b"BM") && b.len() >= 26 {
        let w = le32(b, 18).ok_or_else(|| truncated("BMP"))? as i32;
        let h = le32(b, 22).ok_or_else(|| truncated("BMP"))? as i32;
        return info("bmp", "image/bmp", w.unsigned_abs(), h.unsigned_abs());
    }
    if b.starts_with(b"RIFF") && b.get(8..12) == Some(b"WEBP") {
        let (w, h) = match b.get(12..16) {
            Some(b"VP8L") => {
                let bits = le32(b, 21).ok_or_else(|| truncated("WebP"))?;
                ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
            }
            Some(b"VP8 ") => {
                let w = le16(b, 26).ok_or_else(|| truncated("WebP"))? & 0x3FFF;
                let h = le16(b, 28).ok_or_else(|| truncated("WebP"))? & 0x3FFF;
                (w, h)
            }
            Some(b"VP8X") => {
                let w = le24(b, 24).ok_or_else(|| truncated("WebP"))? + 1;
                let h = le24(b, 27).ok_or_else(|| truncated("WebP"))? + 1;
                (w, h)
            }
            _ => return Err(truncated("WebP")),
        };
        return info("webp", "image/webp", w, h);
    }
    if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        let mut i = 2;
        while i + 4 <= b.len() {
            if b[i] != 0xFF {
                return Err(truncated("JPEG"));
            }
            let marker = b[i + 1];
            if marker == 0xFF {
                i += 1;
                continue;
            }
            if matches!(marker, 0xD8 | 0x01 | 0xD0..=0xD7) {
                i += 2;
                continue;
            }
            let len = be16(b, i + 2).ok_or_else(|| truncated("JPEG"))? as usize;
            let sof = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
            if sof {
                let h = be16(b, i + 5).ok_or_else(|| truncated("JPEG"))?;
                let w = be16(b, i + 7).ok_or_else(|| truncated("JPEG"))?;
                return info("jpeg", "image/jpeg", w, h);
            }
            if marker == 0xDA || len < 2 {
                break;
            }
            i += 2 + len;
        }
        return Err(truncated("JPEG"));
    }
    Err(format!("not a PNG, JPEG, GIF, WebP or BMP image: {}", start_of(b)))
}

/// What an audio file's header says.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct AudioInfo {
    /// `wav`, `mp3`, `flac` or `ogg`.
    pub(crate) format: &'static str,
    /// `audio/wav`, ...
    pub(crate) media_type: &'static str,
    /// Samples per second (when the header says).
    pub(crate) sample_rate: Option<u32>,
    /// Channels (when the header says).
    pub(crate) channels: Option<u32>,
    /// Seconds (when it can be told from the header and size).
    pub(crate) duration: Option<f64>,
}

/// The format of an audio file and what its header tells, or why it is not audio this reads.
pub(crate) fn audio_info(b: &[u8]) -> Result<AudioInfo, String> {
    let truncated = |f: &str| format!("a truncated or corrupt {f} file ({} bytes)", b.len());
    if b.starts_with(b"RIFF") && b.get(8..12) == Some(b"WAVE") {
        let (mut rate, mut channels, mut block, mut data) = (None, None, None, None);
        let mut i = 12;
        while i + 8 <= b.len() {
            let id = &b[i..i + 4];
            let len = le32(b, i + 4).ok_or_else(|| truncated("WAV"))? as usize;
            if id == b"fmt " {
                channels = le16(b, i + 10);
                rate = le32(b, i + 12);
                block = le16(b, i + 20);
            } else if id == b"data" {
                data = Some(len.min(b.len().saturating_sub(i + 8)));
                break;
            }
            i = i.saturating_add(8).saturating_add(len).saturating_add(len & 1);
        }
        let (Some(rate), Some(channels)) = (rate, channels) else {
            return Err(truncated("WAV"));
        };
        if rate == 0 || channels == 0 {
            return Err(truncated("WAV"));
        }
        let duration = match (data, block) {
            (Some(d), Some(bl)) if bl > 0 => Some(d as f64 / bl as f64 / rate as f64),
            _ => None,
        };
        return Ok(AudioInfo {
            format: "wav",
            media_type: "audio/wav",
            sample_rate: Some(rate),
            channels: Some(channels),
            duration,
        });
    }
    if b.starts_with(b"fLaC") {
        // STREAMINFO: 20 bits rate, 3 bits channels-1, 5 bits bps-1, 36 bits total samples.
        let s = b.get(8..8 + 34).ok_or_else(|| truncated("FLAC"))?;
        let rate = (s[10] as u32) << 12 | (s[11] as u32) << 4 | (s[12] as u32) >> 4;
        let channels = ((s[12] >> 1) & 7) as u32 + 1;
        let total = ((s[13] & 0x0F) as u64) << 32 | u32::from_be_bytes([s[14], s[15], s[16], s[17]]) as u64;
        let duration = (rate > 0 && total > 0).then(|| total as f64 / rate as f64);
        return Ok(AudioInfo {
            format: "flac",
            media_type: "audio/flac",
            sample_rate: (rate > 0).then_some(rate),
            channels: Some(channels),
            duration,
        });
    }
    if b.starts_with(b"OggS") {
        return Ok(AudioInfo {
            format: "ogg",
            media_type: "audio/ogg",
            sample_rate: None,
            channels: None,
            duration: None,
        });
    }
    let mut start = 0;
    if b.starts_with(b"ID3") && b.len() >= 10 {
        let size = b[6..10].iter().fold(0usize, |acc, x| (acc << 7) | (*x as usize & 0x7F));
        start = 10 + size;
    }
    if let Some(h) = b.get(start..start + 4)
        && h[0] == 0xFF
        && h[1] & 0xE0 == 0xE0
    {
        // MPEG audio frame header: version, layer, bitrate and sample rate indexes.
        let version = (h[1] >> 3) & 3; // 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5
        let layer = (h[1] >> 1) & 3; // 1 = layer III
        let bitrate_ix = (h[2] >> 4) as usize;
        let rate_ix = ((h[2] >> 2) & 3) as usize;
        if version == 1 || layer == 0 || bitrate_ix == 0 || bitrate_ix == 15 || rate_ix == 3 {
            return Err(truncated("MP3"));
        }
        let rates: [u32; 3] = match version {
            3 => [44_100, 48_000, 32_000],
            2 => [22_050, 24_000, 16_000],
            _ => [11_025, 12_000, 8_000],
        };
        const L3_V1: [u32; 15] = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
        const L3_V2: [u32; 15] = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
        let kbps = if version == 3 { L3_V1[bitrate_ix] } else { L3_V2[bitrate_ix] };
        let channels = if h[3] >> 6 == 3 { 1 } else { 2 };
        let duration = Some((b.len() - start) as f64 * 8.0 / (kbps as f64 * 1000.0));
        return Ok(AudioInfo {
            format: "mp3",
            media_type: "audio/mpeg",
            sample_rate: Some(rates[rate_ix]),
            channels: Some(channels),
            duration,
        });
    }
    Err(format!("not a WAV, MP3, FLAC or Ogg audio file: {}", start_of(b)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::{audio, image};

    #[test]
    fn reads_the_size_of_every_image_format_the_emulator_writes() {
        let cases: [(Vec<u8>, &str); 5] = [
            (image::png(37, 21, 1), "png"),
            (image::jpeg(40, 24, 1), "jpeg"),
            (image::gif(33, 17, 1), "gif"),
            (image::webp(30, 20, 1), "webp"),
            (image::bmp(9, 7, 1), "bmp"),
        ];
        let sizes = [(37, 21), (40, 24), (33, 17), (30, 20), (9, 7)];
        for ((bytes, format), (w, h)) in cases.iter().zip(sizes) {
            let i = image_info(bytes).unwrap();
            assert_eq!((i.format, i.width, i.height), (*format, w, h));
        }
    }

    #[test]
    fn refuses_what_is_not_an_image() {
        assert!(image_info(b"hello").unwrap_err().contains("68656c6c6f"));
        assert!(image_info(b"").unwrap_err().contains("empty"));
        assert!(image_info(b"\x89PNG\r\n\x1a\n").unwrap_err().contains("truncated"));
        assert!(image_info(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 2]).is_err());
    }

    #[test]
    fn reads_audio_headers() {
        let w = audio_info(&audio::wav(1)).unwrap();
        assert_eq!((w.format, w.sample_rate, w.channels), ("wav", Some(8000), Some(1)));
        assert!((w.duration.unwrap() - 0.5).abs() < 1e-9);
        let m = audio_info(&audio::mp3()).unwrap();
        assert_eq!((m.format, m.sample_rate, m.channels), ("mp3", Some(44_100), Some(1)));
        assert!(audio_info(&image::png(2, 2, 0)).unwrap_err().contains("not a WAV"));
        assert!(audio_info(b"RIFF\0\0\0\0WAVE").is_err());
    }
}
