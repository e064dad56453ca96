//! The C entry points, called in arbitrary sequences with arbitrary scalar arguments,
//! params structs whose every field comes from the input, NULL or valid pointers, and
//! caller I/O callbacks that fail, come up short or report odd sizes on command.
//!
//! Invariants: no call panics (a panic would come back as `ROOTSEAL_STATUS_PANIC`);
//! a failed call leaves its out-params byte for byte untouched and sets a message in
//! `rootseal_last_error`; a GPT handle's disk never grows.
//!
//! Input: byte 0 bit 0 picks the block size of the template disk, bit 1 replaces the
//! template by the next u16-prefixed input bytes; then calls, one kind byte each.

use super::c_api_files;
use super::gpt_image;
use super::input::Input;
use super::verity_verify;
use rootseal::ffi::gpt::*;
use rootseal::ffi::io::{ROOTSEAL_IO_VERSION, rootseal_io};
use rootseal::ffi::rootseal_last_error;
use rootseal::ffi::sig::*;
use rootseal::ffi::status::{rootseal_status, rootseal_strerror};
use rootseal::ffi::verity::*;
use rootseal::ffi::verity_range::*;
use rootseal::ffi::verity_table::*;
use std::cell::{Cell, RefCell};
use std::ffi::{CStr, CString, c_char, c_void};
use std::mem::MaybeUninit;
use std::ptr;

/// A device behind callbacks, misbehaving as the input says.
pub(super) struct Device {
    bytes: RefCell<Vec<u8>>,
    /// Calls left before read, write or flush fail (0: never).
    fail_after: Cell<u32>,
    /// Reads and writes move at most this many bytes per call (0: no limit).
    chunk: usize,
    size_fails: bool,
    block_size: u32,
}

impl Device {
    fn new(bytes: Vec<u8>, input: &mut Input) -> Device {
        let flags = input.byte();
        Device {
            bytes: RefCell::new(bytes),
            fail_after: Cell::new(if flags & 1 != 0 { u32::from(input.byte()) + 1 } else { 0 }),
            chunk: if flags & 2 != 0 { usize::from(input.byte()) + 1 } else { 0 },
            size_fails: flags & 4 != 0 && input.byte() == 0,
            block_size: match flags >> 3 & 3 {
                0 => 512,
                1 => 4096,
                2 => 0,
                _ => input.u32(),
            },
        }
    }

    /// Counts a call down; true when this one must fail.
    fn fails_now(&self) -> bool {
        match self.fail_after.get() {
            0 => false,
            1 => true,
            n => {
                self.fail_after.set(n - 1);
                false
            }
        }
    }

    fn limit(&self, len: usize) -> usize {
        if self.chunk == 0 { len } else { len.min(self.chunk) }
    }

    fn as_io(&self, with_block_size: bool) -> rootseal_io {
        rootseal_io {
            version: ROOTSEAL_IO_VERSION,
            reserved0: 0,
            ctx: self as *const Device as *mut c_void,
            read: Some(read_cb),
            write: Some(write_cb),
            flush: Some(flush_cb),
            size: Some(size_cb),
            block_size: if with_block_size { Some(block_size_cb) } else { None },
            reserved: [ptr::null_mut(); 4],
        }
    }
}

/// # Safety
/// `ctx` is a live `Device` (every `rootseal_io` here is made by `Device::as_io`).
unsafe fn device<'a>(ctx: *mut c_void) -> &'a Device {
    // SAFETY: per this function's contract.
    unsafe { &*(ctx as *const Device) }
}

unsafe extern "C" fn read_cb(ctx: *mut c_void, offset: u64, buf: *mut u8, len: usize) -> i64 {
    // SAFETY: rootseal hands back the ctx of an io made by `Device::as_io`.
    let dev = unsafe { device(ctx) };
    if dev.fails_now() {
        return -5;
    }
    let bytes = dev.bytes.borrow();
    let Some(available) = usize::try_from(offset).ok().and_then(|o| bytes.get(o..)) else { return 0 };
    let n = dev.limit(len.min(available.len()));
    // SAFETY: rootseal promises `buf` holds `len` bytes; n <= len.
    unsafe { ptr::copy_nonoverlapping(available.as_ptr(), buf, n) };
    n as i64
}

