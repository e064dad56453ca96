//! The batch encoder and the choice of the code that runs it.
//!
//! | backend | multiply | width | needs |
//! |---|---|---|---|
//! | [`FecBackend::Gfni`] | GFNI affine, 1 instruction per tap | 512 | GFNI, AVX-512F/BW |
//! | [`FecBackend::Avx512`] | 2 nibble shuffles per tap | 512 | AVX-512F/BW |
//! | [`FecBackend::GfniAvx2`] | GFNI affine | 256 | GFNI, AVX2 |
//! | [`FecBackend::Avx2`] | 2 nibble shuffles per tap | 256 | AVX2 |
//! | [`FecBackend::Portable`] | one table look-up per step for all taps | 64 | nothing |
//!
//! The backend is a value: [`FecBackend::fastest`] picks from the CPU's features, a
//! caller that wants another one (a command-line switch, an environment variable it
//! read itself) passes it by name through [`FecBackend::from_name`]. Nothing here reads
//! the environment or keeps global state. Forcing a backend the CPU lacks is an error,
//! never a crash.
//!
//! Every SIMD kernel keeps the codewords' shift registers *planar* (one plane per
//! parity byte, one byte per lane); the file's lane-major layout is one transposition
//! at the end, in registers with AVX-512 VBMI byte permutes where the CPU has them.
//! Measured on the 512-bit GFNI kernel, that costs the same as transposing inside the
//! kernel, and it lets a caller continue codewords across calls
//! ([`BatchEncoder::resume_rows`]).

use super::error::{FecError, Result};
use super::gf;
use super::rs::{Generator, PortableRows, check_batch};
use super::transpose::planes_to_lane_major;
use core::fmt;

#[cfg(target_arch = "x86_64")]
use crate::simd::gf::{
    MAX_TAPS,
    gfni::{Gfni256, Gfni512},
    shuffle::{NibbleTables, Shuffle256, Shuffle512},
    transpose_planes_vbmi,
};

/// A way of running the batch encoder.
///
/// <!--
/// cbindgen:ignore
/// -->
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FecBackend {
    /// GFNI `vgf2p8affineqb` on 512-bit vectors: 64 codewords per instruction.
    Gfni,
    /// GFNI on 256-bit vectors, for CPUs with GFNI but no AVX-512.
    GfniAvx2,
    /// Split-nibble `vpshufb` look-ups on 512-bit vectors (AVX-512BW).
    Avx512,
    /// Split-nibble `vpshufb` look-ups on 256-bit vectors (AVX2).
    Avx2,
    /// Table look-ups on 64-bit words, any CPU.
    Portable,
}

impl FecBackend {
    /// Every backend, fastest first (as measured on an AVX-512 Xeon with GFNI; the
    /// 512-bit shuffles beat 256-bit GFNI there, and any CPU with both runs [`Gfni`]).
    ///
    /// [`Gfni`]: FecBackend::Gfni
    ///
    /// <!--
    /// cbindgen:ignore
    /// -->
    pub const ALL: [FecBackend; 5] =
        [FecBackend::Gfni, FecBackend::Avx512, FecBackend::GfniAvx2, FecBackend::Avx2, FecBackend::Portable];

    /// The name a caller can pass to [`from_name`](Self::from_name).
    pub const fn name(self) -> &'static str {
        match self {
            FecBackend::Gfni => "gfni",
            FecBackend::GfniAvx2 => "gfni-avx2",
            FecBackend::Avx512 => "avx512",
            FecBackend::Avx2 => "avx2",
            FecBackend::Portable => "portable",
        }
    }

    /// Parses a [`name`](Self::name), ignoring ASCII case and surrounding blanks.
    pub fn from_name(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|b| b.name().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| FecError::UnknownBackend(name.into()))
    }

    /// True when this CPU can run the backend.
    pub fn is_available(self) -> bool {
        self.unavailable_reason().is_none()
    }

    /// The backends this CPU can run, fastest first.
    pub fn available() -> Vec<FecBackend> {
        Self::ALL.into_iter().filter(|b| b.is_available()).collect()
    }

    /// The fastest backend this CPU can run.
    pub fn fastest() -> FecBackend {
        Self::ALL.into_iter().find(|b| b.is_available()).unwrap_or(FecBackend::Portable)
    }

    fn unavailable_reason(self) -> Option<&'static str> {
        #[cfg(target_arch = "x86_64")]
        {
            match self {
                FecBackend::Portable => None,
                FecBackend::Gfni => Gfni512::new().is_none().then_some("the CPU lacks GFNI or AVX-512F/BW"),
                FecBackend::GfniAvx2 => Gfni256::new().is_none().then_some("the CPU lacks GFNI or AVX2"),
                FecBackend::Avx512 => Shuffle512::new().is_none().then_some("the CPU lacks AVX-512F/BW"),
                FecBackend::Avx2 => Shuffle256::new().is_none().then_some("the CPU lacks AVX2"),
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            (self != FecBackend::Portable).then_some("it exists only on x86-64")
        }
    }
}

