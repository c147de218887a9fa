//! Wall-clock helpers: unix microseconds and RFC 3339 formatting/parsing without extra crates.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// Microseconds since the unix epoch, now.
pub(crate) fn now_micros() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0)
}

/// A timestamp (unix microseconds) that displays as RFC 3339 UTC with microseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Ts(pub i64);

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl fmt::Display for Ts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.div_euclid(1_000_000);
        let micros = self.0.rem_euclid(1_000_000);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
            sod / 3600,
            (sod / 60) % 60,
            sod % 60
        )
    }
}

impl serde::Serialize for Ts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Parses an RFC 3339 timestamp (`2024-01-02T03:04:05(.fff)?(Z|±hh:mm)`) or a bare date
/// into unix microseconds.
pub(crate) fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> { s.get(r)?.parse().ok() };
    let y = num(0..4)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let mo = num(5..7)? as u32;
    let d = num(8..10)? as u32;
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let mut micros = days_from_civil(y, mo, d) * 86_400 * 1_000_000;
    if b.len() == 10 {
        return Some(micros);
    }
    if !matches!(b.get(10), Some(b'T') | Some(b't') | Some(b' ')) {
        return None;
    }
    let h = num(11..13)?;
    let mi = num(14..16)?;
    let se = num(17..19)?;
    micros += (h * 3600 + mi * 60 + se) * 1_000_000;
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let frac = &s[start..i];
        let mut v: i64 = 0;
        for (k, c) in frac.bytes().take(6).enumerate() {
            v += (c - b'0') as i64 * 10i64.pow(5 - k as u32);
        }
        micros += v;
    }
    match b.get(i) {
        None | Some(b'Z') | Some(b'z') => Some(micros),
        Some(sign @ (b'+' | b'-')) => {
            let oh = num(i + 1..i + 3)?;
            let om = num(i + 4..i + 6)?;
            let off = (oh * 3600 + om * 60) * 1_000_000;
            Some(if *sign == b'+' { micros - off } else { micros + off })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_roundtrip() {
        let t = Ts(1_614_265_330_123_456);
        let s = t.to_string();
        assert_eq!(s, "2021-02-25T15:02:10.123456Z");
        assert_eq!(parse_rfc3339(&s), Some(t.0));
        assert_eq!(parse_rfc3339("2021-02-25T16:02:10.123456+01:00"), Some(t.0));
        assert_eq!(parse_rfc3339("2021-02-25"), Some(1_614_211_200_000_000));
        assert_eq!(parse_rfc3339("nope"), None);
    }
}
