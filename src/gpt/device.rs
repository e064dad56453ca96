//! The host's side of the GPT core: a [`BlockRead`]/[`BlockWrite`] device as the
//! reader's [`GptSource`] and the writer's [`GptSink`], and entry arrays in `Vec`s.

use super::error::{Error, Fault, Result};
use super::read::{ArrayMemory, GptSource, read_table};
use super::reasons::DeviceCall;
use super::table::Gpt;
use super::write::GptSink;
use crate::io::{BlockRead, BlockWrite};
use std::io;

/// A host device seen by the GPT core.
pub(super) struct Device<'a, D: ?Sized>(pub &'a D);

impl<D: BlockRead + ?Sized> GptSource for Device<'_, D> {
    type Error = io::Error;

    fn size(&mut self) -> io::Result<u64> {
        self.0.size()
    }

    fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let mut scratch = Vec::new();
        buf.copy_from_slice(self.0.read_view(offset, buf.len(), &mut scratch)?);
        Ok(())
    }

    fn copy_fault(&self, err: io::Error) -> Fault {
        Fault::Io(err.to_string())
    }

    fn disk_error(&self, err: io::Error, call: DeviceCall) -> Error {
        Error::io(call.to_string(), err)
    }
}

impl<D: BlockWrite + ?Sized> GptSink for Device<'_, D> {
    type Error = io::Error;

    fn write_at(&mut self, offset: u64, bytes: &[u8]) -> io::Result<()> {
        self.0.write_at(offset, bytes)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }

    fn write_error(&self, source: io::Error, call: DeviceCall) -> Error {
        Error::Write { context: call.to_string(), source }
    }
}

/// Entry arrays on the heap: the host has no reason to bound them further than the
/// parser's 4 MiB cap does.
struct Heap;

impl ArrayMemory for Heap {
    type Array = Vec<u8>;

    fn take(&mut self, len: usize) -> Option<Vec<u8>> {
        Some(vec![0; len])
    }
}

/// Reads both copies from a disk with `block_size`-byte logical blocks.
pub fn read(dev: &dyn BlockRead, block_size: u32) -> Result<Gpt> {
    read_table(&mut Device(dev), &mut Heap, block_size)
}
