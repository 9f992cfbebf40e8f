//! A one-file zip archive (stored, no compression): a Lambda deployment package from a single
//! source file.

/// A zip holding `data` as `name`.
pub fn single_file(name: &str, data: &[u8]) -> Vec<u8> {
    let crc = crc32fast::hash(data);
    let size = data.len() as u32;
    let name_b = name.as_bytes();
    // DOS time/date: 1980-01-01 00:00.
    let (time, date) = (0u16, (1u16 << 5) | 1);
    let mut out = Vec::with_capacity(data.len() + 128);
    let local = |out: &mut Vec<u8>| {
        out.extend(0x0403_4b50u32.to_le_bytes());
        out.extend(20u16.to_le_bytes()); // version needed
        out.extend(0u16.to_le_bytes()); // flags
        out.extend(0u16.to_le_bytes()); // stored
        out.extend(time.to_le_bytes());
        out.extend(date.to_le_bytes());
        out.extend(crc.to_le_bytes());
        out.extend(size.to_le_bytes());
        out.extend(size.to_le_bytes());
        out.extend((name_b.len() as u16).to_le_bytes());
        out.extend(0u16.to_le_bytes());
        out.extend(name_b);
    };
    local(&mut out);
    out.extend(data);
    let cd_start = out.len() as u32;
    out.extend(0x0201_4b50u32.to_le_bytes());
    out.extend(((3u16 << 8) | 20).to_le_bytes()); // made by: unix
    out.extend(20u16.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out.extend(time.to_le_bytes());
    out.extend(date.to_le_bytes());
    out.extend(crc.to_le_bytes());
    out.extend(size.to_le_bytes());
    out.extend(size.to_le_bytes());
    out.extend((name_b.len() as u16).to_le_bytes());
    out.extend([0u8; 8]); // extra, comment, disk, internal attrs
    out.extend((0o100644u32 << 16).to_le_bytes()); // external attrs: -rw-r--r--
    out.extend(0u32.to_le_bytes()); // local header offset
    out.extend(name_b);
    let cd_size = out.len() as u32 - cd_start;
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0u8; 4]);
    out.extend(1u16.to_le_bytes());
    out.extend(1u16.to_le_bytes());
    out.extend(cd_size.to_le_bytes());
    out.extend(cd_start.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}
