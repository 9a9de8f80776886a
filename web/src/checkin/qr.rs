//! Reading a QR code from camera pixels in wasm (`rqrr`), for browsers without the native
//! `BarcodeDetector`: the camera module draws a frame on a canvas and hands its RGBA bytes here.

/// The text of the first readable QR code in an RGBA frame of `width` × `height` pixels.
pub fn read_rgba(width: usize, height: usize, rgba: &[u8]) -> Option<String> {
    if width == 0 || height == 0 || rgba.len() < width * height * 4 {
        return None;
    }
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| {
        let i = (y * width + x) * 4;
        luma(rgba[i], rgba[i + 1], rgba[i + 2])
    });
    image
        .detect_grids()
        .into_iter()
        .find_map(|grid| grid.decode().ok().map(|(_, text)| text))
}

/// Rec. 601 luma in integers (the weights sum to 256).
fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((u32::from(r) * 77 + u32::from(g) * 150 + u32::from(b) * 29) >> 8) as u8
}

#[cfg(test)]
mod tests {
    use qrcode::{Color, QrCode};

    use super::*;

    /// `text` as a QR code drawn `scale` pixels per module with a quiet zone, dark on light
    /// (tinted, as a phone screen under a camera is), in RGBA.
    fn frame(text: &str, scale: usize) -> (usize, Vec<u8>) {
        let code = QrCode::new(text.as_bytes()).unwrap();
        let modules = code.width();
        let colors = code.to_colors();
        let side = (modules + 8) * scale;
        let mut rgba = Vec::with_capacity(side * side * 4);
        for y in 0..side {
            for x in 0..side {
                let (mx, my) = ((x / scale).wrapping_sub(4), (y / scale).wrapping_sub(4));
                let dark = mx < modules && my < modules && colors[my * modules + mx] == Color::Dark;
                let px = if dark {
                    [30, 32, 40, 255]
                } else {
                    [235, 240, 230, 255]
                };
                rgba.extend_from_slice(&px);
            }
        }
        (side, rgba)
    }

    #[test]
    fn a_signed_code_drawn_as_a_qr_code_is_read_back_from_its_pixels() {
        let signed = ticket_code::EventKey::from_secret(1, [7; 32]).sign(
            uuid::Uuid::from_u128(0xE1),
            "ABCDE-FGHJK-MNPQR-STUVW",
            "General Admission",
        );
        let (side, rgba) = frame(&signed, 4);
        assert_eq!(read_rgba(side, side, &rgba), Some(signed));
    }

    #[test]
    fn a_frame_without_a_code_or_too_short_reads_nothing() {
        let blank = vec![200u8; 64 * 48 * 4];
        assert_eq!(read_rgba(64, 48, &blank), None);
        assert_eq!(read_rgba(64, 48, &blank[..100]), None);
        assert_eq!(read_rgba(0, 0, &[]), None);
    }
}
