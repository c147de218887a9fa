//! Small hand-written image encoders: PNG, JPEG (baseline, grayscale), GIF, WebP (lossless)
//! and BMP. Every image is a seed-tinted pattern that real decoders accept.

use super::bits::{LsbWriter, MsbWriter, adler32, crc32};

fn tint(seed: u64) -> (u8, u8, u8) {
    ((seed & 0xFF) as u8, ((seed >> 8) & 0xFF) as u8, ((seed >> 16) & 0xFF) as u8)
}

/// zlib stream with stored (uncompressed) deflate blocks.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let mut chunks = data.chunks(65_535).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xFF, 0xFF]);
    }
    while let Some(chunk) = chunks.next() {
        let last = chunks.peek().is_none();
        out.push(u8::from(last));
        let len = chunk.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32(&[kind, data]).to_be_bytes());
}

/// A valid RGB PNG of `w`×`h` pixels: a gradient tinted by `seed`.
pub(crate) fn png(w: u32, h: u32, seed: u64) -> Vec<u8> {
    let (r0, g0, b0) = tint(seed);
    let mut rgb = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            rgb.push(r0.wrapping_add((x * 255 / w.max(1)) as u8));
            rgb.push(g0.wrapping_add((y * 255 / h.max(1)) as u8));
            rgb.push(b0);
        }
    }
    png_rgb(w, h, &rgb)
}

/// A PNG of `w`×`h` 8-bit RGB pixels given row by row (`rgb.len()` is `w * h * 3`).
pub(crate) fn png_rgb(w: u32, h: u32, rgb: &[u8]) -> Vec<u8> {
    let row = w as usize * 3;
    let mut raw = Vec::with_capacity((row + 1) * h as usize);
    for line in rgb.chunks(row.max(1)).take(h as usize) {
        raw.push(0); // filter: none
        raw.extend_from_slice(line);
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    png_chunk(&mut out, b"IHDR", &ihdr);
    png_chunk(&mut out, b"IDAT", &zlib_stored(&raw));
    png_chunk(&mut out, b"IEND", &[]);
    out
}

/// A 24-bit BMP of `w`×`h` pixels (bottom-up rows padded to 4 bytes).
pub(super) fn bmp(w: u32, h: u32, seed: u64) -> Vec<u8> {
    let (r0, g0, b0) = tint(seed);
    let row = (w * 3).div_ceil(4) * 4;
    let size = 54 + row * h;
    let mut out = Vec::with_capacity(size as usize);
    out.extend_from_slice(b"BM");
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&54u32.to_le_bytes());
    out.extend_from_slice(&40u32.to_le_bytes());
    out.extend_from_slice(&(w as i32).to_le_bytes());
    out.extend_from_slice(&(h as i32).to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&24u16.to_le_bytes());
    out.extend_from_slice(&[0; 4]); // BI_RGB
    out.extend_from_slice(&(row * h).to_le_bytes());
    out.extend_from_slice(&2835u32.to_le_bytes());
    out.extend_from_slice(&2835u32.to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    for y in (0..h).rev() {
        for x in 0..w {
            out.push(b0);
            out.push(g0.wrapping_add((y * 255 / h.max(1)) as u8));
            out.push(r0.wrapping_add((x * 255 / w.max(1)) as u8));
        }
        out.resize(out.len() + (row - w * 3) as usize, 0);
    }
    out
}

/// A GIF89a of `w`×`h` pixels with a 256-colour palette. The LZW stream holds only literal
/// codes (a clear code every 250 codes keeps the code width at 9 bits), which every decoder reads.
pub(super) fn gif(w: u16, h: u16, seed: u64) -> Vec<u8> {
    let (r0, g0, b0) = tint(seed);
    let mut out = b"GIF89a".to_vec();
    out.extend_from_slice(&w.to_le_bytes());
    out.extend_from_slice(&h.to_le_bytes());
    out.extend_from_slice(&[0xF7, 0, 0]); // global table of 256 colours
    for i in 0..=255u8 {
        out.extend_from_slice(&[r0.wrapping_add(i), g0.wrapping_add(255 - i), b0]);
    }
    out.push(0x2C);
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&w.to_le_bytes());
    out.extend_from_slice(&h.to_le_bytes());
    out.push(0);
    out.push(8); // LZW minimum code size
    let (clear, end) = (256u32, 257u32);
    let mut bits = LsbWriter::default();
    bits.put(clear, 9);
    let mut since_clear = 0;
    let span = (w as u32 + h as u32).max(1);
    for y in 0..h as u32 {
        for x in 0..w as u32 {
            bits.put((x + y) * 255 / span, 9);
            since_clear += 1;
            if since_clear == 250 {
                bits.put(clear, 9);
                since_clear = 0;
            }
        }
    }
    bits.put(end, 9);
    for block in bits.finish().chunks(255) {
        out.push(block.len() as u8);
        out.extend_from_slice(block);
    }
    out.push(0);
    out.push(0x3B);
    out
}

