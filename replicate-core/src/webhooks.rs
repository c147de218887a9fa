//! Verifying webhook deliveries (the Standard Webhooks scheme Replicate signs with).
//!
//! A delivery carries `webhook-id`, `webhook-timestamp` (unix seconds) and `webhook-signature`
//! (space-separated `v1,<base64>` entries). The signed content is `"{id}.{timestamp}.{body}"`, signed with
//! HMAC-SHA256 under the key that is the base64 text after `whsec_` in the secret
//! ([`Replicate::webhooks`](crate::Replicate::webhooks)`().default_secret()` returns it).
//!
//! ```
//! use replicate_core::webhooks::WebhookVerifier;
//! let verifier = WebhookVerifier::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
//! verifier.verify_parts_at(
//!     "msg_p5jXN8AQM9LWM0D4loKWxJek",
//!     "1614265330",
//!     "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
//!     br#"{"test": 2432232314}"#,
//!     std::time::UNIX_EPOCH + std::time::Duration::from_secs(1614265330),
//! )?;
//! # Ok::<(), replicate_core::webhooks::WebhookError>(())
//! ```

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use reqwest::header::HeaderMap;
use sha2::Sha256;

/// How far a delivery's timestamp may be from now, unless configured otherwise.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);
/// The most entries a `webhook-signature` header may hold (a sender rotating secrets sends a few).
pub const MAX_SIGNATURE_ENTRIES: usize = 16;
/// The longest `webhook-signature` header accepted, in bytes.
pub const MAX_SIGNATURE_HEADER_BYTES: usize = 4096;
/// The longest `webhook-id` accepted, in bytes.
pub const MAX_ID_BYTES: usize = 256;

/// Why a delivery failed verification. Each failure has its own variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The secret is not `whsec_` followed by base64.
    #[error("invalid webhook secret: {0}")]
    InvalidSecret(&'static str),
    /// A required header is absent.
    #[error("webhook delivery has no {0} header")]
    MissingHeader(&'static str),
    /// A header is present but unusable.
    #[error("webhook header {header} is malformed: {reason}")]
    MalformedHeader {
        /// The header's name.
        header: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// The timestamp is older than the tolerance (a replay, or a very late delivery).
    #[error("webhook timestamp is {age:?} old, beyond the {tolerance:?} tolerance")]
    Expired {
        /// How old it is.
        age: Duration,
        /// The tolerance in force.
        tolerance: Duration,
    },
    /// The timestamp lies further in the future than the tolerance.
    #[error("webhook timestamp is {ahead:?} in the future, beyond the {tolerance:?} tolerance")]
    FutureTimestamp {
        /// How far ahead it is.
        ahead: Duration,
        /// The tolerance in force.
        tolerance: Duration,
    },
    /// No `v1` signature entry matches the content: forged, altered, or signed with another secret.
    #[error("webhook signature does not match")]
    SignatureMismatch,
}

/// A webhook signing secret (`whsec_...`). `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret {
    key: Vec<u8>,
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(whsec_***)")
    }
}

impl WebhookSecret {
    /// Parses `whsec_<base64>` (the prefix is optional).
    pub fn parse(secret: &str) -> Result<Self, WebhookError> {
        let encoded = secret.trim();
        let encoded = encoded.strip_prefix("whsec_").unwrap_or(encoded);
        if encoded.is_empty() {
            return Err(WebhookError::InvalidSecret("it is empty"));
        }
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| WebhookError::InvalidSecret("the text after whsec_ is not base64"))?;
        Ok(WebhookSecret { key })
    }

    /// A secret from raw key bytes.
    pub fn from_key(key: impl Into<Vec<u8>>) -> Self {
        WebhookSecret { key: key.into() }
    }

    /// The `v1,<base64>` signature of a delivery (what the sender puts in `webhook-signature`).
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mac = self.mac(id, &timestamp.to_string(), body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }

    fn mac(&self, id: &str, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
        #[cfg(test)]
        tests::MACS.with(|n| n.set(n.get() + 1));
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }
}

