//! The message padding shared by the multi-message kernels: each lane hashes
//! `salt || message` for its own message, all messages of one length, so every lane
//! runs the same number of blocks in lockstep and only the block pointers differ.
//!
//! The salt's whole blocks are compressed once, when the hasher is built; its remaining
//! bytes are copied in front of each message's first block. Whole blocks inside a
//! message are read where they lie (no copy); the tail, with the padding and the bit
//! length, goes through a small stack buffer.

/// One compression function run on `N` messages at once.
///
/// # Safety
/// Implementations may only exist where the CPU has the features `compress` needs: a
/// value of the type is the proof, so constructors must check before returning one.
pub(crate) unsafe trait Kernel<const N: usize>: Sync + Send {
    /// State word: `u32` for SHA-256, `u64` for SHA-512.
    type Word: Copy + Send + Sync + 'static;
    /// Block size in bytes: 64 or 128.
    const BLOCK: usize;
    /// Bytes of the big-endian bit length that ends the padding: 8 or 16.
    const LENGTH_BYTES: usize;
    /// Digest size in bytes.
    const DIGEST: usize;
    /// Initial state.
    const IV: [Self::Word; 8];

    /// Compresses `count` blocks of every lane: block `j` of lane `l` is at
    /// `ptrs[l] + BLOCK * j`.
    ///
    /// # Safety
    /// Every `ptrs[l]` must be readable for `BLOCK * count` bytes.
    unsafe fn compress(&self, states: &mut [[Self::Word; 8]; N], ptrs: [*const u8; N], count: usize);

    /// Writes the digest (the state words, big-endian) into `out`.
    fn digest_bytes(state: &[Self::Word; 8], out: &mut [u8]);
}

/// Room for the last two blocks of a SHA-512 message (the largest case).
const TAIL_BUFFER: usize = 256;

/// A kernel together with the salt it prefixes to every message.
pub(crate) struct SaltedLanes<K: Kernel<N>, const N: usize> {
    kernel: K,
    /// State after the salt's whole blocks.
    state: [K::Word; 8],
    /// The salt's bytes after its whole blocks (fewer than one block): the first
    /// `rest_len` bytes. A fixed array, so the boot library builds one without a heap.
    rest: [u8; 128],
    rest_len: usize,
    salt_len: usize,
}

impl<K: Kernel<N>, const N: usize> SaltedLanes<K, N> {
    pub(crate) fn new(kernel: K, salt: &[u8]) -> Self {
        let whole = salt.len() / K::BLOCK;
        let mut states = [K::IV; N];
        if whole > 0 {
            // SAFETY: every lane reads the salt's `whole` complete blocks.
            unsafe { kernel.compress(&mut states, [salt.as_ptr(); N], whole) };
        }
        let tail = &salt[whole * K::BLOCK..];
        let mut rest = [0u8; 128];
        rest[..tail.len()].copy_from_slice(tail);
        SaltedLanes { kernel, state: states[0], rest, rest_len: tail.len(), salt_len: salt.len() }
    }

    /// Digests `messages` (all of one length) into consecutive `K::DIGEST`-byte chunks
    /// of `out`. A last group of fewer than `N` messages repeats its last message in the
    /// idle lanes, so the kernel always sees full groups.
    pub(crate) fn digest_all(&self, messages: &[&[u8]], out: &mut [u8]) {
        assert!(out.len() >= messages.len() * K::DIGEST, "digest buffer too small");
        let Some(len) = messages.first().map(|m| m.len()) else { return };
        assert!(messages.iter().all(|m| m.len() == len), "messages of different lengths");
        for (g, (group, out)) in messages.chunks(N).zip(out.chunks_mut(N * K::DIGEST)).enumerate() {
            // Each message usually starts a new page, where the hardware prefetchers do
            // not follow: start the next group's first cache lines (and page walks) now,
            // behind this group's compression.
            if let Some(next) = messages.get((g + 1) * N..).filter(|next| !next.is_empty()) {
                let ptrs: [*const u8; N] = core::array::from_fn(|l| next[l.min(next.len() - 1)].as_ptr());
                for line in 0..super::PREFETCH_BLOCKS {
                    // SAFETY: prefetching needs only SSE, part of the x86-64 baseline.
                    unsafe { super::prefetch_ahead(&ptrs, 64 * line) };
                }
            }
            let lanes: [&[u8]; N] = core::array::from_fn(|l| group[l.min(group.len() - 1)]);
            let states = self.digest_group(lanes, len);
            for (state, out) in states[..group.len()].iter().zip(out.chunks_mut(K::DIGEST)) {
                K::digest_bytes(state, out);
            }
        }
    }

    fn digest_group(&self, msgs: [&[u8]; N], len: usize) -> [[K::Word; 8]; N] {
        let block = K::BLOCK;
        let rest = self.rest_len;
        let mut states = [self.state; N];
        // The salt's rest and the message head share a first block when the message
        // reaches past its end; otherwise they both go into the tail buffer.
        let (carry, mut off) = if rest > 0 && len >= block - rest {
            let mut first = [[0u8; TAIL_BUFFER]; N];
            for (buf, msg) in first.iter_mut().zip(msgs) {
                buf[..rest].copy_from_slice(&self.rest[..rest]);
                buf[rest..block].copy_from_slice(&msg[..block - rest]);
            }
            // SAFETY: each buffer holds one whole block.
            unsafe { self.kernel.compress(&mut states, core::array::from_fn(|l| first[l].as_ptr()), 1) };
            (0, block - rest)
        } else {
            (rest, 0)
        };
        let middle = (len - off) / block;
        if middle > 0 {
            // SAFETY: `off + middle * block <= len`, the length of every message.
            let ptrs = core::array::from_fn(|l| unsafe { msgs[l].as_ptr().add(off) });
            // SAFETY: each pointer is followed by `middle` whole blocks of its message.
            unsafe { self.kernel.compress(&mut states, ptrs, middle) };
            off += middle * block;
        }
        let tail = len - off;
        // carry + tail < block, so the padding needs one block or two.
        let used = carry + tail + 1 + K::LENGTH_BYTES;
        let blocks = used.div_ceil(block);
        let end = blocks * block;
        let bits = ((self.salt_len as u128) + (len as u128)) * 8;
        let length = &bits.to_be_bytes()[16 - K::LENGTH_BYTES..];
        let mut last = [[0u8; TAIL_BUFFER]; N];
        for (buf, msg) in last.iter_mut().zip(msgs) {
            buf[..carry].copy_from_slice(&self.rest[..carry]);
            buf[carry..carry + tail].copy_from_slice(&msg[off..]);
            buf[carry + tail] = 0x80;
            buf[end - K::LENGTH_BYTES..end].copy_from_slice(length);
        }
        // SAFETY: each buffer holds `blocks` whole blocks (`end <= TAIL_BUFFER`).
        unsafe { self.kernel.compress(&mut states, core::array::from_fn(|l| last[l].as_ptr()), blocks) };
        states
    }
}