unsafe extern "C" fn write_cb(ctx: *mut c_void, offset: u64, buf: *const u8, len: usize) -> i64 {
    // SAFETY: as in read_cb.
    let dev = unsafe { device(ctx) };
    if dev.fails_now() {
        return -5;
    }
    let mut bytes = dev.bytes.borrow_mut();
    let start = usize::try_from(offset).unwrap_or(usize::MAX);
    // A fixed-size disk: a write past its end is an error, as on a block device.
    if start >= bytes.len() {
        return -28;
    }
    let n = dev.limit(len.min(bytes.len() - start));
    // SAFETY: rootseal promises `buf` holds `len` bytes; n <= len and fits the disk.
    unsafe { ptr::copy_nonoverlapping(buf, bytes[start..].as_mut_ptr(), n) };
    n as i64
}

unsafe extern "C" fn flush_cb(ctx: *mut c_void) -> i32 {
    // SAFETY: as in read_cb.
    i32::from(unsafe { device(ctx) }.fails_now())
}

unsafe extern "C" fn size_cb(ctx: *mut c_void, size_out: *mut u64) -> i32 {
    // SAFETY: as in read_cb.
    let dev = unsafe { device(ctx) };
    if dev.size_fails {
        return -1;
    }
    // SAFETY: rootseal passes a writable u64.
    unsafe { size_out.write(dev.bytes.borrow().len() as u64) };
    0
}

unsafe extern "C" fn block_size_cb(ctx: *mut c_void, out: *mut u32) -> i32 {
    // SAFETY: as in read_cb; rootseal passes a writable u32.
    unsafe { out.write(device(ctx).block_size) };
    0
}

/// Storage for an out-param, filled with a marker so a failed call can be shown not to
/// have touched it.
pub(super) struct Out<T>(pub(super) MaybeUninit<T>);

impl<T> Out<T> {
    pub(super) fn new() -> Self {
        let mut slot = MaybeUninit::uninit();
        // SAFETY: writes size_of::<T>() bytes into the slot's own storage.
        unsafe { ptr::write_bytes(slot.as_mut_ptr(), 0xa5, 1) };
        Out(slot)
    }
    pub(super) fn ptr(&mut self) -> *mut T {
        self.0.as_mut_ptr()
    }
    pub(super) fn untouched(&self) -> bool {
        // SAFETY: every byte of the slot was initialised in `new`; nothing but the
        // callee can have written it since.
        let bytes = unsafe { std::slice::from_raw_parts(self.0.as_ptr().cast::<u8>(), size_of::<T>()) };
        bytes.iter().all(|&b| b == 0xa5)
    }
}

/// The checks every call gets.
pub(super) fn after_call(name: &str, status: rootseal_status, outs_untouched: bool) {
    assert_ne!(status, rootseal_status::Panic, "{name} panicked: {}", last_error());
    if status != rootseal_status::Ok && status != rootseal_status::VerityCorrupted {
        assert!(outs_untouched, "{name} failed with {status:?} but wrote an out-param");
        assert!(!last_error().is_empty(), "{name} failed with {status:?} and no message");
    }
    // SAFETY: strerror returns a static NUL-terminated string for any number.
    let text = unsafe { CStr::from_ptr(rootseal_strerror(status as i32)) };
    assert!(!text.to_bytes().is_empty());
}

fn last_error() -> String {
    // SAFETY: the pointer is valid until the next rootseal call on this thread.
    unsafe { CStr::from_ptr(rootseal_last_error()) }.to_string_lossy().into_owned()
}

/// A version field: usually right, sometimes anything.
pub(super) fn version(input: &mut Input, right: u32) -> u32 {
    if input.byte() & 0x1f == 0 { input.u32() } else { right }
}

