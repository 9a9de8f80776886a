//! A ticket code as a QR code in a PNG, for the inline images of a confirmation.

use qrcode::{Color, EcLevel, QrCode};

/// Pixels per module: 33 modules (version 4) + the quiet zone come to about 240 px.
const SCALE: usize = 6;
/// The blank border the standard asks for, in modules.
const QUIET_ZONE: usize = 4;

/// A black-on-white grayscale PNG of `data`'s QR code (error correction level M).
pub fn png(data: &str) -> Result<Vec<u8>, QrError> {
    let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M)
        .map_err(|e| QrError(e.to_string()))?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET_ZONE) * SCALE;
    let mut pixels = vec![255u8; side * side];
    for (i, color) in colors.iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let (mx, my) = (i % modules + QUIET_ZONE, i / modules + QUIET_ZONE);
        for y in my * SCALE..(my + 1) * SCALE {
            pixels[y * side + mx * SCALE..y * side + (mx + 1) * SCALE].fill(0);
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side as u32, side as u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| QrError(e.to_string()))?;
    writer
        .write_image_data(&pixels)
        .map_err(|e| QrError(e.to_string()))?;
    writer.finish().map_err(|e| QrError(e.to_string()))?;
    Ok(out)
}

#[derive(Debug, thiserror::Error)]
#[error("QR code not drawn: {0}")]
pub struct QrError(String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_code_becomes_a_square_png_with_a_quiet_zone() {
        let bytes = png("KQ7MX-4PN2R-T8WHZ-3CYDV").unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(&bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!(info.width, info.height);
        let side = info.width as usize;
        assert!(buf[..side * QUIET_ZONE * SCALE].iter().all(|p| *p == 255));
        assert!(buf.contains(&0), "no dark module");
    }
}
