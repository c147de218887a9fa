//! A small MP4 (H.264 baseline, every macroblock stored as I_PCM): a few frames of a moving
//! gradient that real demuxers and decoders play.

use super::bits::MsbWriter;

const FPS: u32 = 5;
const FRAMES: u32 = 5;

/// Adds H.264 emulation-prevention bytes to an RBSP and prefixes the NAL header byte.
fn nal(header: u8, rbsp: &[u8]) -> Vec<u8> {
    let mut out = vec![header];
    let mut zeros = 0;
    for &b in rbsp {
        if zeros >= 2 && b <= 3 {
            out.push(3);
            zeros = 0;
        }
        out.push(b);
        zeros = if b == 0 { zeros + 1 } else { 0 };
    }
    out
}

fn sps(w_mbs: u32, h_mbs: u32) -> Vec<u8> {
    let mut b = MsbWriter::default();
    b.put(66, 8); // baseline
    b.put(0xC0, 8); // constraint_set0/1
    b.put(30, 8); // level 3.0
    b.ue(0); // seq_parameter_set_id
    b.ue(0); // log2_max_frame_num_minus4
    b.ue(0); // pic_order_cnt_type
    b.ue(0); // log2_max_pic_order_cnt_lsb_minus4
    b.ue(1); // max_num_ref_frames
    b.put(0, 1); // gaps_in_frame_num_value_allowed_flag
    b.ue(w_mbs - 1);
    b.ue(h_mbs - 1);
    b.put(1, 1); // frame_mbs_only_flag
    b.put(1, 1); // direct_8x8_inference_flag
    b.put(0, 1); // frame_cropping_flag
    b.put(0, 1); // vui_parameters_present_flag
    b.put(1, 1); // rbsp_stop_one_bit
    nal(0x67, &b.finish(0))
}

fn pps() -> Vec<u8> {
    let mut b = MsbWriter::default();
    b.ue(0); // pic_parameter_set_id
    b.ue(0); // seq_parameter_set_id
    b.put(0, 1); // entropy_coding_mode_flag (CAVLC)
    b.put(0, 1); // bottom_field_pic_order_in_frame_present_flag
    b.ue(0); // num_slice_groups_minus1
    b.ue(0); // num_ref_idx_l0_default_active_minus1
    b.ue(0); // num_ref_idx_l1_default_active_minus1
    b.put(0, 1); // weighted_pred_flag
    b.put(0, 2); // weighted_bipred_idc
    b.se(0); // pic_init_qp_minus26
    b.se(0); // pic_init_qs_minus26
    b.se(0); // chroma_qp_index_offset
    b.put(1, 1); // deblocking_filter_control_present_flag
    b.put(0, 1); // constrained_intra_pred_flag
    b.put(0, 1); // redundant_pic_cnt_present_flag
    b.put(1, 1); // rbsp_stop_one_bit
    nal(0x68, &b.finish(0))
}

/// One IDR picture whose macroblocks are all I_PCM.
fn idr(w_mbs: u32, h_mbs: u32, frame: u32, seed: u64) -> Vec<u8> {
    let mut b = MsbWriter::default();
    b.ue(0); // first_mb_in_slice
    b.ue(7); // slice_type: I (all slices)
    b.ue(0); // pic_parameter_set_id
    b.put(0, 4); // frame_num
    b.ue(frame % 2); // idr_pic_id (consecutive IDRs differ)
    b.put(0, 4); // pic_order_cnt_lsb
    b.put(0, 1); // no_output_of_prior_pics_flag
    b.put(0, 1); // long_term_reference_flag
    b.se(0); // slice_qp_delta
    b.ue(1); // disable_deblocking_filter_idc: off
    let (w, h) = (w_mbs * 16, h_mbs * 16);
    let cb = 64 + (seed & 0x7F) as u32;
    for my in 0..h_mbs {
        for mx in 0..w_mbs {
            b.ue(25); // mb_type I_PCM
            while !b.aligned() {
                b.put(0, 1);
            }
            for y in 0..16 {
                for x in 0..16 {
                    let (px, py) = (mx * 16 + x, my * 16 + y);
                    let luma = 16 + ((px + py + frame * 8) * 219 / (w + h + FRAMES * 8)) % 220;
                    b.put(luma, 8);
                }
            }
            for _ in 0..64 {
                b.put(cb, 8);
            }
            for _ in 0..64 {
                b.put(128, 8);
            }
        }
    }
    b.put(1, 1); // rbsp_stop_one_bit
    nal(0x65, &b.finish(0))
}

fn mp4_box(kind: &[u8; 4], parts: &[&[u8]]) -> Vec<u8> {
    let len = 8 + parts.iter().map(|p| p.len()).sum::<usize>();
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(&(len as u32).to_be_bytes());
    out.extend_from_slice(kind);
    for p in parts {
        out.extend_from_slice(p);
    }
    out
}

fn be32s(values: &[u32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_be_bytes()).collect()
}

const MATRIX: [u32; 9] = [0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x4000_0000];

