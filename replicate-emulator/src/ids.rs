//! Identifiers in the shapes the real API uses.

const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// A 26-character lowercase base32-like id, like prediction ids.
pub(crate) fn prediction_id() -> String {
    (0..26).map(|_| ALPHABET[fastrand::usize(..32)] as char).collect()
}

/// `n` random lowercase hex characters.
pub(crate) fn hex(n: usize) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    (0..n).map(|_| H[fastrand::usize(..16)] as char).collect()
}

/// Lowercase hex of bytes.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(H[(b >> 4) as usize] as char);
        s.push(H[(b & 15) as usize] as char);
    }
    s
}

/// A deterministic 64-hex version id derived from a name (stable across runs).
pub(crate) fn version_id_for(name: &str) -> String {
    use sha2::{Digest, Sha256};
    to_hex(&Sha256::digest(name.as_bytes()))
}

/// Compares two byte strings in time independent of where they differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
