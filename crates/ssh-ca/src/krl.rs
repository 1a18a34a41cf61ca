//! OpenSSH key revocation lists, written in the binary format of OpenSSH's `PROTOCOL.krl`
//! (what sshd's `RevokedKeys` and `ssh-keygen -Q` read).
//!
//! Layout: the header (`SSHKRL\n\0`, format version 1, the KRL's own version, the time
//! it was generated, no flags, an empty reserved field, a comment), then sections:
//!
//! - one certificates section (type 1) per CA, holding the revoked serials as runs: a
//!   run of [`MIN_RANGE`] or more consecutive serials is a range subsection (0x21), the
//!   other serials go in one list subsection (0x20), and the revoked key IDs in one key-ID
//!   subsection (0x23);
//! - an explicit-key section (type 2) with the wire blobs of revoked plain keys;
//! - a SHA-256 fingerprint section (type 5) with the hashes of revoked plain keys.
//!
//! Everything is sorted and deduplicated (CAs by their key blob, serials and hashes
//! numerically, key IDs and blobs bytewise), so the same revocations always give the same
//! bytes, and hashes appear in the numeric order the format requires. A KRL signature
//! section is never written: OpenSSH 9.4 and later refuse KRLs that carry one.

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};
use ssh_key::PublicKey;

/// `"SSHKRL\n\0"`.
pub const MAGIC: u64 = 0x5353_484b_524c_0a00;
/// The format version this writer produces.
pub const FORMAT_VERSION: u32 = 1;

const SECTION_CERTIFICATES: u8 = 1;
const SECTION_EXPLICIT_KEY: u8 = 2;
const SECTION_FINGERPRINT_SHA256: u8 = 5;
const CERT_SERIAL_LIST: u8 = 0x20;
const CERT_SERIAL_RANGE: u8 = 0x21;
const CERT_KEY_ID: u8 = 0x23;

/// The shortest run of consecutive serials written as a range (16 bytes) rather than in
/// the list (8 bytes each).
pub const MIN_RANGE: u64 = 3;

/// What is revoked of one CA's certificates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct CaRevocations {
    serials: BTreeSet<u64>,
    ranges: BTreeSet<(u64, u64)>,
    key_ids: BTreeSet<String>,
}

/// A key revocation list being built; [`Krl::to_bytes`] writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Krl {
    version: u64,
    generated: u64,
    comment: String,
    /// By the wire blob of the CA key.
    certificates: BTreeMap<Vec<u8>, CaRevocations>,
    explicit_keys: BTreeSet<Vec<u8>>,
    sha256: BTreeSet<[u8; 32]>,
}

/// The wire blob of a public key (its SSH encoding, without the comment).
fn blob(key: &PublicKey) -> Vec<u8> {
    // Encoding an in-memory key into a Vec cannot fail; an empty blob would only make the
    // revocation match nothing, never something else.
    key.to_bytes().unwrap_or_default()
}

impl Krl {
    /// An empty KRL with version `version` (it must grow with every change: hosts use it
    /// to refuse an older list) generated at `generated` (seconds since the epoch).
    pub fn new(version: u64, generated: u64) -> Krl {
        Krl {
            version,
            generated,
            comment: String::new(),
            certificates: BTreeMap::new(),
            explicit_keys: BTreeSet::new(),
            sha256: BTreeSet::new(),
        }
    }

    /// Sets the comment (`ssh-keygen -Q -l` prints it).
    pub fn with_comment(mut self, comment: &str) -> Krl {
        self.comment = comment.to_owned();
        self
    }

    fn ca(&mut self, ca: &PublicKey) -> &mut CaRevocations {
        self.certificates.entry(blob(ca)).or_default()
    }

    /// Revokes the certificate with serial `serial` signed by `ca`.
    pub fn revoke_serial(&mut self, ca: &PublicKey, serial: u64) {
        self.ca(ca).serials.insert(serial);
    }

    /// Revokes the certificates with serials `first..=last` signed by `ca` (the bounds in
    /// either order).
    pub fn revoke_serial_range(&mut self, ca: &PublicKey, first: u64, last: u64) {
        let (lo, hi) = (first.min(last), first.max(last));
        self.ca(ca).ranges.insert((lo, hi));
    }

    /// Revokes every certificate with key ID `key_id` signed by `ca`.
    pub fn revoke_key_id(&mut self, ca: &PublicKey, key_id: &str) {
        self.ca(ca).key_ids.insert(key_id.to_owned());
    }

