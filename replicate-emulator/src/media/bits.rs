//! Bit writers (LSB-first for GIF/WebP, MSB-first for JPEG/H.264) and the checksums the
//! file formats need (CRC-32, Adler-32).

/// Packs bits least-significant first (GIF LZW codes, WebP lossless).
#[derive(Default)]
pub(super) struct LsbWriter {
    /// Finished bytes.
    pub bytes: Vec<u8>,
    acc: u64,
    n: u32,
}

impl LsbWriter {
    /// Appends the low `count` bits of `value`.
    pub(super) fn put(&mut self, value: u32, count: u32) {
        self.acc |= (value as u64 & ((1u64 << count) - 1)) << self.n;
        self.n += count;
        while self.n >= 8 {
            self.bytes.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    /// Flushes a partial byte (zero padded) and returns the bytes.
    pub(super) fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            self.bytes.push(self.acc as u8);
        }
        self.bytes
    }
}

/// Packs bits most-significant first (JPEG entropy data, H.264 RBSP).
#[derive(Default)]
pub(super) struct MsbWriter {
    /// Finished bytes.
    pub bytes: Vec<u8>,
    acc: u8,
    n: u32,
}

impl MsbWriter {
    /// Appends the low `count` bits of `value`, most significant first.
    pub(super) fn put(&mut self, value: u32, count: u32) {
        for i in (0..count).rev() {
            self.acc = (self.acc << 1) | ((value >> i) & 1) as u8;
            self.n += 1;
            if self.n == 8 {
                self.bytes.push(self.acc);
                self.acc = 0;
                self.n = 0;
            }
        }
    }

    /// Unsigned Exp-Golomb code (H.264 `ue(v)`).
    pub(super) fn ue(&mut self, value: u32) {
        let v = value + 1;
        let len = 32 - v.leading_zeros();
        self.put(0, len - 1);
        self.put(v, len);
    }

    /// Signed Exp-Golomb code (H.264 `se(v)`).
    pub(super) fn se(&mut self, value: i32) {
        let mapped = if value > 0 { 2 * value as u32 - 1 } else { 2 * value.unsigned_abs() };
        self.ue(mapped);
    }

    /// True when the next bit starts a byte.
    pub(super) fn aligned(&self) -> bool {
        self.n == 0
    }

    /// Pads the last byte with `pad` bits (0 or 1) and returns the bytes.
    pub(super) fn finish(mut self, pad: u32) -> Vec<u8> {
        while self.n != 0 {
            self.put(pad, 1);
        }
        self.bytes
    }
}

/// CRC-32 (IEEE, as PNG and ZIP use it) over several slices.
pub(super) fn crc32(data: &[&[u8]]) -> u32 {
    let mut table = [0u32; 256];
    for (n, slot) in table.iter_mut().enumerate() {
        let mut c = n as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
        }
        *slot = c;
    }
    let mut crc = 0xFFFF_FFFFu32;
    for part in data {
        for &b in *part {
            crc = table[((crc ^ b as u32) & 0xFF) as usize] ^ (crc >> 8);
        }
    }
    crc ^ 0xFFFF_FFFF
}

/// Adler-32 (the zlib trailer).
pub(super) fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + x as u32) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_and_adler_known_values() {
        assert_eq!(crc32(&[b"123456789"]), 0xCBF4_3926);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
    }

    #[test]
    fn writers_pack_in_their_order() {
        let mut l = LsbWriter::default();
        l.put(0b1, 1);
        l.put(0b10, 2);
        assert_eq!(l.finish(), vec![0b101]);
        let mut m = MsbWriter::default();
        m.ue(0); // 1
        m.ue(1); // 010
        m.se(-1); // ue(2) = 011
        assert_eq!(m.finish(0), vec![0b1010_0110]);
    }
}