impl fmt::Display for FecBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The kernel that runs, built once its CPU features are known to be there.
#[derive(Debug, Clone, Copy)]
enum Kernel {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Gfni512(Gfni512),
    #[cfg(target_arch = "x86_64")]
    Gfni256(Gfni256),
    #[cfg(target_arch = "x86_64")]
    Shuffle512(Shuffle512),
    #[cfg(target_arch = "x86_64")]
    Shuffle256(Shuffle256),
}

/// Planar state of one pass of [`BatchEncoder::encode_rows`]: it stays in L1 until it
/// is transposed (24 KiB: 1024 lanes of 24 roots, a whole 4 KiB block of few roots).
const PASS_BYTES: usize = 24 * 1024;

/// Padding between planes, so that their stride is never a multiple of 4 KiB.
const PLANE_PAD: usize = 64;

/// Most message rows of a code (roots = 2).
const MAX_ROWS: usize = 253;

/// Encodes many codewords of one RS(255, 255 − roots) code at once.
///
/// The input is a batch of message *rows*: `rows[i]` holds message symbol `i` of every
/// lane (codeword), so in dm-verity's interleaving one row is one whole block of the
/// stream and one call with `lanes = block_size` encodes one round. Immutable after
/// construction: share one encoder between threads.
#[derive(Debug, Clone)]
pub struct BatchEncoder {
    generator: Generator,
    backend: FecBackend,
    kernel: Kernel,
    portable: PortableRows,
    #[cfg(target_arch = "x86_64")]
    matrices: [u64; MAX_TAPS],
    #[cfg(target_arch = "x86_64")]
    nibbles: NibbleTables,
}

impl BatchEncoder {
    /// An encoder for `roots` parity bytes (2..=24) on `backend`, or the fastest one
    /// for `None`. A backend this CPU lacks is an error.
    pub fn new(roots: u32, backend: Option<FecBackend>) -> Result<Self> {
        let generator = Generator::new(roots)?;
        let backend = backend.unwrap_or_else(FecBackend::fastest);
        if let Some(reason) = backend.unavailable_reason() {
            return Err(FecError::BackendUnavailable { backend: backend.name(), reason });
        }
        let kernel = match backend {
            FecBackend::Portable => Some(Kernel::Portable),
            #[cfg(target_arch = "x86_64")]
            FecBackend::Gfni => Gfni512::new().map(Kernel::Gfni512),
            #[cfg(target_arch = "x86_64")]
            FecBackend::GfniAvx2 => Gfni256::new().map(Kernel::Gfni256),
            #[cfg(target_arch = "x86_64")]
            FecBackend::Avx512 => Shuffle512::new().map(Kernel::Shuffle512),
            #[cfg(target_arch = "x86_64")]
            FecBackend::Avx2 => Shuffle256::new().map(Kernel::Shuffle256),
            #[cfg(not(target_arch = "x86_64"))]
            _ => None,
        }
        .ok_or(FecError::BackendUnavailable { backend: backend.name(), reason: "the CPU check failed" })?;
        #[cfg(target_arch = "x86_64")]
        let taps = generator.taps();
        Ok(BatchEncoder {
            generator,
            backend,
            kernel,
            portable: PortableRows::new(&generator),
            #[cfg(target_arch = "x86_64")]
            matrices: core::array::from_fn(|j| gf::gfni_matrix(taps[j])),
            #[cfg(target_arch = "x86_64")]
            nibbles: core::array::from_fn(|j| {
                let (low, high) = gf::nibble_tables(taps[j]);
                [low, high]
            }),
        })
    }

