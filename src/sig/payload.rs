//! Flatcar / update_engine "CrAU" update payloads.
//!
//! Layout (integers big-endian): `"CrAU"`, u64 major version, u64 manifest size, and for
//! version 2 a u32 metadata-signature size; then the manifest (protobuf
//! `DeltaArchiveManifest`), for version 2 the metadata signature, the data blobs, and last
//! the payload `Signatures` protobuf at `signatures_offset` (relative to the end of the
//! metadata). Each signature is RSASSA-PKCS1-v1_5 with SHA-256 over every byte before the
//! signature blob (for version 2, without the metadata-signature bytes, as AOSP does).
//! The payload is accepted if any signature verifies under any trusted RSA key (for
//! version 2, the metadata signature over header and manifest must verify as well).

use super::detached::eligible_keys;
use super::error::{Error, Result};
use super::policy::{Policy, Scheme};
use super::trust::{Fingerprint, KeyType, TrustStore, TrustedKey};
use crate::io::{BlockRead, FileReader};
use crate::sys::openssl::{self as ossl, RsaPad};
use openssl::md::Md;
use openssl::md_ctx::MdCtx;
use prost::Message as _;
use std::ops::Range;
use std::path::Path;

const MAGIC: &[u8; 4] = b"CrAU";
const V1_HEADER_LEN: u64 = 20;
const V2_HEADER_LEN: u64 = 24;
/// Real manifests are a few hundred KiB at most; anything this large is hostile.
const MAX_MANIFEST_SIZE: u64 = 64 << 20;
/// A `Signatures` message with a handful of RSA-4096 signatures is a few KiB.
const MAX_SIGNATURES_SIZE: u64 = 1 << 20;

/// The two manifest fields the signature check needs; prost skips every other field.
#[derive(Clone, PartialEq, prost::Message)]
struct ManifestSignatureFields {
    #[prost(uint64, optional, tag = "4")]
    signatures_offset: Option<u64>,
    #[prost(uint64, optional, tag = "5")]
    signatures_size: Option<u64>,
}

/// update_metadata.proto `Signatures`.
#[derive(Clone, PartialEq, prost::Message)]
struct SignaturesMessage {
    #[prost(message, repeated, tag = "1")]
    signatures: Vec<SignatureMessage>,
}

/// update_metadata.proto `Signatures.Signature`.
#[derive(Clone, PartialEq, prost::Message)]
struct SignatureMessage {
    #[prost(uint32, optional, tag = "1")]
    version: Option<u32>,
    #[prost(bytes = "vec", optional, tag = "2")]
    data: Option<Vec<u8>>,
    #[prost(fixed32, optional, tag = "3")]
    unpadded_signature_size: Option<u32>,
}

/// What the update server (Omaha) announced about the payload file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OmahaCheck {
    /// The whole file's size in bytes.
    pub size: Option<u64>,
    /// The whole file's SHA-256 (signature blob included).
    pub sha256: Option<[u8; 32]>,
}

/// A payload whose signature verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadVerified {
    /// The trusted key that verified a signature.
    pub fingerprint: Fingerprint,
    /// Where that key came from.
    pub key_origin: String,
    /// Index of the verifying signature in the `Signatures` message.
    pub signature_index: usize,
    /// That signature's `version` field.
    pub signature_version: Option<u32>,
    /// How many signatures the payload carries.
    pub signature_count: usize,
    /// The header's major version (1 or 2).
    pub format_version: u64,
    /// How many bytes the signature covers.
    pub signed_bytes: u64,
    /// The policy applied.
    pub policy: Policy,
    /// The OpenSSL provider that checked the signature.
    pub provider: String,
}

/// Where things are in a payload, all bounds-checked against the file size.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Layout {
    version: u64,
    manifest: Range<u64>,
    /// Byte ranges covered by the payload signature, in order.
    signed: Vec<Range<u64>>,
    signatures: Range<u64>,
    /// Version 2: the metadata signature (over the header and manifest); empty for v1.
    metadata_signature: Range<u64>,
}