impl FromStr for WebhookSecret {
    type Err = WebhookError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        WebhookSecret::parse(s)
    }
}

/// Checks webhook deliveries against a secret, within a timestamp tolerance.
#[derive(Debug, Clone)]
pub struct WebhookVerifier {
    secret: WebhookSecret,
    tolerance: Duration,
}

impl WebhookVerifier {
    /// A verifier for `whsec_...` with the default 5-minute tolerance.
    pub fn new(secret: &str) -> Result<Self, WebhookError> {
        Ok(Self::from_secret(WebhookSecret::parse(secret)?))
    }

    /// A verifier for a parsed secret.
    pub fn from_secret(secret: WebhookSecret) -> Self {
        WebhookVerifier { secret, tolerance: DEFAULT_TOLERANCE }
    }

    /// How far from now a timestamp may be, either way.
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// The secret.
    pub fn secret(&self) -> &WebhookSecret {
        &self.secret
    }

    /// Verifies a delivery from its headers and raw body, against the current time.
    pub fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), WebhookError> {
        self.verify_at(headers, body, SystemTime::now())
    }

    /// Verifies a delivery from its headers and raw body, as of `now`.
    pub fn verify_at(&self, headers: &HeaderMap, body: &[u8], now: SystemTime) -> Result<(), WebhookError> {
        let get = |name: &'static str| -> Result<&str, WebhookError> {
            let value = headers.get(name).ok_or(WebhookError::MissingHeader(name))?;
            value
                .to_str()
                .map_err(|_| WebhookError::MalformedHeader { header: name, reason: "not visible ASCII" })
        };
        self.verify_parts_at(
            get("webhook-id")?,
            get("webhook-timestamp")?,
            get("webhook-signature")?,
            body,
            now,
        )
    }

    /// Verifies a delivery from the three header values and the raw body, as of `now`.
    ///
    /// The cheap checks come first (sizes, entry count, timestamp); the MAC over the body is computed at
    /// most once, whatever the number of entries, and compared with each `v1` entry in constant time.
    /// The delivery is accepted when any `v1` entry matches, so the result does not depend on the order
    /// of the entries.
    pub fn verify_parts_at(
        &self,
        id: &str,
        timestamp: &str,
        signatures: &str,
        body: &[u8],
        now: SystemTime,
    ) -> Result<(), WebhookError> {
        if id.trim().is_empty() {
            return Err(WebhookError::MissingHeader("webhook-id"));
        }
        if id.len() > MAX_ID_BYTES {
            return Err(WebhookError::MalformedHeader {
                header: "webhook-id",
                reason: "longer than 256 bytes",
            });
        }
        let malformed_signature =
            |reason| WebhookError::MalformedHeader { header: "webhook-signature", reason };
        if signatures.len() > MAX_SIGNATURE_HEADER_BYTES {
            return Err(malformed_signature("longer than 4096 bytes"));
        }
        if signatures.split_whitespace().nth(MAX_SIGNATURE_ENTRIES).is_some() {
            return Err(malformed_signature("more than 16 entries"));
        }
        let timestamp = timestamp.trim();
        let seconds: i64 = timestamp.parse().map_err(|_| WebhookError::MalformedHeader {
            header: "webhook-timestamp",
            reason: "not a whole number of seconds",
        })?;
        // In i128, where neither a huge tolerance nor a far timestamp can overflow.
        let now = i128::from(now.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs());
        let tolerance = i128::from(self.tolerance.as_secs());
        let seconds = i128::from(seconds);
        let whole_seconds = |d: i128| Duration::from_secs(u64::try_from(d).unwrap_or(u64::MAX));
        if seconds < now - tolerance {
            return Err(WebhookError::Expired {
                age: whole_seconds(now - seconds),
                tolerance: self.tolerance,
            });
        }
        if seconds > now + tolerance {
            return Err(WebhookError::FutureTimestamp {
                ahead: whole_seconds(seconds - now),
                tolerance: self.tolerance,
            });
        }

        let (mut saw_v1, mut saw_malformed) = (false, false);
        let mut mac = None;
        for entry in signatures.split_whitespace() {
            let Some((version, encoded)) = entry.split_once(',') else {
                saw_malformed = true;
                continue;
            };
            if version != "v1" {
                continue;
            }
            saw_v1 = true;
            let Ok(expected) = STANDARD.decode(encoded) else { continue };
            let mac = mac.get_or_insert_with(|| self.secret.mac(id, timestamp, body));
            // `verify_slice` compares in constant time; the clone copies the hash state, not the body.
            if mac.clone().verify_slice(&expected).is_ok() {
                return Ok(());
            }
        }
        Err(if saw_malformed {
            malformed_signature("an entry is not of the form v1,<base64>")
        } else if saw_v1 {
            WebhookError::SignatureMismatch
        } else {
            malformed_signature("no v1 signature entry")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    thread_local! {
        /// MACs computed on this thread.
        pub(super) static MACS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: i64 = 1614265330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn at(seconds: i64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds as u64)
    }

    fn headers(id: &str, ts: &str, sig: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("webhook-id", HeaderValue::from_str(id).unwrap());
        h.insert("webhook-timestamp", HeaderValue::from_str(ts).unwrap());
        h.insert("webhook-signature", HeaderValue::from_str(sig).unwrap());
        h
    }

    fn verifier() -> WebhookVerifier {
        WebhookVerifier::new(SECRET).unwrap()
    }

    #[test]
    fn the_documented_test_vector_passes() {
        assert_eq!(WebhookSecret::parse(SECRET).unwrap().sign(ID, TS, BODY), SIG);
        verifier().verify_at(&headers(ID, "1614265330", SIG), BODY, at(TS)).unwrap();
    }

    #[test]
    fn any_of_several_entries_may_match() {
        let sigs = format!("v1,bm90IGl0 v2,whatever {SIG}");
        verifier().verify_at(&headers(ID, "1614265330", &sigs), BODY, at(TS + 10)).unwrap();
    }

    #[test]
    fn forged_body_is_rejected() {
        let err =
            verifier().verify_at(&headers(ID, "1614265330", SIG), br#"{"test": 1}"#, at(TS)).unwrap_err();
        assert_eq!(err, WebhookError::SignatureMismatch);
    }

    #[test]
    fn other_secret_is_rejected() {
        let other = WebhookVerifier::new("whsec_c2VjcmV0LW90aGVy").unwrap();
        let err = other.verify_at(&headers(ID, "1614265330", SIG), BODY, at(TS)).unwrap_err();
        assert_eq!(err, WebhookError::SignatureMismatch);
    }

    #[test]
    fn stale_and_future_timestamps_are_rejected() {
        let err = verifier().verify_at(&headers(ID, "1614265330", SIG), BODY, at(TS + 301)).unwrap_err();
        assert!(matches!(err, WebhookError::Expired { .. }), "{err:?}");
        let err = verifier().verify_at(&headers(ID, "1614265330", SIG), BODY, at(TS - 301)).unwrap_err();
        assert!(matches!(err, WebhookError::FutureTimestamp { .. }), "{err:?}");
        // Within the tolerance either way.
        verifier().verify_at(&headers(ID, "1614265330", SIG), BODY, at(TS + 299)).unwrap();
        verifier().verify_at(&headers(ID, "1614265330", SIG), BODY, at(TS - 299)).unwrap();
    }

    #[test]
    fn missing_and_malformed_headers_are_distinct() {
        let mut h = headers(ID, "1614265330", SIG);
        h.remove("webhook-signature");
        assert_eq!(
            verifier().verify_at(&h, BODY, at(TS)).unwrap_err(),
            WebhookError::MissingHeader("webhook-signature")
        );
        let mut h = headers(ID, "1614265330", SIG);
        h.remove("webhook-id");
        assert_eq!(
            verifier().verify_at(&h, BODY, at(TS)).unwrap_err(),
            WebhookError::MissingHeader("webhook-id")
        );
        let err = verifier().verify_at(&headers(ID, "yesterday", SIG), BODY, at(TS)).unwrap_err();
        assert!(matches!(err, WebhookError::MalformedHeader { header: "webhook-timestamp", .. }));
        let err = verifier().verify_at(&headers(ID, "1614265330", "garbage"), BODY, at(TS)).unwrap_err();
        assert!(matches!(err, WebhookError::MalformedHeader { header: "webhook-signature", .. }));
        let err = verifier().verify_at(&headers(ID, "1614265330", "v2,abc"), BODY, at(TS)).unwrap_err();
        assert!(matches!(err, WebhookError::MalformedHeader { header: "webhook-signature", .. }));
    }

    #[test]
    fn a_tampered_id_or_timestamp_is_rejected() {
        let err = verifier().verify_at(&headers("msg_other", "1614265330", SIG), BODY, at(TS)).unwrap_err();
        assert_eq!(err, WebhookError::SignatureMismatch);
        let err = verifier().verify_at(&headers(ID, "1614265331", SIG), BODY, at(TS)).unwrap_err();
        assert_eq!(err, WebhookError::SignatureMismatch);
    }

    #[test]
    fn huge_tolerances_neither_reject_nor_panic() {
        for tolerance in
            [Duration::MAX, Duration::from_secs(u64::MAX / 2), Duration::from_secs(i64::MAX as u64)]
        {
            let v = verifier().tolerance(tolerance);
            v.verify_at(&headers(ID, "1614265330", SIG), BODY, at(TS)).unwrap();
            v.verify_at(&headers(ID, "1614265330", SIG), BODY, UNIX_EPOCH).unwrap();
            v.verify_at(&headers(ID, "1614265330", SIG), BODY, SystemTime::now()).unwrap();
        }
        // Extreme timestamps against the default tolerance: typed errors, no overflow.
        let err = verifier().verify_at(&headers(ID, &i64::MIN.to_string(), SIG), BODY, at(TS)).unwrap_err();
        assert!(matches!(err, WebhookError::Expired { .. }), "{err:?}");
        let err = verifier().verify_at(&headers(ID, &i64::MAX.to_string(), SIG), BODY, at(TS)).unwrap_err();
        assert!(matches!(err, WebhookError::FutureTimestamp { .. }), "{err:?}");
    }

    #[test]
    fn the_result_does_not_depend_on_entry_order() {
        for sigs in [format!("garbage {SIG}"), format!("{SIG} garbage"), format!("v1,!!! v2,x {SIG}")] {
            verifier().verify_at(&headers(ID, "1614265330", &sigs), BODY, at(TS)).unwrap();
        }
        let a = verifier().verify_at(&headers(ID, "1614265330", "garbage v1,bm90IGl0"), BODY, at(TS));
        let b = verifier().verify_at(&headers(ID, "1614265330", "v1,bm90IGl0 garbage"), BODY, at(TS));
        assert_eq!(a, b);
    }

    #[test]
    fn entries_and_sizes_are_capped_before_any_mac() {
        // 12,000 junk entries over a big body: refused on the count alone.
        let junk = vec!["v1,"; 12_000].join(" ");
        let body = vec![b'x'; 2 << 20];
        MACS.with(|n| n.set(0));
        let err = verifier().verify_parts_at(ID, "1614265330", &junk, &body, at(TS)).unwrap_err();
        assert!(matches!(err, WebhookError::MalformedHeader { header: "webhook-signature", .. }), "{err:?}");
        let many = vec![SIG; MAX_SIGNATURE_ENTRIES + 1].join(" ");
        let err = verifier().verify_parts_at(ID, "1614265330", &many, BODY, at(TS)).unwrap_err();
        assert!(matches!(err, WebhookError::MalformedHeader { header: "webhook-signature", .. }), "{err:?}");
        let err = verifier().verify_parts_at(&"m".repeat(MAX_ID_BYTES + 1), "1614265330", SIG, BODY, at(TS));
        assert!(matches!(err, Err(WebhookError::MalformedHeader { header: "webhook-id", .. })), "{err:?}");
        // The most entries allowed, all wrong but well-formed, over the big body: one MAC.
        let wrong = vec!["v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="; MAX_SIGNATURE_ENTRIES].join(" ");
        assert_eq!(MACS.with(|n| n.get()), 0, "nothing refused so far cost a MAC");
        let err = verifier().verify_parts_at(ID, "1614265330", &wrong, &body, at(TS)).unwrap_err();
        assert_eq!(err, WebhookError::SignatureMismatch);
        assert_eq!(MACS.with(|n| n.get()), 1, "one MAC over the body for all the entries");
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        /// One entry of a signature header.
        #[derive(Debug, Clone)]
        enum Entry {
            Valid,
            WrongMac(Vec<u8>),
            OtherVersion(String),
            Junk(String),
        }

        fn entry() -> impl Strategy<Value = Entry> {
            prop_oneof![
                Just(Entry::Valid),
                prop::collection::vec(any::<u8>(), 0..40).prop_map(Entry::WrongMac),
                "[a-z0-9]{1,8}".prop_map(Entry::OtherVersion),
                "[!-~]{1,30}".prop_map(Entry::Junk),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

            /// Whatever the entries and their order, a delivery is accepted exactly when an entry is a
            /// valid signature (within the entry cap), and nothing panics.
            #[test]
            fn accepts_exactly_the_valid_deliveries(
                key in prop::collection::vec(any::<u8>(), 1..64),
                id in "[!-~]{1,40}",
                body in prop::collection::vec(any::<u8>(), 0..512),
                skew in -400i64..400,
                entries in prop::collection::vec(entry(), 0..20),
            ) {
                let secret = WebhookSecret::from_key(key);
                let verifier = WebhookVerifier::from_secret(secret.clone());
                let valid = secret.sign(&id, TS, &body);
                let header: Vec<String> = entries
                    .iter()
                    .map(|e| match e {
                        Entry::Valid => valid.clone(),
                        Entry::WrongMac(bytes) => format!("v1,{}", STANDARD.encode(bytes)),
                        Entry::OtherVersion(v) => format!("{v},{}", &valid[3..]),
                        Entry::Junk(text) => text.clone(),
                    })
                    .collect();
                let header = header.join(" ");
                let result = verifier.verify_parts_at(&id, &TS.to_string(), &header, &body, at(TS + skew));
                let fresh = skew.abs() <= 300;
                let within_caps = header.split_whitespace().count() <= MAX_SIGNATURE_ENTRIES;
                // A junk entry may happen to be `v1,<the valid signature>`: count what is really there.
                let has_valid = header.split_whitespace().any(|e| e == valid);
                prop_assert_eq!(result.is_ok(), fresh && within_caps && has_valid, "{:?}", result);
                // The same entries in reverse order: the same outcome.
                let reversed: Vec<&str> = header.split_whitespace().rev().collect();
                let again = verifier.verify_parts_at(&id, &TS.to_string(), &reversed.join(" "), &body, at(TS + skew));
                prop_assert_eq!(result, again);
            }

            /// Arbitrary header values and bodies never panic.
            #[test]
            fn arbitrary_headers_never_panic(
                id in "\\PC{0,300}",
                timestamp in "\\PC{0,30}",
                signatures in "\\PC{0,200}",
                body in prop::collection::vec(any::<u8>(), 0..256),
                tolerance in any::<u64>(),
                now in any::<u64>(),
            ) {
                let verifier = verifier().tolerance(Duration::from_secs(tolerance));
                let now = UNIX_EPOCH.checked_add(Duration::from_secs(now)).unwrap_or(UNIX_EPOCH);
                let _ = verifier.verify_parts_at(&id, &timestamp, &signatures, &body, now);
            }
        }
    }

    #[test]
    fn bad_secrets_are_rejected_and_never_shown() {
        assert!(matches!(WebhookSecret::parse("whsec_!!!"), Err(WebhookError::InvalidSecret(_))));
        assert!(matches!(WebhookSecret::parse("whsec_"), Err(WebhookError::InvalidSecret(_))));
        let shown = format!("{:?}", verifier());
        assert!(!shown.contains("MfKQ9r8"), "{shown}");
    }
}