/// A reserved field: usually zero, sometimes not.
pub(super) fn reserved(input: &mut Input) -> u64 {
    if input.byte() & 0x1f == 0 { input.u64() | 1 } else { 0 }
}

/// A type GUID argument: NULL, a known type, or arbitrary text.
pub(super) fn type_text(input: &mut Input) -> Option<CString> {
    match input.byte() % 4 {
        0 => None,
        1 => Some(c"5dfbf5f4-2848-4bac-aa5e-0d9a20b745a6".into()),
        2 => Some(c"fe3a2a5d-4f32-41a7-b725-accc3285a309".into()),
        _ => Some(CString::new(input.short_slice().iter().map(|&b| b.max(1)).collect::<Vec<u8>>()).expect("no NUL")),
    }
}

pub(super) fn text_ptr(text: &Option<CString>) -> *const c_char {
    text.as_ref().map_or(ptr::null(), |t| t.as_ptr())
}

/// Where the calls keep their handles between steps.
pub(super) struct Session {
    pub(super) gpt: *mut rootseal_gpt,
    pub(super) gpt_device: Option<Box<Device>>,
    pub(super) context: *mut rootseal_sig_context,
    pub(super) store: *mut rootseal_trust_store,
}

impl Drop for Session {
    fn drop(&mut self) {
        // SAFETY: each is NULL or a live handle from the matching constructor.
        unsafe {
            rootseal_gpt_close(self.gpt);
            rootseal_trust_store_free(self.store);
            rootseal_sig_context_free(self.context);
        }
        c_api_files::reset_process_state();
    }
}

pub fn check(bytes: &[u8]) {
    let mut input = Input::new(bytes);
    let control = input.byte();
    let block_size = if control & 1 == 0 { 512 } else { 4096 };
    let disk = if control & 2 != 0 {
        let len = usize::from(input.u16());
        input.take(len).to_vec()
    } else {
        gpt_image::template(block_size)
    };
    let mut session =
        Session { gpt: ptr::null_mut(), gpt_device: None, context: ptr::null_mut(), store: ptr::null_mut() };
    let mut context_out = Out::<*mut rootseal_sig_context>::new();
    // SAFETY: a valid out pointer.
    let status = unsafe { rootseal_sig_context_new(context_out.ptr()) };
    after_call("rootseal_sig_context_new", status, context_out.untouched());
    // SAFETY: written on success, which the default provider always gives.
    session.context = unsafe { context_out.0.assume_init() };
    let mut store_out = Out::<*mut rootseal_trust_store>::new();
    // SAFETY: a live context and a valid out pointer.
    let status = unsafe { rootseal_trust_store_new(session.context, store_out.ptr()) };
    after_call("rootseal_trust_store_new", status, store_out.untouched());
    // SAFETY: written on success.
    session.store = unsafe { store_out.0.assume_init() };

    while !input.is_empty() {
        step(&mut session, &mut input, &disk);
    }
}