fn invalid(text: impl Into<String>) -> Error {
    Error::InvalidPayload(text.into())
}

fn be_u64(bytes: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[..8]);
    u64::from_be_bytes(b)
}

/// Parses the header and the manifest's signature fields. `head` holds at least the
/// header; `read` returns a byte range of the file.
fn layout(file_size: u64, read: &dyn Fn(Range<u64>) -> Result<Vec<u8>>) -> Result<Layout> {
    if file_size < V1_HEADER_LEN {
        return Err(invalid(format!("{file_size} bytes is shorter than a CrAU header")));
    }
    let head = read(0..V1_HEADER_LEN.min(file_size))?;
    if &head[..4] != MAGIC {
        return Err(invalid("no CrAU magic"));
    }
    let version = be_u64(&head[4..12]);
    let manifest_size = be_u64(&head[12..20]);
    let (header_len, metadata_signature_size) = match version {
        1 => (V1_HEADER_LEN, 0),
        2 => {
            if file_size < V2_HEADER_LEN {
                return Err(invalid("file ends inside the version 2 header"));
            }
            let extra = read(V1_HEADER_LEN..V2_HEADER_LEN)?;
            let size = u64::from(u32::from_be_bytes([extra[0], extra[1], extra[2], extra[3]]));
            // Checked before any hashing or copying: the field is a u32, up to 4 GiB.
            if size > MAX_SIGNATURES_SIZE {
                return Err(invalid(format!(
                    "metadata signature size {size} exceeds the {MAX_SIGNATURES_SIZE}-byte limit"
                )));
            }
            (V2_HEADER_LEN, size)
        }
        other => return Err(invalid(format!("unsupported major version {other} (1 and 2 are known)"))),
    };
    if manifest_size > MAX_MANIFEST_SIZE {
        return Err(invalid(format!("manifest size {manifest_size} exceeds the {MAX_MANIFEST_SIZE}-byte limit")));
    }
    let manifest_end = header_len + manifest_size; // both bounded, no overflow
    let data_start = manifest_end + metadata_signature_size; // u32 added to a bounded value
    if data_start > file_size {
        return Err(invalid(format!("header claims {data_start} bytes of metadata but the file has {file_size}")));
    }
    let manifest = ManifestSignatureFields::decode(read(header_len..manifest_end)?.as_slice())
        .map_err(|e| invalid(format!("manifest is not a valid protobuf: {e}")))?;
    let (Some(offset), Some(size)) = (manifest.signatures_offset, manifest.signatures_size) else {
        return Err(invalid("the manifest has no signatures_offset/signatures_size: the payload is unsigned"));
    };
    let sig_start =
        data_start.checked_add(offset).ok_or_else(|| invalid(format!("signatures_offset {offset} overflows")))?;
    let sig_end = sig_start.checked_add(size).ok_or_else(|| invalid(format!("signatures_size {size} overflows")))?;
    if size == 0 || size > MAX_SIGNATURES_SIZE {
        return Err(invalid(format!("signatures_size {size} is outside 1..={MAX_SIGNATURES_SIZE}")));
    }
    if sig_end != file_size {
        return Err(invalid(format!(
            "the signature blob must end the file: it spans {sig_start}..{sig_end} but the file has {file_size} bytes"
        )));
    }
    let signed = if metadata_signature_size == 0 {
        std::iter::once(0..sig_start).collect()
    } else {
        vec![0..manifest_end, data_start..sig_start]
    };
    Ok(Layout {
        version,
        manifest: header_len..manifest_end,
        signed,
        signatures: sig_start..sig_end,
        metadata_signature: manifest_end..data_start,
    })
}

/// Parses an announced SHA-256: 64 hex digits (Nebraska's `hash_sha256`) or base64
/// (Omaha's `sha256` action attribute).
pub fn parse_sha256_text(text: &str) -> Result<[u8; 32]> {
    let text = text.trim();
    let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        crate::text::decode_hex(text).map_err(|e| Error::InvalidArgument(e.to_string()))?
    } else {
        openssl::base64::decode_block(text)
            .map_err(|_| Error::InvalidArgument(format!("{text:?} is neither 64 hex digits nor base64")))?
    };
    bytes.try_into().map_err(|b: Vec<u8>| {
        Error::InvalidArgument(format!("a SHA-256 has 32 bytes, {text:?} decodes to {}", b.len()))
    })
}