fn moov(w: u32, h: u32, sps: &[u8], pps: &[u8], sizes: &[u32], mdat_offset: u32) -> Vec<u8> {
    let n = sizes.len() as u32;
    let duration_ms = n * 1000 / FPS;
    let mut mvhd = be32s(&[0, 0, 0, 1000, duration_ms, 0x10000]);
    mvhd.extend_from_slice(&[1, 0, 0, 0]); // volume 1.0, reserved
    mvhd.extend_from_slice(&[0; 8]);
    mvhd.extend(be32s(&MATRIX));
    mvhd.extend_from_slice(&[0; 24]);
    mvhd.extend(be32s(&[2]));
    let mut tkhd = be32s(&[3, 0, 0, 1, 0, duration_ms, 0, 0, 0, 0]);
    tkhd.extend(be32s(&MATRIX));
    tkhd.extend(be32s(&[w << 16, h << 16]));
    let mdhd = be32s(&[0, 0, 0, FPS * 100, n * 100, 0x55C4_0000]);
    let mut hdlr = be32s(&[0, 0]);
    hdlr.extend_from_slice(b"vide");
    hdlr.extend_from_slice(&[0; 12]);
    hdlr.extend_from_slice(b"VideoHandler\0");
    let vmhd = be32s(&[1, 0, 0]);
    let url = mp4_box(b"url ", &[&be32s(&[1])]);
    let dref = mp4_box(b"dref", &[&be32s(&[0, 1]), &url]);
    let dinf = mp4_box(b"dinf", &[&dref]);
    let mut avcc = vec![1, sps[1], sps[2], sps[3], 0xFF, 0xE1];
    avcc.extend_from_slice(&(sps.len() as u16).to_be_bytes());
    avcc.extend_from_slice(sps);
    avcc.push(1);
    avcc.extend_from_slice(&(pps.len() as u16).to_be_bytes());
    avcc.extend_from_slice(pps);
    let avcc = mp4_box(b"avcC", &[&avcc]);
    let mut avc1 = vec![0, 0, 0, 0, 0, 0, 0, 1]; // reserved, data_reference_index 1
    avc1.extend_from_slice(&[0; 16]);
    avc1.extend_from_slice(&(w as u16).to_be_bytes());
    avc1.extend_from_slice(&(h as u16).to_be_bytes());
    avc1.extend(be32s(&[0x0048_0000, 0x0048_0000, 0]));
    avc1.extend_from_slice(&1u16.to_be_bytes());
    avc1.extend_from_slice(&[0; 32]); // compressor name
    avc1.extend_from_slice(&[0x00, 0x18, 0xFF, 0xFF]);
    let avc1 = mp4_box(b"avc1", &[&avc1, &avcc]);
    let stsd = mp4_box(b"stsd", &[&be32s(&[0, 1]), &avc1]);
    let stts = mp4_box(b"stts", &[&be32s(&[0, 1, n, 100])]);
    let stsc = mp4_box(b"stsc", &[&be32s(&[0, 1, 1, n, 1])]);
    let mut stsz = be32s(&[0, 0, n]);
    stsz.extend(be32s(sizes));
    let stsz = mp4_box(b"stsz", &[&stsz]);
    let stco = mp4_box(b"stco", &[&be32s(&[0, 1, mdat_offset])]);
    let stbl = mp4_box(b"stbl", &[&stsd, &stts, &stsc, &stsz, &stco]);
    let minf = mp4_box(b"minf", &[&mp4_box(b"vmhd", &[&vmhd]), &dinf, &stbl]);
    let mdia = mp4_box(b"mdia", &[&mp4_box(b"mdhd", &[&mdhd]), &mp4_box(b"hdlr", &[&hdlr]), &minf]);
    let trak = mp4_box(b"trak", &[&mp4_box(b"tkhd", &[&tkhd]), &mdia]);
    mp4_box(b"moov", &[&mp4_box(b"mvhd", &[&mvhd]), &trak])
}

/// An MP4 of `w`×`h` pixels (multiples of 16), one second at 5 frames per second.
pub(super) fn mp4(w: u32, h: u32, seed: u64) -> Vec<u8> {
    let (w_mbs, h_mbs) = ((w / 16).max(1), (h / 16).max(1));
    let (w, h) = (w_mbs * 16, h_mbs * 16);
    let (sps, pps) = (sps(w_mbs, h_mbs), pps());
    let mut samples = Vec::new();
    let mut sizes = Vec::new();
    for f in 0..FRAMES {
        let pic = idr(w_mbs, h_mbs, f, seed);
        sizes.push(4 + pic.len() as u32);
        samples.extend_from_slice(&(pic.len() as u32).to_be_bytes());
        samples.extend_from_slice(&pic);
    }
    let ftyp = mp4_box(b"ftyp", &[b"isom", &be32s(&[0x200]), b"isomiso2avc1mp41"]);
    let moov_len = moov(w, h, &sps, &pps, &sizes, 0).len();
    let offset = (ftyp.len() + moov_len + 8) as u32;
    let moov = moov(w, h, &sps, &pps, &sizes, offset);
    let mdat = mp4_box(b"mdat", &[&samples]);
    [ftyp, moov, mdat].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emulation_prevention_escapes_start_code_prefixes() {
        assert_eq!(nal(0x65, &[0, 0, 1, 0, 0, 0]), vec![0x65, 0, 0, 3, 1, 0, 0, 3, 0]);
    }

    #[test]
    fn boxes_nest_with_consistent_sizes() {
        let m = mp4(32, 32, 1);
        assert_eq!(&m[4..8], b"ftyp");
        let ftyp = u32::from_be_bytes([m[0], m[1], m[2], m[3]]) as usize;
        assert_eq!(&m[ftyp + 4..ftyp + 8], b"moov");
        let moov = u32::from_be_bytes([m[ftyp], m[ftyp + 1], m[ftyp + 2], m[ftyp + 3]]) as usize;
        let mdat = ftyp + moov;
        assert_eq!(&m[mdat + 4..mdat + 8], b"mdat");
        assert_eq!(
            u32::from_be_bytes([m[mdat], m[mdat + 1], m[mdat + 2], m[mdat + 3]]) as usize,
            m.len() - mdat
        );
    }
}