/// Canonical Huffman codes `(code, length)` for JPEG `bits` counts, in symbol order.
fn huffman_codes(counts: &[u8; 16]) -> Vec<(u32, u32)> {
    let mut codes = Vec::new();
    let mut code = 0u32;
    for (i, &n) in counts.iter().enumerate() {
        for _ in 0..n {
            codes.push((code, i as u32 + 1));
            code += 1;
        }
        code <<= 1;
    }
    codes
}

fn jpeg_segment(out: &mut Vec<u8>, marker: u8, data: &[u8]) {
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(&((data.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(data);
}

/// A baseline grayscale JFIF of `w`×`h` pixels (multiples of 8): one flat shade per 8×8
/// block (DC coefficients only), forming a gradient.
pub(super) fn jpeg(w: u16, h: u16, seed: u64) -> Vec<u8> {
    const DC_COUNTS: [u8; 16] = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
    const AC_COUNTS: [u8; 16] = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let (bw, bh) = ((w / 8).max(1), (h / 8).max(1));
    let (w, h) = (bw * 8, bh * 8);
    let mut out = vec![0xFF, 0xD8];
    jpeg_segment(&mut out, 0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    let mut dqt = vec![0u8];
    dqt.extend_from_slice(&[8u8; 64]);
    jpeg_segment(&mut out, 0xDB, &dqt);
    let mut sof = vec![8];
    sof.extend_from_slice(&h.to_be_bytes());
    sof.extend_from_slice(&w.to_be_bytes());
    sof.extend_from_slice(&[1, 1, 0x11, 0]);
    jpeg_segment(&mut out, 0xC0, &sof);
    let mut dht = vec![0x00];
    dht.extend_from_slice(&DC_COUNTS);
    dht.extend(0..=11u8);
    dht.push(0x10);
    dht.extend_from_slice(&AC_COUNTS);
    dht.push(0x00); // the only AC symbol: end of block
    jpeg_segment(&mut out, 0xC4, &dht);
    jpeg_segment(&mut out, 0xDA, &[1, 1, 0x00, 0, 63, 0]);
    let dc = huffman_codes(&DC_COUNTS);
    let (eob, eob_len) = huffman_codes(&AC_COUNTS)[0];
    let base = (seed & 0x3F) as i32;
    let mut bits = MsbWriter::default();
    let mut prev = 0i32;
    for by in 0..bh as i32 {
        for bx in 0..bw as i32 {
            // shade 0..=255, level-shifted; quantiser 8 makes the DC value equal to it
            let shade = (base + (bx + by) * 190 / (bw as i32 + bh as i32)).clamp(0, 255);
            let value = shade - 128;
            let diff = value - prev;
            prev = value;
            let cat = 32 - diff.unsigned_abs().leading_zeros();
            let (code, len) = dc[cat as usize];
            bits.put(code, len);
            if cat > 0 {
                let extra = if diff >= 0 { diff } else { diff - 1 } as u32 & ((1 << cat) - 1);
                bits.put(extra, cat);
            }
            bits.put(eob, eob_len);
        }
    }
    for b in bits.finish(1) {
        out.push(b);
        if b == 0xFF {
            out.push(0); // byte stuffing
        }
    }
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

/// A lossless WebP (VP8L) of `w`×`h` pixels: a two-colour checkerboard, one bit per pixel
/// (two-symbol simple prefix codes; red, blue and alpha are single-symbol codes).
pub(super) fn webp(w: u32, h: u32, seed: u64) -> Vec<u8> {
    let (r, g, b) = tint(seed);
    let (g0, g1) = (g & 0x7F, (g & 0x7F) + 128); // two distinct greens, ascending
    let mut bits = LsbWriter::default();
    bits.put(0x2F, 8);
    bits.put(w - 1, 14);
    bits.put(h - 1, 14);
    bits.put(0, 1); // alpha unused
    bits.put(0, 3); // version
    bits.put(0, 1); // no transform
    bits.put(0, 1); // no colour cache
    bits.put(0, 1); // no meta prefix codes
    // green: simple code, two 8-bit symbols
    bits.put(1, 1);
    bits.put(1, 1);
    bits.put(1, 1);
    bits.put(g0 as u32, 8);
    bits.put(g1 as u32, 8);
    for single in [r, b, 255] {
        bits.put(1, 1);
        bits.put(0, 1);
        bits.put(1, 1);
        bits.put(single as u32, 8);
    }
    // distance: one 1-bit symbol (0), never used
    bits.put(1, 1);
    bits.put(0, 1);
    bits.put(0, 1);
    bits.put(0, 1);
    for y in 0..h {
        for x in 0..w {
            bits.put((x / 8 + y / 8) & 1, 1);
        }
    }
    let mut data = bits.finish();
    let len = data.len() as u32;
    if data.len() % 2 == 1 {
        data.push(0);
    }
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(4 + 8 + data.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WEBPVP8L");
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_has_signature_and_valid_crc() {
        let p = png(4, 3, 7);
        assert_eq!(&p[..8], b"\x89PNG\r\n\x1a\n");
        let crc = u32::from_be_bytes([p[29], p[30], p[31], p[32]]);
        assert_eq!(crc, crc32(&[&p[12..29]]));
        assert_eq!(&p[p.len() - 8..p.len() - 4], b"IEND");
    }

    #[test]
    fn headers_and_sizes_are_consistent() {
        let b = bmp(5, 3, 1);
        assert_eq!(&b[..2], b"BM");
        assert_eq!(u32::from_le_bytes([b[2], b[3], b[4], b[5]]) as usize, b.len());
        assert_eq!(b.len(), 54 + 16 * 3);
        let g = gif(16, 16, 1);
        assert_eq!(&g[..6], b"GIF89a");
        assert_eq!(g.last(), Some(&0x3B));
        let j = jpeg(64, 64, 1);
        assert_eq!(&j[..4], &[0xFF, 0xD8, 0xFF, 0xE0]);
        assert_eq!(&j[j.len() - 2..], &[0xFF, 0xD9]);
        let w = webp(64, 64, 1);
        assert_eq!(&w[..4], b"RIFF");
        assert_eq!(&w[8..16], b"WEBPVP8L");
        assert_eq!(u32::from_le_bytes([w[4], w[5], w[6], w[7]]) as usize, w.len() - 8);
        assert_eq!(w.len() % 2, 0);
    }

    #[test]
    fn jpeg_dc_codes_are_the_standard_table() {
        let dc = huffman_codes(&[0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(dc[0], (0b00, 2));
        assert_eq!(dc[5], (0b110, 3));
        assert_eq!(dc[11], (0b1_1111_1110, 9));
    }
}