fn step(session: &mut Session, input: &mut Input, disk: &[u8]) {
    let kind = input.byte();
    // Handles are passed as NULL now and then.
    let gpt = if kind & 0x80 != 0 { ptr::null_mut() } else { session.gpt };
    match kind & 0x0f {
        0 => open(session, input, disk),
        1 => {
            let mut out = Out::<rootseal_gpt_state>::new();
            let out_ptr = if kind & 0x40 != 0 { ptr::null_mut() } else { out.ptr() };
            // SAFETY: NULL or live handle; NULL or valid out.
            let status = unsafe { rootseal_gpt_get_state(gpt, out_ptr) };
            after_call("rootseal_gpt_get_state", status, out.untouched());
        }
        2 => {
            let mut out = Out::<rootseal_gpt_partition>::new();
            // SAFETY: as above.
            let status = unsafe { rootseal_gpt_get_partition(gpt, input.u32() % 300, out.ptr()) };
            after_call("rootseal_gpt_get_partition", status, out.untouched());
        }
        3 => {
            let params = rootseal_gpt_set_params {
                version: version(input, ROOTSEAL_GPT_SET_PARAMS_VERSION),
                fields: u32::from(input.byte() % 16),
                priority: input.byte() % 20,
                tries: input.byte() % 20,
                successful: input.byte() % 3,
                reserved0: reserved(input) as u8,
                reserved: [reserved(input) as u32, 0, 0],
            };
            let index = u32::from(input.byte());
            let params_ptr = if kind & 0x40 != 0 { ptr::null() } else { &params as *const _ };
            // SAFETY: NULL or live handle; NULL or a live params struct.
            let status = unsafe { rootseal_gpt_set(gpt, index, params_ptr) };
            after_call("rootseal_gpt_set", status, true);
        }
        4 => {
            let type_guid = type_text(input);
            let params = rootseal_gpt_prioritize_params {
                version: version(input, ROOTSEAL_GPT_PRIORITIZE_PARAMS_VERSION),
                index: u32::from(input.byte() % 12),
                friends: u32::from(input.byte() % 3),
                max_priority: u32::from(input.byte()) % 300,
                type_guid: text_ptr(&type_guid),
                reserved: [reserved(input), 0, 0, 0],
            };
            // SAFETY: as above; `type_guid` outlives the call.
            let status = unsafe { rootseal_gpt_prioritize(gpt, &params) };
            after_call("rootseal_gpt_prioritize", status, true);
        }
        5 => {
            let type_guid = type_text(input);
            let mut out = Out::<rootseal_gpt_next_result>::new();
            // SAFETY: as above.
            let status = unsafe { rootseal_gpt_next(gpt, text_ptr(&type_guid), out.ptr()) };
            after_call("rootseal_gpt_next", status, out.untouched());
        }
        6 => {
            let type_guid = type_text(input);
            let index = u32::from(input.byte() % 12);
            // SAFETY: as above.
            let status = unsafe {
                if kind & 0x40 != 0 {
                    rootseal_gpt_mark_good(gpt, index, text_ptr(&type_guid))
                } else {
                    rootseal_gpt_mark_update(gpt, index, text_ptr(&type_guid))
                }
            };
            after_call("rootseal_gpt_mark", status, true);
        }
        7 => {
            // SAFETY: NULL or live handle.
            let status = unsafe { rootseal_gpt_invalidate(gpt, u32::from(input.byte())) };
            after_call("rootseal_gpt_invalidate", status, true);
        }
        8 => {
            let mut out = Out::<u32>::new();
            let flags = u32::from(input.byte() % 4);
            let out_ptr = if kind & 0x40 != 0 { ptr::null_mut() } else { out.ptr() };
            // SAFETY: as above.
            let status = unsafe { rootseal_gpt_repair(gpt, flags, out_ptr) };
            after_call("rootseal_gpt_repair", status, out.untouched());
        }
        9 => {
            // SAFETY: NULL or a live handle, dropped from the session right after.
            unsafe { rootseal_gpt_close(session.gpt) };
            session.gpt = ptr::null_mut();
            session.gpt_device = None;
        }
        10 | 11 => verity(input, kind),
        12 => {
            let len = usize::from(input.u16() % 4096);
            let key = input.take(len);
            let key_ptr = if kind & 0x40 != 0 { ptr::null() } else { key.as_ptr() };
            // SAFETY: live store; NULL or `len` readable bytes.
            let status = unsafe { rootseal_trust_store_add_key(session.store, key_ptr, key.len()) };
            after_call("rootseal_trust_store_add_key", status, true);
        }
        13 => {
            let params = rootseal_sig_params {
                version: version(input, ROOTSEAL_SIG_PARAMS_VERSION),
                policy: u32::from(input.byte() % 3),
                digest: u32::from(input.byte() % 7),
                padding: u32::from(input.byte() % 4),
                reserved: [reserved(input), 0, 0, 0],
            };
            let data = input.short_slice();
            let len = usize::from(input.u16() % 1024);
            let signature = input.take(len);
            let mut out = Out::<rootseal_sig_result>::new();
            // SAFETY: live store and params; slices valid for their lengths.
            let status = unsafe {
                rootseal_sig_verify_buffer(
                    session.store,
                    &params,
                    data.as_ptr(),
                    data.len(),
                    signature.as_ptr(),
                    signature.len(),
                    out.ptr(),
                )
            };
            after_call("rootseal_sig_verify_buffer", status, out.untouched());
        }
        14 if kind & 0x30 == 0 => {
            let number = input.u32() as i32;
            // SAFETY: any number is allowed; a static string comes back.
            let text = unsafe { CStr::from_ptr(rootseal_strerror(number)) };
            assert!(!text.to_bytes().is_empty());
        }
        14 => c_api_files::step(session, input, kind, disk),
        _ => {
            let hex = CString::new(input.short_slice().iter().map(|&b| b.max(1)).collect::<Vec<u8>>()).expect("no NUL");
            let len = usize::from(input.u16() % 2048);
            let signature = input.take(len);
            let mut out = Out::<rootseal_sig_result>::new();
            // SAFETY: live store, NUL-terminated text, a valid slice and out.
            let status = unsafe {
                rootseal_sig_verify_root_hash(
                    session.store,
                    hex.as_ptr(),
                    signature.as_ptr(),
                    signature.len(),
                    out.ptr(),
                )
            };
            after_call("rootseal_sig_verify_root_hash", status, out.untouched());
        }
    }
}