    /// The backend that runs.
    pub fn backend(&self) -> FecBackend {
        self.backend
    }

    /// Parity bytes per codeword.
    pub fn roots(&self) -> usize {
        self.generator.roots()
    }

    /// Message symbols per codeword: the number of rows a batch takes.
    pub fn message_len(&self) -> usize {
        self.generator.message_len()
    }

    /// The generator polynomial.
    pub fn generator(&self) -> &Generator {
        &self.generator
    }

    /// Encodes `lanes` codewords: `rows` holds `255 − roots` rows of at least `lanes`
    /// bytes (symbol `i` of lane `l` is `rows[i][l]`); the `roots` parity bytes of lane
    /// `l` go to `parity[l·roots ..]`, highest power first: the FEC file's layout, so a
    /// round's parity can be written as it is. `parity` must be `lanes · roots` bytes.
    pub fn encode_rows(&self, rows: &[&[u8]], lanes: usize, parity: &mut [u8]) -> Result<()> {
        check_batch(&self.generator, rows, lanes, parity)?;
        let roots = self.roots();
        if matches!(self.kernel, Kernel::Portable) {
            self.portable.encode(rows, 0..lanes, parity);
            return Ok(());
        }
        // Passes through a planar buffer, each transposed into the parity while it is
        // still in L1; whole vectors of lanes per pass, planes a cache line more than
        // that apart (4 KiB apart, planes share cache sets).
        let mut planes = [0u8; PASS_BYTES];
        let pass_lanes = (PASS_BYTES / roots - PLANE_PAD) / 64 * 64;
        let mut pass_rows: [&[u8]; MAX_ROWS] = [&[]; MAX_ROWS];
        let pass_rows = &mut pass_rows[..rows.len()];
        let mut first = 0;
        while first < lanes {
            let n = (lanes - first).min(pass_lanes);
            for (dst, row) in pass_rows.iter_mut().zip(rows) {
                *dst = &row[first..first + n];
            }
            let stride = n + PLANE_PAD;
            let planes = &mut planes[..stride * roots];
            planes.fill(0);
            let done = self.kernel_resume(pass_rows, n, planes, stride);
            let out = &mut parity[first * roots..(first + n) * roots];
            transpose_lanes(roots, planes, stride, 0..done, &mut out[..done * roots]);
            // Lanes short of a vector: straight to the file layout.
            self.portable.encode(pass_rows, done..n, &mut out[done * roots..]);
            first += n;
        }
        Ok(())
    }

    /// Like [`encode_rows`](Self::encode_rows), but the parity comes out planar:
    /// `planes[j·lanes + l]` is parity byte `j` of lane `l`. [`transpose_planes`] turns
    /// that into the file layout. `planes` must be `lanes · roots` bytes. With many
    /// roots and `lanes` a multiple of 4096 the planes share cache sets, which costs up
    /// to a third of the speed: [`resume_rows`](Self::resume_rows) takes a stride.
    pub fn encode_rows_planar(&self, rows: &[&[u8]], lanes: usize, planes: &mut [u8]) -> Result<()> {
        check_batch(&self.generator, rows, lanes, planes)?;
        planes.fill(0);
        self.resume_unchecked(rows, lanes, planes, lanes);
        Ok(())
    }

    /// Continues `lanes` codewords through the message rows `rows` (any number of
    /// them, in order), from the shift-register state in `state` and back into it.
    ///
    /// `state` is planar: byte `j` of lane `l`'s register at `state[j·stride + l]`
    /// (`roots` planes of `lanes` bytes, `stride ≥ lanes` apart). Zeros start a
    /// codeword; after the codeword's `255 − roots` rows in total, in one call or many,
    /// `state` holds its parity, planar ([`transpose_planes`] gives the file layout).
    /// This lets a reader feed each round a few blocks at a time, as it reads them, and
    /// keep only the state (one round's parity) between calls.
    ///
    /// Choose a `stride` that is not a multiple of 4 KiB (say `lanes + 64`): planes
    /// 4 KiB apart share cache sets, which costs up to a third of the speed with many
    /// roots.
    pub fn resume_rows(&self, rows: &[&[u8]], lanes: usize, state: &mut [u8], stride: usize) -> Result<()> {
        if rows.len() > self.message_len() {
            return Err(FecError::BufferSize {
                what: "the row list",
                expected: self.message_len(),
                actual: rows.len(),
            });
        }
        if let Some(short) = rows.iter().find(|r| r.len() < lanes) {
            return Err(FecError::BufferSize { what: "a message row", expected: lanes, actual: short.len() });
        }
        check_planes(self.roots(), lanes, stride, state.len())?;
        self.resume_unchecked(rows, lanes, state, stride);
        Ok(())
    }

