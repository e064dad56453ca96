//! CPU features read with CPUID and XGETBV themselves, for code that cannot use
//! `is_x86_feature_detected!` (the boot library has no `std`): an instruction set counts
//! only when the CPU has it **and** the OS or firmware enabled its register state in
//! XCR0, which firmware may not have done. Nothing is cached (no mutable static state):
//! callers ask once when they build a kernel.

use core::arch::x86_64::{__cpuid, __cpuid_count, CpuidResult};

/// XCR0 bit of the SSE (XMM) register state.
const XCR0_SSE: u64 = 1 << 1;

fn xcr0() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: XGETBV with ECX = 0 reads XCR0; it exists when CPUID.1:ECX.OSXSAVE is set,
    // which the caller checked. It reads no memory.
    unsafe {
        core::arch::asm!("xgetbv", in("ecx") 0u32, out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags))
    };
    u64::from(hi) << 32 | u64::from(lo)
}

fn leaf(eax: u32) -> Option<CpuidResult> {
    // CPUID is in the x86-64 baseline; leaf 0 says which leaves exist.
    let max = __cpuid(0).eax;
    (eax <= max).then(|| if eax == 7 { __cpuid_count(7, 0) } else { __cpuid(eax) })
}

/// True when SHA-NI can run: CPUID says SHA, SSSE3 and SSE4.1, and the SSE register
/// state is enabled (XCR0's SSE bit where XSAVE is in use).
pub(crate) fn sha_ni_usable() -> bool {
    let (Some(basic), Some(extended)) = (leaf(1), leaf(7)) else { return false };
    let ssse3 = basic.ecx & (1 << 9) != 0;
    let sse41 = basic.ecx & (1 << 19) != 0;
    let osxsave = basic.ecx & (1 << 27) != 0;
    let sha = extended.ebx & (1 << 29) != 0;
    // SHA-NI works on the SSE registers. Where XSAVE is in use (OSXSAVE), XCR0 says
    // whether that state is enabled. Without it (OVMF leaves CR4.OSXSAVE clear) the SSE
    // state is enabled by CR4.OSFXSR alone, which this code already depends on: x86-64
    // code is generated with SSE2, so nothing here would run without it. (CR4 itself
    // cannot be read outside ring 0.)
    let sse_state = !osxsave || xcr0() & XCR0_SSE != 0;
    ssse3 && sse41 && sha && sse_state
}