fn open(session: &mut Session, input: &mut Input, disk: &[u8]) {
    // SAFETY: NULL or a live handle, replaced below.
    unsafe { rootseal_gpt_close(session.gpt) };
    session.gpt = ptr::null_mut();
    let flags = input.byte();
    let device = Box::new(Device::new(disk.to_vec(), input));
    let mut io = device.as_io(flags & 1 != 0);
    io.version = version(input, ROOTSEAL_IO_VERSION);
    io.reserved0 = reserved(input) as u32;
    if flags & 2 != 0 {
        io.write = None;
    }
    let params = rootseal_gpt_open_params {
        version: version(input, ROOTSEAL_GPT_OPEN_PARAMS_VERSION),
        block_size: [0, 512, 4096, 1024][usize::from(flags >> 2 & 3)],
        flags: u32::from(flags >> 4 & 3),
        reserved0: reserved(input) as u32,
        reserved: [reserved(input), 0, 0, 0],
    };
    let params_ptr = if flags & 0x40 != 0 { ptr::null() } else { &params as *const _ };
    let mut out = Out::<*mut rootseal_gpt>::new();
    // SAFETY: io and params are live for the call; the device outlives the handle (both
    // live in the session and go together).
    let status = unsafe { rootseal_gpt_open_io(&io, params_ptr, out.ptr()) };
    after_call("rootseal_gpt_open_io", status, out.untouched());
    if status == rootseal_status::Ok {
        // SAFETY: written on success.
        session.gpt = unsafe { out.0.assume_init() };
        session.gpt_device = Some(device);
    }
    let len = session.gpt_device.as_ref().map(|d| d.bytes.borrow().len());
    assert!(len.is_none_or(|len| len == disk.len()), "the disk changed size");
}

/// A verity params struct from the input: usually sensible values, sometimes anything.
pub(super) fn verity_params(input: &mut Input, kind: u8, salt: &[u8]) -> rootseal_verity_params {
    rootseal_verity_params {
        version: version(input, ROOTSEAL_VERITY_PARAMS_VERSION),
        hash_algorithm: u32::from(input.byte() % 7),
        data_block_size: [0, 512, 1024, 4096, 3000, 1 << 20][usize::from(input.byte() % 6)],
        hash_block_size: [0, 512, 1024, 4096, 100, 1 << 20][usize::from(input.byte() % 6)],
        flags: u32::from(input.byte() % 16),
        threads: u32::from(input.byte()),
        data_blocks: match input.byte() % 4 {
            0 => 0,
            1 => verity_verify::DATA_BLOCKS,
            2 => u64::from(input.byte()),
            _ => input.u64(),
        },
        hash_offset: match input.byte() % 3 {
            0 => 0,
            1 => u64::from(input.u16()),
            _ => input.u64(),
        },
        salt: if kind & 0x40 != 0 { ptr::null() } else { salt.as_ptr() },
        salt_size: if kind & 0x40 != 0 { usize::from(input.byte()) } else { salt.len() },
        uuid: if input.byte() & 1 != 0 { *b"rootseal-fuzzing" } else { [0; 16] },
        reserved: [reserved(input), 0, 0, 0, 0, 0, 0, 0],
    }
}