    /// Revokes the plain key `key` (by its blob), with or without certificates.
    pub fn revoke_key(&mut self, key: &PublicKey) {
        self.explicit_keys.insert(blob(key));
    }

    /// Revokes the plain key `key` by its SHA-256 fingerprint.
    pub fn revoke_key_sha256(&mut self, key: &PublicKey) {
        self.sha256.insert(Sha256::digest(blob(key)).into());
    }

    /// True when nothing is revoked.
    pub fn is_empty(&self) -> bool {
        self.certificates.is_empty() && self.explicit_keys.is_empty() && self.sha256.is_empty()
    }

    /// The KRL in OpenSSH's binary format.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend(MAGIC.to_be_bytes());
        out.extend(FORMAT_VERSION.to_be_bytes());
        out.extend(self.version.to_be_bytes());
        out.extend(self.generated.to_be_bytes());
        out.extend(0u64.to_be_bytes()); // flags
        put_string(&mut out, b""); // reserved
        put_string(&mut out, self.comment.as_bytes());
        for (ca, revoked) in &self.certificates {
            let mut section = Vec::new();
            put_string(&mut section, ca);
            put_string(&mut section, b""); // reserved
            let (runs, singles) = runs(revoked);
            if !singles.is_empty() {
                let list: Vec<u8> = singles.iter().flat_map(|s| s.to_be_bytes()).collect();
                section.push(CERT_SERIAL_LIST);
                put_string(&mut section, &list);
            }
            for (lo, hi) in runs {
                let mut range = lo.to_be_bytes().to_vec();
                range.extend(hi.to_be_bytes());
                section.push(CERT_SERIAL_RANGE);
                put_string(&mut section, &range);
            }
            if !revoked.key_ids.is_empty() {
                let mut ids = Vec::new();
                for id in &revoked.key_ids {
                    put_string(&mut ids, id.as_bytes());
                }
                section.push(CERT_KEY_ID);
                put_string(&mut section, &ids);
            }
            out.push(SECTION_CERTIFICATES);
            put_string(&mut out, &section);
        }
        if !self.explicit_keys.is_empty() {
            let mut section = Vec::new();
            for key in &self.explicit_keys {
                put_string(&mut section, key);
            }
            out.push(SECTION_EXPLICIT_KEY);
            put_string(&mut out, &section);
        }
        if !self.sha256.is_empty() {
            let mut section = Vec::new();
            // BTreeSet order of [u8; 32] is big-endian numeric order, as required.
            for hash in &self.sha256 {
                put_string(&mut section, hash);
            }
            out.push(SECTION_FINGERPRINT_SHA256);
            put_string(&mut out, &section);
        }
        out
    }
}

/// An SSH `string`: a big-endian u32 length, then the bytes.
fn put_string(out: &mut Vec<u8>, bytes: &[u8]) {
    // Sections are far below 4 GiB: a KRL of a million serials is 8 MB.
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    out.extend(len.to_be_bytes());
    out.extend(bytes);
}