impl TrustStore {
    /// Verifies a CrAU payload file: structure, optional Omaha size and SHA-256, and the
    /// payload signatures (RSA PKCS#1 v1.5 SHA-256; any signature under any key).
    pub fn verify_payload(&self, path: &Path, omaha: OmahaCheck, policy: Policy) -> Result<PayloadVerified> {
        // Read with pread, not mapped: a payload truncated while it is checked (a download
        // restarting) must give an error, not SIGBUS (see crate::io::FileReader).
        let source = FileReader::open(path).map_err(|e| Error::io(path, e))?;
        self.verify_payload_reader(&source, path, omaha, policy)
    }

    /// As [`TrustStore::verify_payload`], for a payload already in memory.
    pub fn verify_payload_bytes(&self, payload: &[u8], omaha: OmahaCheck, policy: Policy) -> Result<PayloadVerified> {
        self.verify_payload_reader(&payload, Path::new("the payload"), omaha, policy)
    }

    /// As [`TrustStore::verify_payload`], for a payload read from `source` (a file, a
    /// device, a caller's callbacks); `name` names it in errors.
    pub fn verify_payload_reader(
        &self,
        source: &dyn BlockRead,
        name: &Path,
        omaha: OmahaCheck,
        policy: Policy,
    ) -> Result<PayloadVerified> {
        // Payload signatures are RSA: other key types in the store take no part.
        let (allowed, mut refused) = eligible_keys(self, Scheme::default(), policy)?;
        let (keys, others): (Vec<_>, Vec<_>) =
            allowed.into_iter().partition(|k| matches!(k.key_type, KeyType::Rsa { .. }));
        refused.extend(
            others
                .iter()
                .map(|k| format!("{}: payload signatures are RSA, this is an {} key", k.fingerprint, k.key_type)),
        );
        if keys.is_empty() {
            return Err(Error::PolicyRefused {
                policy: policy.name(),
                reasons: "payload signatures are RSA PKCS#1 v1.5, and no trusted RSA key is allowed".into(),
            });
        }
        let read_error = |e| Error::io(name, e);
        let file_size = source.size().map_err(read_error)?;
        if let Some(expected) = omaha.size
            && expected != file_size
        {
            return Err(Error::PayloadMismatch {
                what: "size",
                expected: expected.to_string(),
                found: file_size.to_string(),
            });
        }
        let read = |range: Range<u64>| -> Result<Vec<u8>> {
            let len = usize::try_from(range.end - range.start)
                .map_err(|_| Error::InvalidArgument("range too large to read".into()))?;
            // Sizes come from the header (bounded by MAX_MANIFEST_SIZE and
            // MAX_SIGNATURES_SIZE): both buffers are allocated fallibly.
            let mut scratch = Error::try_buffer(len, "a payload read")?;
            let view = source.read_view(range.start, len, &mut scratch).map_err(read_error)?;
            let mut out = Error::try_buffer(view.len(), "a payload read")?;
            out.extend_from_slice(view);
            Ok(out)
        };
        let layout = layout(file_size, &read)?;
        debug_assert!(layout.manifest.end <= file_size);
        let blob = SignaturesMessage::decode(read(layout.signatures.clone())?.as_slice())
            .map_err(|e| invalid(format!("the signature blob is not a Signatures protobuf: {e}")))?;
        if blob.signatures.is_empty() {
            return Err(invalid("the Signatures message holds no signature"));
        }
        let meta = if layout.metadata_signature.is_empty() {
            None
        } else {
            Some(
                SignaturesMessage::decode(read(layout.metadata_signature.clone())?.as_slice())
                    .map_err(|e| invalid(format!("the metadata signature is not a Signatures protobuf: {e}")))?,
            )
        };

        let ctx = self.context();
        let md = Md::fetch(ctx.libctx(), "SHA2-256", ctx.properties()).map_err(Error::openssl("fetching SHA-256"))?;
        let sha256 = || -> Result<MdCtx> {
            let mut c = MdCtx::new().map_err(Error::openssl("creating a digest"))?;
            c.digest_init(&md).map_err(Error::openssl("starting SHA-256"))?;
            Ok(c)
        };
        let mut signed = sha256()?;
        let mut whole = omaha.sha256.map(|_| sha256()).transpose()?;
        // Version 2: header and manifest, for the metadata signature; hashed in the same
        // pass so that every digest covers the same reading of the file.
        let mut metadata = meta.as_ref().map(|_| sha256()).transpose()?;
        let metadata_range = 0..layout.manifest.end;
        let feed = |ctx: &mut MdCtx, range: &Range<u64>, offset: u64, chunk: &[u8]| -> Result<()> {
            let start = range.start.max(offset);
            let end = range.end.min(offset + chunk.len() as u64);
            if start < end {
                let part = &chunk[(start - offset) as usize..(end - offset) as usize];
                ctx.digest_update(part).map_err(Error::openssl("hashing"))?;
            }
            Ok(())
        };
        crate::io::for_each_chunk(source, 0..file_size, super::detached::READ_CHUNK, read_error, |offset, chunk| {
            for range in &layout.signed {
                feed(&mut signed, range, offset, chunk)?;
            }
            if let Some(m) = metadata.as_mut() {
                feed(m, &metadata_range, offset, chunk)?;
            }
            if let Some(w) = whole.as_mut() {
                w.digest_update(chunk).map_err(Error::openssl("hashing"))?;
            }
            Ok(())
        })?;
        // Every digest covers one reading of the file: it must not have changed since.
        source.check_unchanged().map_err(read_error)?;
        if let (Some(w), Some(expected)) = (whole.as_mut(), omaha.sha256) {
            let mut found = [0u8; 32];
            w.digest_final(&mut found).map_err(Error::openssl("finishing SHA-256"))?;
            if found != expected {
                return Err(Error::PayloadMismatch {
                    what: "sha256",
                    expected: crate::text::encode_hex(&expected),
                    found: crate::text::encode_hex(&found),
                });
            }
        }
        let mut digest = [0u8; 32];
        signed.digest_final(&mut digest).map_err(Error::openssl("finishing SHA-256"))?;

        // Version 2: the metadata signature must verify too (the payload signature does
        // not cover its bytes).
        if let (Some(meta), Some(m)) = (meta.as_ref(), metadata.as_mut()) {
            let mut meta_digest = [0u8; 32];
            m.digest_final(&mut meta_digest).map_err(Error::openssl("finishing SHA-256"))?;
            if find_match(self, &keys, meta, &md, &meta_digest)?.is_none() {
                return Err(Error::BadSignature { tried: keys.len(), refused });
            }
        }
        // Every allowed key was tried against every signature (one whose length differs
        // from the key's modulus fails at once): the count is of keys, not pairs.
        let Some(Match { index, key, provider }) = find_match(self, &keys, &blob, &md, &digest)? else {
            return Err(Error::BadSignature { tried: keys.len(), refused });
        };
        Ok(PayloadVerified {
            fingerprint: key.fingerprint,
            key_origin: key.origin.clone(),
            signature_index: index,
            signature_version: blob.signatures[index].version,
            signature_count: blob.signatures.len(),
            format_version: layout.version,
            signed_bytes: layout.signed.iter().map(|r| r.end - r.start).sum(),
            policy,
            provider,
        })
    }
}