/// The hash device of `geometry`, resized and patched as the input says.
pub(super) fn patched_hash_device(input: &mut Input, geometry: &verity_verify::Geometry) -> Vec<u8> {
    let mut hash_bytes = geometry.hash_device.clone();
    hash_bytes.resize(usize::from(input.u16()).max(1), 0);
    for _ in 0..input.byte() % 8 {
        let at = usize::from(input.u16()) % hash_bytes.len();
        hash_bytes[at] ^= input.byte();
    }
    hash_bytes
}

/// The root hash to check against: the real one, or bytes from the input.
pub(super) fn root_hash(input: &mut Input, kind: u8, geometry: &verity_verify::Geometry) -> Vec<u8> {
    if kind & 0x20 != 0 { input.short_slice().to_vec() } else { geometry.root_hash.clone() }
}

/// The checks on a verify report: a report comes with OK and VERITY_CORRUPTED only, its
/// lists agree with their counts, and it is freed once.
pub(super) fn check_report(name: &str, status: rootseal_status, out: Out<*mut rootseal_verity_report>) {
    after_call(name, status, out.untouched());
    if !matches!(status, rootseal_status::Ok | rootseal_status::VerityCorrupted) {
        return;
    }
    // SAFETY: written on these statuses; freed once below.
    let report = unsafe { out.0.assume_init() };
    let mut count = 0usize;
    // SAFETY: a live report and a writable count.
    let list = unsafe { rootseal_verity_report_corrupted_hash_blocks(report, &mut count) };
    assert_eq!(list.is_null(), count == 0);
    let mut data_count = 0usize;
    // SAFETY: as above.
    let data_list = unsafe { rootseal_verity_report_corrupted_data_blocks(report, &mut data_count) };
    assert_eq!(data_list.is_null(), data_count == 0);
    if status == rootseal_status::Ok {
        assert_eq!((count, data_count), (0, 0), "{name} is OK with corrupted blocks");
    }
    // SAFETY: as above, then the report is freed and not used again.
    unsafe {
        rootseal_verity_report_corrupted_data_blocks(report, ptr::null_mut());
        rootseal_verity_report_free(report);
    }
}

