//! The one digest enum: the SHA family members verity trees and signatures use, with
//! every name they go by (kernel, OpenSSL, human) and their sizes.
//!
//! Pure data, no I/O and no `std`: it builds for the freestanding boot library too.

use core::fmt;

/// A digest algorithm. The [`name`](Self::name) is the kernel crypto API name, which is
/// what the verity superblock and the dm table carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HashAlgorithm {
    /// SHA-1: legacy verity images only; signatures made with it are always refused.
    Sha1,
    /// SHA-224.
    Sha224,
    /// SHA-256, the default everywhere.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlgorithm {
    /// Every supported algorithm.
    pub const ALL: [HashAlgorithm; 5] = [
        HashAlgorithm::Sha1,
        HashAlgorithm::Sha224,
        HashAlgorithm::Sha256,
        HashAlgorithm::Sha384,
        HashAlgorithm::Sha512,
    ];

    /// Digest length in bytes.
    pub const fn digest_size(self) -> usize {
        match self {
            HashAlgorithm::Sha1 => 20,
            HashAlgorithm::Sha224 => 28,
            HashAlgorithm::Sha256 => 32,
            HashAlgorithm::Sha384 => 48,
            HashAlgorithm::Sha512 => 64,
        }
    }

    /// Lowercase kernel crypto API name, e.g. "sha256" (the dm table is case-sensitive).
    pub const fn name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha1 => "sha1",
            HashAlgorithm::Sha224 => "sha224",
            HashAlgorithm::Sha256 => "sha256",
            HashAlgorithm::Sha384 => "sha384",
            HashAlgorithm::Sha512 => "sha512",
        }
    }

    /// The name people write, e.g. "SHA-256".
    pub const fn label(self) -> &'static str {
        match self {
            HashAlgorithm::Sha1 => "SHA-1",
            HashAlgorithm::Sha224 => "SHA-224",
            HashAlgorithm::Sha256 => "SHA-256",
            HashAlgorithm::Sha384 => "SHA-384",
            HashAlgorithm::Sha512 => "SHA-512",
        }
    }

    /// The name OpenSSL 3 fetches it by, e.g. "SHA2-256".
    pub const fn openssl_name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha1 => "SHA1",
            HashAlgorithm::Sha224 => "SHA2-224",
            HashAlgorithm::Sha256 => "SHA2-256",
            HashAlgorithm::Sha384 => "SHA2-384",
            HashAlgorithm::Sha512 => "SHA2-512",
        }
    }

    /// Parses a kernel [`name`](Self::name), ignoring ASCII case, as veritysetup does.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name().eq_ignore_ascii_case(name))
    }

    /// Parses a kernel name or a label: "sha256", "SHA-256", "sha-256" all give SHA-256.
    pub fn from_name_or_label(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| {
            let name = a.name().as_bytes();
            let mut given = text.bytes().filter(|&b| b != b'-');
            name.iter().all(|&n| given.next().is_some_and(|g| g.eq_ignore_ascii_case(&n))) && given.next().is_none()
        })
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::HashAlgorithm;

    #[test]
    fn names_labels_and_sizes_agree() {
        for alg in HashAlgorithm::ALL {
            assert_eq!(HashAlgorithm::from_name(alg.name()), Some(alg));
            assert_eq!(HashAlgorithm::from_name(&alg.name().to_uppercase()), Some(alg));
            assert_eq!(HashAlgorithm::from_name_or_label(alg.label()), Some(alg));
            assert_eq!(HashAlgorithm::from_name_or_label(&alg.label().to_lowercase()), Some(alg));
            assert!(alg.openssl_name().starts_with("SHA"));
        }
        assert_eq!(HashAlgorithm::from_name("sha-256"), None, "the kernel name has no dash");
        assert_eq!(HashAlgorithm::from_name_or_label("sha2567"), None);
        assert_eq!(HashAlgorithm::from_name_or_label("sha25"), None);
        assert_eq!(HashAlgorithm::Sha384.digest_size(), 48);
    }
}