    /// [`resume_rows`](Self::resume_rows) on checked sizes.
    fn resume_unchecked(&self, rows: &[&[u8]], lanes: usize, state: &mut [u8], stride: usize) {
        let done = self.kernel_resume(rows, lanes, state, stride);
        self.portable.resume(rows, done..lanes, state, stride);
    }

    /// Runs the SIMD kernel on planes `stride` apart; returns the lanes done (all but
    /// fewer than one vector's worth, or 0 for the portable backend).
    fn kernel_resume(&self, rows: &[&[u8]], lanes: usize, state: &mut [u8], stride: usize) -> usize {
        let roots = self.roots();
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (rows, lanes, state, stride, roots);
        match self.kernel {
            Kernel::Portable => 0,
            #[cfg(target_arch = "x86_64")]
            Kernel::Gfni512(k) => k.encode(&self.matrices, roots, rows, lanes, state, stride),
            #[cfg(target_arch = "x86_64")]
            Kernel::Shuffle512(k) => k.encode(&self.nibbles, roots, rows, lanes, state, stride),
            #[cfg(target_arch = "x86_64")]
            Kernel::Gfni256(k) => k.encode(&self.matrices, roots, rows, lanes, state, stride),
            #[cfg(target_arch = "x86_64")]
            Kernel::Shuffle256(k) => k.encode(&self.nibbles, roots, rows, lanes, state, stride),
        }
    }
}

/// Lanes `lanes` of planar parity (`roots` planes, `stride` apart) into lane-major
/// `out` (lane `lanes.start` first): AVX-512 VBMI where available, else portable.
fn transpose_lanes(roots: usize, planes: &[u8], stride: usize, lanes: core::ops::Range<usize>, out: &mut [u8]) {
    #[cfg(target_arch = "x86_64")]
    let done =
        if lanes.start == 0 { transpose_planes_vbmi(roots, planes, stride, lanes.end, out).unwrap_or(0) } else { 0 };
    #[cfg(not(target_arch = "x86_64"))]
    let done = 0;
    let skip = done.saturating_sub(lanes.start);
    planes_to_lane_major(roots, planes, stride, lanes.start + skip..lanes.end, &mut out[skip * roots..]);
}

/// Checks that `len` bytes hold `roots` planes of `lanes` bytes, `stride` apart.
fn check_planes(roots: usize, lanes: usize, stride: usize, len: usize) -> Result<()> {
    if stride < lanes {
        return Err(FecError::BufferSize { what: "the plane stride", expected: lanes, actual: stride });
    }
    let needed = stride
        .checked_mul(roots - 1)
        .and_then(|n| n.checked_add(lanes))
        .ok_or(FecError::Overflow("the planes' size"))?;
    if len < needed {
        return Err(FecError::BufferSize { what: "the planes", expected: needed, actual: len });
    }
    Ok(())
}

/// Transposes planar parity (`roots` planes of `lanes` bytes, `stride ≥ lanes` apart,
/// as [`BatchEncoder::encode_rows_planar`] and [`BatchEncoder::resume_rows`] leave it)
/// into the FEC file's lane-major layout: `out` must be `lanes · roots` bytes. Uses
/// AVX-512 VBMI byte permutes when the CPU has them.
pub fn transpose_planes(roots: u32, planes: &[u8], stride: usize, lanes: usize, out: &mut [u8]) -> Result<()> {
    let roots = super::rs::check_roots(roots)?;
    check_planes(roots, lanes, stride, planes.len())?;
    let size = lanes.checked_mul(roots).ok_or(FecError::Overflow("the parity size"))?;
    super::rs::check_len("the parity buffer", out.len(), size)?;
    transpose_lanes(roots, planes, stride, 0..lanes, out);
    Ok(())
}
