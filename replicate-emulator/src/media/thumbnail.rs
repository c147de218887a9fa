//! Thumbnails computed from an input image's pixels: PNG and JPEG inputs are decoded (the
//! `png` and `zune-jpeg` decoders) to 8-bit RGB, and each thumbnail pixel is the average of the
//! input pixels it covers.

use std::io::Cursor;

use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;

/// 8-bit RGB pixels, row by row (`pixels.len()` is `width * height * 3`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Rgb {
    /// Pixels per row.
    pub(crate) width: u32,
    /// Rows.
    pub(crate) height: u32,
    /// `r, g, b` of each pixel.
    pub(crate) pixels: Vec<u8>,
}

/// The most pixels an input may have to be decoded (a 100 MB file can declare far more).
pub(crate) const MAX_PIXELS: u64 = 40_000_000;

fn check_size(width: u64, height: u64) -> Result<(), String> {
    if width == 0 || height == 0 {
        return Err("it has no pixels".into());
    }
    if width * height > MAX_PIXELS {
        return Err(format!("{width}x{height} is more than the {MAX_PIXELS} pixels the emulator decodes"));
    }
    Ok(())
}

/// Decodes a PNG or JPEG image to RGB (alpha composed over white). Other formats and broken
/// data give an error that says why.
pub(crate) fn decode(bytes: &[u8]) -> Result<Rgb, String> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        decode_png(bytes).map_err(|e| format!("its PNG pixels do not decode: {e}"))
    } else if bytes.starts_with(&[0xFF, 0xD8]) {
        decode_jpeg(bytes).map_err(|e| format!("its JPEG pixels do not decode: {e}"))
    } else {
        Err("the derived image is computed from PNG or JPEG pixels; other formats are not decoded".into())
    }
}

fn decode_png(bytes: &[u8]) -> Result<Rgb, String> {
    let limits = png::Limits { bytes: (MAX_PIXELS * 4) as usize };
    let mut decoder = png::Decoder::new_with_limits(Cursor::new(bytes), limits);
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(|e| e.to_string())?;
    let (w, h) = (reader.info().width, reader.info().height);
    check_size(w.into(), h.into())?;
    let size = reader.output_buffer_size().ok_or("it is too large")?;
    let mut buf = vec![0; size];
    let frame = reader.next_frame(&mut buf).map_err(|e| e.to_string())?;
    let channels = match frame.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => return Err("its palette was not expanded".into()),
    };
    let row = frame.width as usize * channels;
    let mut pixels = Vec::with_capacity(frame.width as usize * frame.height as usize * 3);
    for line in buf.chunks(frame.line_size.max(1)).take(frame.height as usize) {
        push_rgb(&mut pixels, line.get(..row).ok_or("a row is short")?, channels);
    }
    Ok(Rgb { width: frame.width, height: frame.height, pixels })
}

fn decode_jpeg(bytes: &[u8]) -> Result<Rgb, String> {
    let options = DecoderOptions::default().jpeg_set_out_colorspace(ColorSpace::RGB);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(Cursor::new(bytes), options);
    decoder.decode_headers().map_err(|e| format!("{e:?}"))?;
    let info = decoder.info().ok_or("it has no frame header")?;
    check_size(info.width.into(), info.height.into())?;
    let decoded = decoder.decode().map_err(|e| format!("{e:?}"))?;
    let (w, h) = (info.width as usize, info.height as usize);
    let channels = decoded.len() / (w * h);
    if !(1..=4).contains(&channels) || decoded.len() != w * h * channels {
        return Err(format!("{} bytes for {w}x{h} pixels", decoded.len()));
    }
    let mut pixels = Vec::with_capacity(w * h * 3);
    push_rgb(&mut pixels, &decoded, channels);
    Ok(Rgb { width: info.width.into(), height: info.height.into(), pixels })
}

/// Appends `src` (gray, gray+alpha, RGB or RGBA samples) as RGB, alpha composed over white.
fn push_rgb(out: &mut Vec<u8>, src: &[u8], channels: usize) {
    let over_white = |c: u8, a: u8| ((c as u32 * a as u32 + 255 * (255 - a as u32)) / 255) as u8;
    for p in src.chunks_exact(channels) {
        match *p {
            [g] => out.extend_from_slice(&[g, g, g]),
            [g, a] => out.extend_from_slice(&[over_white(g, a); 3]),
            [r, g, b] => out.extend_from_slice(&[r, g, b]),
            [r, g, b, a] => out.extend_from_slice(&[over_white(r, a), over_white(g, a), over_white(b, a)]),
            _ => {}
        }
    }
}

