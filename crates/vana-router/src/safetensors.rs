//! A minimal reader for the safetensors format: an 8-byte little-endian header length, a JSON
//! header mapping tensor names to dtype, shape and byte range, then the raw tensor data.

use crate::error::{io_err, RouterError};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(Debug, serde::Deserialize)]
struct TensorInfo {
    dtype: String,
    shape: Vec<usize>,
    data_offsets: [usize; 2],
}

/// An in-memory safetensors file.
pub(crate) struct SafeTensors {
    path: PathBuf,
    bytes: Vec<u8>,
    data_start: usize,
    tensors: HashMap<String, TensorInfo>,
}

impl SafeTensors {
    /// Reads and validates a safetensors file.
    pub(crate) fn read(path: &Path) -> Result<SafeTensors, RouterError> {
        let bytes = std::fs::read(path).map_err(io_err(path))?;
        let bad = |reason: String| RouterError::Model { path: path.to_path_buf(), reason };
        let header_len = bytes
            .get(..8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
            .ok_or_else(|| bad("file shorter than the 8-byte header length".into()))?;
        let data_start = usize::try_from(header_len)
            .ok()
            .and_then(|n| n.checked_add(8))
            .filter(|&end| end <= bytes.len())
            .ok_or_else(|| bad(format!("header length {header_len} exceeds the file size")))?;
        let mut header: HashMap<String, serde_json::Value> = serde_json::from_slice(&bytes[8..data_start])
            .map_err(|e| bad(format!("invalid JSON header: {e}")))?;
        header.remove("__metadata__");
        let data_len = bytes.len() - data_start;
        let mut tensors = HashMap::with_capacity(header.len());
        for (name, value) in header {
            let info: TensorInfo =
                serde_json::from_value(value).map_err(|e| bad(format!("tensor {name}: {e}")))?;
            let [start, end] = info.data_offsets;
            if start > end || end > data_len {
                return Err(bad(format!("tensor {name}: byte range {start}..{end} outside the data")));
            }
            tensors.insert(name, info);
        }
        Ok(SafeTensors { path: path.to_path_buf(), bytes, data_start, tensors })
    }

    /// The data of an F32 tensor of the given shape, looked up as `name` or `bert.name`.
    pub(crate) fn f32(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, RouterError> {
        let bad = |reason: String| RouterError::Model { path: self.path.clone(), reason };
        let info = self
            .tensors
            .get(name)
            .or_else(|| self.tensors.get(&format!("bert.{name}")))
            .ok_or_else(|| bad(format!("missing tensor {name}")))?;
        if info.dtype != "F32" {
            return Err(bad(format!("tensor {name} is {}, expected F32", info.dtype)));
        }
        if info.shape != shape {
            return Err(bad(format!("tensor {name} has shape {:?}, expected {shape:?}", info.shape)));
        }
        let [start, end] = info.data_offsets;
        let raw = &self.bytes[self.data_start + start..self.data_start + end];
        if raw.len() != 4 * shape.iter().product::<usize>() {
            return Err(bad(format!("tensor {name}: {} bytes do not match shape {shape:?}", raw.len())));
        }
        Ok(raw.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes"))).collect())
    }
}