/// verity verify, or verify of a byte range (kind 10), or format and the kernel table
/// line of its result (kind 11), over callback devices: the fixed data image of the
/// verity_verify target, a hash device patched from the input.
fn verity(input: &mut Input, kind: u8) {
    let geometry = &verity_verify::geometries()[usize::from(kind & 0x10 != 0)];
    let salt = input.short_slice().to_vec();
    let params = verity_params(input, kind, &salt);
    let data = Device::new(verity_verify::data().clone(), input);
    let hash = Device::new(patched_hash_device(input, geometry), input);
    let (data_io, hash_io) = (data.as_io(false), hash.as_io(false));
    if kind & 1 == 0 {
        let root = root_hash(input, kind, geometry);
        let mut out = Out::<*mut rootseal_verity_report>::new();
        let range_flags = input.byte();
        if range_flags & 1 == 0 {
            // SAFETY: every pointer is live for the call; root valid for its length.
            let status =
                unsafe { rootseal_verity_verify_io(&params, &data_io, &hash_io, root.as_ptr(), root.len(), out.ptr()) };
            check_report("rootseal_verity_verify_io", status, out);
        } else {
            let range = rootseal_verity_range {
                version: version(input, ROOTSEAL_VERITY_RANGE_VERSION),
                reserved0: reserved(input) as u32,
                offset: if range_flags & 2 != 0 { input.u64() } else { u64::from(input.u16()) * 97 },
                length: if range_flags & 4 != 0 { input.u64() } else { u64::from(input.u16()) },
                reserved: [reserved(input), 0, 0, 0],
            };
            // The same ctx for both devices says "one shared device"; here they differ.
            let range_ptr = if range_flags & 8 != 0 { ptr::null() } else { &range as *const _ };
            // SAFETY: every pointer is NULL or live for the call.
            let status = unsafe {
                rootseal_verity_verify_range_io(
                    &params,
                    &data_io,
                    &hash_io,
                    root.as_ptr(),
                    root.len(),
                    range_ptr,
                    out.ptr(),
                )
            };
            check_report("rootseal_verity_verify_range_io", status, out);
        }
    } else {
        let mut out = Out::<rootseal_verity_result>::new();
        // SAFETY: every pointer is live for the call.
        let status = unsafe { rootseal_verity_format_io(&params, &data_io, &hash_io, out.ptr()) };
        after_call("rootseal_verity_format_io", status, out.untouched());
        if status == rootseal_status::Ok {
            // SAFETY: written on success.
            let mut tree = unsafe { out.0.assume_init() };
            kernel_table(input, &mut tree);
        }
    }
    assert_eq!(data.bytes.borrow().as_slice(), verity_verify::data().as_slice(), "format wrote to the data device");
}

/// The kernel table line of a format result, which the input may damage first.
fn kernel_table(input: &mut Input, tree: &mut rootseal_verity_result) {
    for _ in 0..input.byte() % 4 {
        // SAFETY: the result is plain integers and byte arrays: any bytes are a value.
        let bytes = unsafe {
            std::slice::from_raw_parts_mut((tree as *mut rootseal_verity_result).cast::<u8>(), size_of_val(tree))
        };
        let at = usize::from(input.u16()) % bytes.len();
        bytes[at] ^= input.byte();
    }
    let key_desc = type_text(input);
    let params = rootseal_verity_table_params {
        version: version(input, ROOTSEAL_VERITY_TABLE_PARAMS_VERSION),
        flags: u32::from(input.byte() % 8),
        corruption: u32::from(input.byte() % 5),
        reserved0: reserved(input) as u32,
        root_hash_sig_key_desc: text_ptr(&key_desc),
        reserved: [reserved(input), 0, 0, 0],
    };
    let (data_dev, hash_dev) = (type_text(input), type_text(input));
    let buf_size = usize::from(input.u16() % 600);
    let mut buf = vec![0xa5u8; buf_size];
    let buf_ptr = if input.byte() & 1 != 0 { ptr::null_mut() } else { buf.as_mut_ptr().cast::<c_char>() };
    let mut len = Out::<usize>::new();
    // SAFETY: every pointer is NULL or live for the call; `buf` holds `buf_size` bytes.
    let status = unsafe {
        rootseal_verity_kernel_table(
            tree,
            &params,
            text_ptr(&data_dev),
            text_ptr(&hash_dev),
            buf_ptr,
            buf_size,
            len.ptr(),
        )
    };
    let untouched = buf.iter().all(|&b| b == 0xa5);
    match status {
        rootseal_status::Ok => {
            // SAFETY: written on success.
            let len = unsafe { len.0.assume_init() };
            assert!(len < buf_size && buf[len] == 0 && !buf[..len].contains(&0), "table line of {len} bytes");
            assert!(buf[..len].starts_with(b"0 "), "{:?}", String::from_utf8_lossy(&buf[..len]));
        }
        // The one failure after which an out-param is written: the length needed.
        rootseal_status::BufferTooSmall => {
            // SAFETY: written with this status.
            assert!(unsafe { len.0.assume_init() } >= buf_size);
            after_call("rootseal_verity_kernel_table", status, untouched);
        }
        _ => after_call("rootseal_verity_kernel_table", status, untouched && len.untouched()),
    }
}