/// The image scaled to `width`×`height` (at least 1×1): each pixel averages the input pixels
/// its area covers (the nearest one when scaling up).
pub(crate) fn resize(img: &Rgb, width: u32, height: u32) -> Rgb {
    let (width, height) = (width.max(1), height.max(1));
    let (sw, sh) = (img.width as usize, img.height as usize);
    let span = |i: u32, out: u32, src: usize| {
        let start = i as usize * src / out as usize;
        let end = ((i as usize + 1) * src / out as usize).max(start + 1).min(src);
        start..end
    };
    let mut pixels = Vec::with_capacity(width as usize * height as usize * 3);
    for y in 0..height {
        let rows = span(y, height, sh);
        for x in 0..width {
            let cols = span(x, width, sw);
            let mut sum = [0u64; 3];
            for r in rows.clone() {
                for c in cols.clone() {
                    let at = (r * sw + c) * 3;
                    for (s, v) in sum.iter_mut().zip(&img.pixels[at..at + 3]) {
                        *s += *v as u64;
                    }
                }
            }
            let n = (rows.len() * cols.len()).max(1) as u64;
            pixels.extend(sum.iter().map(|s| ((s + n / 2) / n) as u8));
        }
    }
    Rgb { width, height, pixels }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Left half black, right half white.
    fn halves(w: u32, h: u32) -> Rgb {
        let pixels = (0..h).flat_map(|_| (0..w).flat_map(|x| [if x < w / 2 { 0 } else { 255 }; 3])).collect();
        Rgb { width: w, height: h, pixels }
    }

    #[test]
    fn a_png_round_trips_and_its_thumbnail_averages_its_pixels() {
        let img = halves(40, 20);
        let decoded = decode(&super::super::png_rgb(40, 20, &img.pixels)).unwrap();
        assert_eq!(decoded, img);
        let t = resize(&decoded, 10, 5);
        assert_eq!((t.width, t.height, t.pixels.len()), (10, 5, 150));
        for y in 0..5 {
            let row = &t.pixels[y * 30..(y + 1) * 30];
            assert!(row[..15].iter().all(|&v| v == 0), "{row:?}");
            assert!(row[15..].iter().all(|&v| v == 255), "{row:?}");
        }
        // A pixel straddling the edge is the mean of what it covers.
        let t = resize(&halves(4, 1), 1, 1);
        assert_eq!(t.pixels, vec![128, 128, 128]);
    }

    #[test]
    fn a_jpeg_decodes_to_its_pixels() {
        let jpeg = super::super::image::jpeg(64, 48, 7);
        let img = decode(&jpeg).unwrap();
        assert_eq!((img.width, img.height, img.pixels.len()), (64, 48, 64 * 48 * 3));
        let t = resize(&img, 16, 12);
        assert_eq!(t.pixels.len(), 16 * 12 * 3);
        // Each thumbnail pixel is close to the mean of its 4x4 block of the decoded image.
        let block_mean = |bx: usize, by: usize| {
            let mut s = 0u32;
            for y in by * 4..by * 4 + 4 {
                for x in bx * 4..bx * 4 + 4 {
                    s += img.pixels[(y * 64 + x) * 3] as u32;
                }
            }
            (s / 16) as i32
        };
        for (bx, by) in [(0, 0), (15, 0), (7, 6), (15, 11)] {
            let got = t.pixels[(by * 16 + bx) * 3] as i32;
            assert!((got - block_mean(bx, by)).abs() <= 1, "({bx},{by}): {got}");
        }
    }

    #[test]
    fn other_formats_and_broken_or_huge_images_are_refused() {
        assert!(decode(b"GIF89a....").unwrap_err().contains("PNG or JPEG"));
        let mut broken = super::super::png(8, 8, 1);
        broken.truncate(40);
        assert!(decode(&broken).unwrap_err().contains("PNG pixels do not decode"));
        assert!(check_size(10_000, 10_000).unwrap_err().contains("more than"));
        assert!(check_size(0, 5).is_err());
    }
}