/// A signature that verified: its index, the key, and the provider that checked it.
struct Match<'a> {
    index: usize,
    key: &'a TrustedKey,
    provider: String,
}

/// The first signature that verifies over `digest` under any of `keys`.
fn find_match<'a>(
    store: &TrustStore,
    keys: &[&'a TrustedKey],
    blob: &SignaturesMessage,
    md: &openssl::md::MdRef,
    digest: &[u8],
) -> Result<Option<Match<'a>>> {
    let ctx = store.context();
    for (index, signature) in blob.signatures.iter().enumerate() {
        let Some(data) = signature.data.as_deref() else { continue };
        for key in keys {
            // Eligible keys are loaded in the context; a signature of another length
            // cannot be this key's.
            let Ok(pkey) = &key.key else { continue };
            if data.len() != pkey.size() {
                continue;
            }
            // A pair the provider will not set up does not verify; the others are tried.
            let result =
                ossl::verify_digest(ctx.libctx(), ctx.properties(), pkey, md, digest, data, Some(RsaPad::Pkcs1));
            if let Ok((true, provider)) = result {
                return Ok(Some(Match { index, key, provider }));
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(version: u64, manifest_size: u64) -> Vec<u8> {
        let mut h = b"CrAU".to_vec();
        h.extend_from_slice(&version.to_be_bytes());
        h.extend_from_slice(&manifest_size.to_be_bytes());
        h
    }

    fn reader(bytes: &[u8]) -> impl Fn(Range<u64>) -> Result<Vec<u8>> + '_ {
        move |r: Range<u64>| {
            bytes.get(r.start as usize..r.end as usize).map(<[u8]>::to_vec).ok_or_else(|| invalid("short read"))
        }
    }

    fn manifest(offset: u64, size: u64) -> Vec<u8> {
        ManifestSignatureFields { signatures_offset: Some(offset), signatures_size: Some(size) }.encode_to_vec()
    }

    #[test]
    fn lying_header_sizes_are_rejected_without_reading_past_the_end() {
        for (bytes, needle) in [
            (b"CrAX".iter().copied().chain([0u8; 16]).collect::<Vec<_>>(), "magic"),
            (header(3, 0), "major version 3"),
            (header(1, u64::MAX), "exceeds"),
            (header(1, 1000), "claims 1020 bytes"),
            (b"CrAU".to_vec(), "shorter"),
        ] {
            let err = layout(bytes.len() as u64, &reader(&bytes)).unwrap_err().to_string();
            assert!(err.contains(needle), "{err:?} lacks {needle:?}");
        }
    }

    #[test]
    fn signature_blob_must_end_the_file_exactly() {
        let m = manifest(4, 10);
        let mut file = header(1, m.len() as u64);
        file.extend_from_slice(&m);
        file.extend_from_slice(&[0u8; 14]);
        let ok = layout(file.len() as u64, &reader(&file)).unwrap();
        assert_eq!(ok.signed.len(), 1);
        assert_eq!(ok.signed[0], 0..20 + m.len() as u64 + 4);
        file.push(0);
        let err = layout(file.len() as u64, &reader(&file)).unwrap_err().to_string();
        assert!(err.contains("must end the file"), "{err}");
        let m = manifest(u64::MAX - 5, 10);
        let mut file = header(1, m.len() as u64);
        file.extend_from_slice(&m);
        let err = layout(file.len() as u64, &reader(&file)).unwrap_err().to_string();
        assert!(err.contains("overflows"), "{err}");
    }

    #[test]
    fn version_2_excludes_the_metadata_signature_from_the_signed_ranges() {
        let m = manifest(3, 5);
        let mut file = header(2, m.len() as u64);
        file.extend_from_slice(&7u32.to_be_bytes());
        file.extend_from_slice(&m);
        file.extend_from_slice(&[0u8; 7 + 3 + 5]);
        let l = layout(file.len() as u64, &reader(&file)).unwrap();
        let manifest_end = 24 + m.len() as u64;
        assert_eq!(l.signed, vec![0..manifest_end, manifest_end + 7..manifest_end + 10]);
    }

    #[test]
    fn sha256_text_accepts_hex_and_base64_only_of_the_right_length() {
        let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let b64 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
        assert_eq!(parse_sha256_text(hex).unwrap(), parse_sha256_text(b64).unwrap());
        assert_eq!(parse_sha256_text(hex).unwrap()[0], 0xe3);
        assert!(parse_sha256_text("abcd").is_err());
        assert!(parse_sha256_text("not base64 at all!").is_err());
    }
}
