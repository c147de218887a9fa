//! Audio files: WAV (a seed-pitched sine tone) and MP3 (MPEG-1 Layer III frames of silence).

/// A valid 16-bit mono PCM WAV: a short sine tone whose pitch depends on `seed`.
pub(crate) fn wav(seed: u64) -> Vec<u8> {
    let rate = 8_000u32;
    let samples = rate / 2;
    let freq = 220.0 + (seed % 440) as f64;
    let data_len = samples * 2;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for i in 0..samples {
        let t = i as f64 / rate as f64;
        let v = ((t * freq * std::f64::consts::TAU).sin() * 8_000.0) as i16;
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// An MP3 of about half a second of silence: 20 MPEG-1 Layer III frames (mono, 128 kbit/s,
/// 44.1 kHz), each a header, zero side information and zero main data.
pub(super) fn mp3() -> Vec<u8> {
    const FRAME: usize = 417; // 144 * 128000 / 44100, no padding
    let mut out = Vec::with_capacity(FRAME * 20);
    for _ in 0..20 {
        let start = out.len();
        out.extend_from_slice(&[0xFF, 0xFB, 0x90, 0xC0]);
        out.resize(start + FRAME, 0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wav_header() {
        let w = wav(1);
        assert_eq!(&w[..4], b"RIFF");
        assert_eq!(&w[8..12], b"WAVE");
        assert_eq!(w.len(), 44 + 8_000);
    }

    #[test]
    fn mp3_frames_follow_each_other() {
        let m = mp3();
        assert_eq!(m.len(), 417 * 20);
        assert!(m.chunks(417).all(|f| f[..2] == [0xFF, 0xFB]));
    }
}
