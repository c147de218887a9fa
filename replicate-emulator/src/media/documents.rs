//! Non-media output files: subtitles (SRT, WebVTT), archives (ZIP, tar), PDF, 3D meshes
//! (glTF binary, OBJ, PLY) and NumPy arrays, each a small valid file of its format.

use super::bits::crc32;

/// Two SubRip cues.
pub(super) fn srt(seed: u64) -> Vec<u8> {
    format!("1\n00:00:00,000 --> 00:00:01,500\nemulated subtitle\n\n2\n00:00:01,500 --> 00:00:03,000\nseed {seed}\n")
        .into_bytes()
}

/// Two WebVTT cues.
pub(super) fn vtt(seed: u64) -> Vec<u8> {
    format!("WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nemulated subtitle\n\n00:00:01.500 --> 00:00:03.000\nseed {seed}\n")
        .into_bytes()
}

/// A ZIP archive holding one stored (uncompressed) text file.
pub(super) fn zip(seed: u64) -> Vec<u8> {
    let name = b"output.txt";
    let data = format!("emulated output (seed {seed})\n").into_bytes();
    let crc = crc32(&[&data]);
    let size = data.len() as u32;
    let mut out = Vec::new();
    let common = |out: &mut Vec<u8>| {
        out.extend_from_slice(&20u16.to_le_bytes()); // version needed
        out.extend_from_slice(&[0; 4]); // flags, method: stored
        out.extend_from_slice(&[0, 0, 0x21, 0]); // time 00:00, date 1980-01-01
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes()); // extra length
    };
    out.extend_from_slice(b"PK\x03\x04");
    common(&mut out);
    out.extend_from_slice(name);
    out.extend_from_slice(&data);
    let central = out.len() as u32;
    out.extend_from_slice(b"PK\x01\x02");
    out.extend_from_slice(&20u16.to_le_bytes()); // version made by
    common(&mut out);
    out.extend_from_slice(&[0; 8]); // comment length, disk, internal attributes
    out.extend_from_slice(&0u32.to_le_bytes()); // external attributes
    out.extend_from_slice(&0u32.to_le_bytes()); // local header offset
    out.extend_from_slice(name);
    let central_len = out.len() as u32 - central;
    out.extend_from_slice(b"PK\x05\x06");
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&central_len.to_le_bytes());
    out.extend_from_slice(&central.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// A POSIX (ustar) tar archive holding one text file.
pub(super) fn tar(seed: u64) -> Vec<u8> {
    let data = format!("emulated output (seed {seed})\n").into_bytes();
    let mut h = [0u8; 512];
    let mut put = |at: usize, s: &[u8]| h[at..at + s.len()].copy_from_slice(s);
    put(0, b"output.txt");
    put(100, b"0000644\0");
    put(108, b"0000000\0");
    put(116, b"0000000\0");
    put(124, format!("{:011o}\0", data.len()).as_bytes());
    put(136, b"00000000000\0");
    put(148, b"        ");
    put(156, b"0");
    put(257, b"ustar\0");
    put(263, b"00");
    let sum: u32 = h.iter().map(|&b| b as u32).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    let mut out = h.to_vec();
    out.extend_from_slice(&data);
    out.resize(512 + data.len().div_ceil(512) * 512 + 1024, 0);
    out
}

/// A one-page PDF with a line of text.
pub(super) fn pdf(seed: u64) -> Vec<u8> {
    let content = format!("BT /F1 18 Tf 20 50 Td (emulated output, seed {seed}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 100] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_string(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = String::from("%PDF-1.4\n");
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.push_str(&format!("{} 0 obj\n{o}\nendobj\n", i + 1));
    }
    let xref = out.len();
    out.push_str(&format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1));
    for off in offsets {
        out.push_str(&format!("{off:010} 00000 n \n"));
    }
    out.push_str(&format!(
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    ));
    out.into_bytes()
}

const TRIANGLE: [[f32; 3]; 3] = [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]];