/// The revoked serials of one CA as merged ranges and single serials: explicit ranges
/// and runs of at least [`MIN_RANGE`] consecutive serials become ranges (overlapping or
/// adjacent ones merged), the rest stay single. Both come sorted.
fn runs(revoked: &CaRevocations) -> (Vec<(u64, u64)>, Vec<u64>) {
    // Every interval, explicit ranges and single serials alike, sorted by start.
    let mut intervals: Vec<(u64, u64, bool)> = revoked
        .ranges
        .iter()
        .map(|&(lo, hi)| (lo, hi, true))
        .chain(revoked.serials.iter().map(|&s| (s, s, false)))
        .collect();
    intervals.sort_unstable();
    let mut merged: Vec<(u64, u64, bool)> = Vec::new();
    for (lo, hi, explicit) in intervals {
        match merged.last_mut() {
            Some(last) if lo <= last.1.saturating_add(1) => {
                last.1 = last.1.max(hi);
                last.2 |= explicit;
            }
            _ => merged.push((lo, hi, explicit)),
        }
    }
    let mut ranges = Vec::new();
    let mut singles = Vec::new();
    for (lo, hi, explicit) in merged {
        if explicit || hi - lo + 1 >= MIN_RANGE {
            ranges.push((lo, hi));
        } else {
            singles.extend(lo..=hi);
        }
    }
    (ranges, singles)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const ED25519: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFYm2nRDmoB7AGdzjgkn6xbXuaI3XXvPEvE4OUe2ybBz";

    fn key() -> PublicKey {
        PublicKey::from_openssh(ED25519).unwrap()
    }

    fn runs_of(serials: &[u64], ranges: &[(u64, u64)]) -> (Vec<(u64, u64)>, Vec<u64>) {
        let revoked = CaRevocations {
            serials: serials.iter().copied().collect(),
            ranges: ranges.iter().copied().collect(),
            key_ids: BTreeSet::new(),
        };
        runs(&revoked)
    }

    #[test]
    fn serials_become_ranges_and_lists() {
        assert_eq!(runs_of(&[5, 1, 2, 9], &[]), (vec![], vec![1, 2, 5, 9]));
        assert_eq!(runs_of(&[1, 2, 3, 7], &[]), (vec![(1, 3)], vec![7]));
        // Explicit ranges absorb serials inside and next to them, and merge when they
        // overlap or touch.
        assert_eq!(
            runs_of(&[4, 10, 20], &[(5, 9), (11, 12), (30, 30)]),
            (vec![(4, 12), (30, 30)], vec![20])
        );
        assert_eq!(
            runs_of(&[u64::MAX, u64::MAX - 1], &[]),
            (vec![], vec![u64::MAX - 1, u64::MAX])
        );
        assert_eq!(
            runs_of(&[], &[(0, u64::MAX), (3, 4)]),
            (vec![(0, u64::MAX)], vec![])
        );
    }

    #[test]
    fn the_header_is_exact() {
        let bytes = Krl::new(7, 1_800_000_000).with_comment("c").to_bytes();
        let mut expected = b"SSHKRL\n\0".to_vec();
        expected.extend(1u32.to_be_bytes());
        expected.extend(7u64.to_be_bytes());
        expected.extend(1_800_000_000u64.to_be_bytes());
        expected.extend(0u64.to_be_bytes());
        expected.extend(0u32.to_be_bytes());
        expected.extend(1u32.to_be_bytes());
        expected.push(b'c');
        assert_eq!(bytes, expected);
    }

    #[test]
    fn sections_are_canonical() {
        let ca = key();
        let mut a = Krl::new(1, 0);
        a.revoke_serial(&ca, 2);
        a.revoke_serial(&ca, 1);
        a.revoke_key_id(&ca, "b");
        a.revoke_key_id(&ca, "a");
        a.revoke_key_id(&ca, "a");
        let mut b = Krl::new(1, 0);
        b.revoke_key_id(&ca, "a");
        b.revoke_serial(&ca, 1);
        b.revoke_key_id(&ca, "b");
        b.revoke_serial(&ca, 2);
        b.revoke_serial(&ca, 2);
        assert_eq!(a.to_bytes(), b.to_bytes(), "order of calls does not matter");

        // One certificates section: CA blob, reserved, the list (1, 2), the key IDs.
        let bytes = a.to_bytes();
        let header = 8 + 4 + 8 + 8 + 8 + 4 + 4;
        assert_eq!(bytes[header], SECTION_CERTIFICATES);
        let ca_blob = blob(&ca);
        let mut section = Vec::new();
        put_string(&mut section, &ca_blob);
        put_string(&mut section, b"");
        section.push(CERT_SERIAL_LIST);
        put_string(
            &mut section,
            &[1u64.to_be_bytes(), 2u64.to_be_bytes()].concat(),
        );
        section.push(CERT_KEY_ID);
        let mut ids = Vec::new();
        put_string(&mut ids, b"a");
        put_string(&mut ids, b"b");
        put_string(&mut section, &ids);
        let mut expected = vec![SECTION_CERTIFICATES];
        put_string(&mut expected, &section);
        assert_eq!(&bytes[header..], &expected[..]);
        assert!(!a.is_empty());
        assert!(Krl::new(1, 0).is_empty());
    }

    #[test]
    fn fingerprints_are_in_numeric_order() {
        let mut krl = Krl::new(1, 0);
        krl.revoke_key_sha256(&key());
        krl.revoke_key(&key());
        let bytes = krl.to_bytes();
        let header = 8 + 4 + 8 + 8 + 8 + 4 + 4;
        assert_eq!(bytes[header], SECTION_EXPLICIT_KEY);
        let explicit_len = u32::from_be_bytes(bytes[header + 1..header + 5].try_into().unwrap());
        let fp_at = header + 5 + explicit_len as usize;
        assert_eq!(bytes[fp_at], SECTION_FINGERPRINT_SHA256);
        let hashes: Vec<[u8; 32]> = krl.sha256.iter().copied().collect();
        assert!(hashes.windows(2).all(|w| w[0] < w[1]));
    }
}
