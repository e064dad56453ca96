//! Every FEC encoder backend this CPU runs against the reference one-codeword encoder
//! (libfec's `encode_rs_char` rule), on arbitrary roots, lane counts and messages:
//! lane-major parity (`encode_rows`) and planar parity transposed (`encode_rows_planar`
//! then `transpose_planes`).
//!
//! Input layout: byte 0 picks the roots (2 + byte % 23); bytes 1–2 the lane count
//! (1 + u16 % 1024, so the vector bodies and the portable tails both run); the rest,
//! repeated as needed, fills the `255 − roots` message rows.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rootseal::verity::fec::{BatchEncoder, FecBackend, Generator, encode_codeword, transpose_planes};

fuzz_target!(|input: &[u8]| {
    let [roots, lanes_lo, lanes_hi, rest @ ..] = input else { return };
    if rest.is_empty() {
        return;
    }
    let roots = 2 + u32::from(*roots) % 23;
    let lanes = 1 + usize::from(u16::from_le_bytes([*lanes_lo, *lanes_hi])) % 1024;
    let message_len = 255 - roots as usize;
    let rows: Vec<Vec<u8>> = (0..message_len)
        .map(|row| (0..lanes).map(|lane| rest[(row * lanes + lane) % rest.len()] ^ (row as u8)).collect())
        .collect();
    let row_refs: Vec<&[u8]> = rows.iter().map(Vec::as_slice).collect();

    let generator = Generator::new(roots).expect("roots in range");
    let r = roots as usize;
    let mut expected = vec![0u8; lanes * r];
    for lane in 0..lanes {
        let message: Vec<u8> = rows.iter().map(|row| row[lane]).collect();
        encode_codeword(&generator, &message, &mut expected[lane * r..(lane + 1) * r]).expect("sizes match");
    }
    for backend in FecBackend::available() {
        let encoder = BatchEncoder::new(roots, Some(backend)).expect("available backend");
        let mut parity = vec![0u8; lanes * r];
        encoder.encode_rows(&row_refs, lanes, &mut parity).expect("sizes match");
        assert!(parity == expected, "{} differs: roots {roots}, {lanes} lanes", backend.name());
        let mut planes = vec![0u8; lanes * r];
        encoder.encode_rows_planar(&row_refs, lanes, &mut planes).expect("sizes match");
        let mut transposed = vec![0u8; lanes * r];
        transpose_planes(roots, &planes, lanes, lanes, &mut transposed).expect("sizes match");
        assert!(transposed == expected, "{} planar differs: roots {roots}, {lanes} lanes", backend.name());
    }
});