/// A binary glTF 2.0 holding one triangle mesh.
pub(super) fn glb() -> Vec<u8> {
    let bin: Vec<u8> = TRIANGLE.iter().flatten().flat_map(|f| f.to_le_bytes()).collect();
    let json = format!(
        concat!(
            r#"{{"asset":{{"version":"2.0","generator":"replicate-emulator"}},"scene":0,"scenes":[{{"nodes":[0]}}],"#,
            r#""nodes":[{{"mesh":0}}],"meshes":[{{"primitives":[{{"attributes":{{"POSITION":0}}}}]}}],"#,
            r#""accessors":[{{"bufferView":0,"componentType":5126,"count":3,"type":"VEC3","min":[0,0,0],"max":[1,1,0]}}],"#,
            r#""bufferViews":[{{"buffer":0,"byteLength":{len}}}],"buffers":[{{"byteLength":{len}}}]}}"#
        ),
        len = bin.len()
    );
    let mut json = json.into_bytes();
    while json.len() % 4 != 0 {
        json.push(b' ');
    }
    let total = 12 + 8 + json.len() + 8 + bin.len();
    let mut out = b"glTF".to_vec();
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&(total as u32).to_le_bytes());
    out.extend_from_slice(&(json.len() as u32).to_le_bytes());
    out.extend_from_slice(b"JSON");
    out.extend_from_slice(&json);
    out.extend_from_slice(&(bin.len() as u32).to_le_bytes());
    out.extend_from_slice(b"BIN\0");
    out.extend_from_slice(&bin);
    out
}

/// A Wavefront OBJ triangle.
pub(super) fn obj() -> Vec<u8> {
    let mut s = String::from("# replicate-emulator\n");
    for v in TRIANGLE {
        s.push_str(&format!("v {} {} {}\n", v[0], v[1], v[2]));
    }
    s.push_str("f 1 2 3\n");
    s.into_bytes()
}

/// An ASCII PLY triangle.
pub(super) fn ply() -> Vec<u8> {
    let mut s = String::from(
        "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n",
    );
    for v in TRIANGLE {
        s.push_str(&format!("{} {} {}\n", v[0], v[1], v[2]));
    }
    s.push_str("3 0 1 2\n");
    s.into_bytes()
}

/// A NumPy `.npy` (format 1.0) holding four little-endian `f4` values.
pub(super) fn npy(seed: u64) -> Vec<u8> {
    let mut header = "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }".to_string();
    while !(10 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for i in 0..4u64 {
        out.extend_from_slice(&(((seed >> (i * 8)) & 0xFF) as f32 / 255.0).to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archives_have_their_signatures_and_checksums() {
        let z = zip(1);
        assert_eq!(&z[..4], b"PK\x03\x04");
        assert_eq!(&z[z.len() - 22..z.len() - 18], b"PK\x05\x06");
        let t = tar(1);
        assert_eq!(t.len() % 512, 0);
        assert_eq!(&t[257..263], b"ustar\0");
        let sum: u32 = t[..512]
            .iter()
            .enumerate()
            .map(|(i, &b)| if (148..156).contains(&i) { 32 } else { b as u32 })
            .sum();
        assert_eq!(u32::from_str_radix(std::str::from_utf8(&t[148..154]).unwrap(), 8).unwrap(), sum);
    }

    #[test]
    fn pdf_xref_points_at_its_objects() {
        let p = String::from_utf8(pdf(1)).unwrap();
        let start: usize = p.rsplit("startxref\n").next().unwrap().lines().next().unwrap().parse().unwrap();
        assert!(p[start..].starts_with("xref"));
        let third = p.lines().skip_while(|l| !l.starts_with("xref")).nth(5).unwrap();
        let off: usize = third[..10].parse().unwrap();
        assert!(p[off..].starts_with("3 0 obj"));
    }

    #[test]
    fn glb_and_npy_lengths_add_up() {
        let g = glb();
        assert_eq!(&g[..4], b"glTF");
        assert_eq!(u32::from_le_bytes([g[8], g[9], g[10], g[11]]) as usize, g.len());
        let n = npy(1);
        assert_eq!(&n[..6], b"\x93NUMPY");
        assert_eq!((10 + u16::from_le_bytes([n[8], n[9]]) as usize) % 64, 0);
        assert_eq!(n.len(), 128 + 16);
    }
}
