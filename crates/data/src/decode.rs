//! Decoding image files to 8-bit RGB.
//!
//! Decisions (they affect what the model sees):
//! - **Format** is recognised from the file's bytes, not its extension (ImageNet has a PNG named
//!   `.JPEG`). Only JPEG and PNG are decoded.
//! - **CMYK and YCCK JPEGs** (about 22 in ImageNet, written by Photoshop) are converted to RGB by
//!   the `image` crate's decoder (zune-jpeg), which reads the 4 channels in Adobe's inverted
//!   convention: `R = C'·K'/255` with `C'`, `K'` the stored (inverted) values, i.e.
//!   `R = (255 − C)(255 − K)/255` for ink amounts. This is the naive conversion without an ICC
//!   profile, the same as Pillow's `convert("RGB")` for Adobe CMYK files (checked against
//!   Pillow-made fixtures in the tests).
//! - **Grayscale** (8- or 16-bit) is replicated into R = G = B.
//! - **16-bit** channels are rounded to 8 bits.
//! - **Alpha** is composited over white (`c·a + 255·(1 − a)`, rounded), so fully transparent
//!   pixels become white whatever colour they store. ImageNet itself has no alpha.
//! - **EXIF orientation** is ignored: pixels are used as stored, as Pillow and torchvision do by
//!   default.
//! - **Truncated JPEGs**: the `image` crate fills missing data with grey instead of failing, so
//!   the JPEG marker structure is checked first, and a file that ends before its end-of-image
//!   marker is reported as [`DecodeErrorKind::Truncated`] (this also refuses the rare file that
//!   lacks only the final 2-byte marker).

use std::path::Path;

use image::{DynamicImage, ImageFormat, RgbImage};

use crate::error::{DecodeError, DecodeErrorKind};

/// Reads and decodes an image file to 8-bit RGB (see the module documentation for how CMYK,
/// grayscale, 16-bit, alpha and orientation are handled). Errors carry the path and say whether
/// the file was unreadable, not an image, truncated or corrupt.
pub fn decode_rgb(path: impl AsRef<Path>) -> Result<RgbImage, DecodeError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path)
        .map_err(|e| DecodeError::new(path, DecodeErrorKind::Unreadable(e.to_string())))?;
    decode_rgb_from_memory(&bytes, path)
}

/// Decodes image bytes to 8-bit RGB, like [`decode_rgb`]; `path` is only used in errors.
pub fn decode_rgb_from_memory(bytes: &[u8], path: &Path) -> Result<RgbImage, DecodeError> {
    let fail = |kind| DecodeError::new(path, kind);
    if bytes.is_empty() {
        return Err(fail(DecodeErrorKind::NotAnImage(
            "the file is empty".to_owned(),
        )));
    }
    let format = image::guess_format(bytes).map_err(|_| {
        let head: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
        fail(DecodeErrorKind::NotAnImage(format!(
            "no known image signature (first bytes: {})",
            head.join(" ")
        )))
    })?;
    match format {
        ImageFormat::Jpeg => check_jpeg_structure(bytes).map_err(fail)?,
        ImageFormat::Png => {}
        other => {
            return Err(fail(DecodeErrorKind::UnsupportedFormat(format!(
                "the file is {other:?}"
            ))));
        }
    }
    let image = image::load_from_memory_with_format(bytes, format)
        .map_err(|e| fail(classify_image_error(e)))?;
    Ok(to_rgb_over_white(image))
}

fn classify_image_error(error: image::ImageError) -> DecodeErrorKind {
    use image::ImageError as E;
    match error {
        E::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            DecodeErrorKind::Truncated(e.to_string())
        }
        E::Unsupported(e) => DecodeErrorKind::UnsupportedFormat(e.to_string()),
        E::Decoding(e) => {
            let message = e.to_string();
            let lower = message.to_lowercase();
            if lower.contains("eof")
                || lower.contains("end of")
                || lower.contains("not enough bytes")
            {
                DecodeErrorKind::Truncated(message)
            } else {
                DecodeErrorKind::Corrupt(message)
            }
        }
        other => DecodeErrorKind::Corrupt(other.to_string()),
    }
}

/// Converts any decoded image to 8-bit RGB, compositing alpha over white.
pub fn to_rgb_over_white(image: DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.to_rgb8();
    }
    let rgba = image.to_rgba32f();
    let (width, height) = rgba.dimensions();
    let mut out = RgbImage::new(width, height);
    for (src, dst) in rgba.pixels().zip(out.pixels_mut()) {
        let [r, g, b, a] = src.0;
        let a = a.clamp(0.0, 1.0);
        let over_white = |c: f32| ((c.clamp(0.0, 1.0) * a + (1.0 - a)) * 255.0).round() as u8;
        dst.0 = [over_white(r), over_white(g), over_white(b)];
    }
    out
}

/// Walks a JPEG's marker segments and entropy-coded data and checks that an end-of-image marker
/// (FF D9) is reached before the data runs out. Thumbnails inside APPn segments are skipped by
/// length, so their end markers do not count.
fn check_jpeg_structure(bytes: &[u8]) -> Result<(), DecodeErrorKind> {
    let truncated = |at: usize, what: &str| {
        DecodeErrorKind::Truncated(format!(
            "the data ends at byte {} {what}, before the JPEG end-of-image marker",
            at.min(bytes.len())
        ))
    };
    if bytes.len() < 4 || bytes[0] != 0xFF || bytes[1] != 0xD8 {
        return Err(DecodeErrorKind::Corrupt(
            "no JPEG start-of-image marker".to_owned(),
        ));
    }
    let mut pos = 2;
    loop {
        // Expect a marker: one or more 0xFF fill bytes, then the marker code.
        if pos >= bytes.len() {
            return Err(truncated(pos, "between segments"));
        }
        if bytes[pos] != 0xFF {
            return Err(DecodeErrorKind::Corrupt(format!(
                "expected a JPEG marker at byte {pos}, found 0x{:02x}",
                bytes[pos]
            )));
        }
        while pos < bytes.len() && bytes[pos] == 0xFF {
            pos += 1;
        }
        let Some(&marker) = bytes.get(pos) else {
            return Err(truncated(pos, "inside a marker"));
        };
        pos += 1;
        match marker {
            0xD9 => return Ok(()),
            // Markers without a length field: TEM, RSTn, (stray) SOI.
            0x01 | 0xD0..=0xD8 => continue,
            _ => {}
        }
        let Some(length) = bytes
            .get(pos..pos + 2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
        else {
            return Err(truncated(pos, "inside a segment header"));
        };
        if length < 2 {
            return Err(DecodeErrorKind::Corrupt(format!(
                "JPEG segment 0xFF{marker:02X} at byte {} has invalid length {length}",
                pos - 2
            )));
        }
        pos += length;
        if pos > bytes.len() {
            return Err(truncated(bytes.len(), "inside a segment"));
        }
        if marker == 0xDA {
            // Start of scan: entropy-coded data follows, up to the next marker that is not a
            // stuffed byte (FF 00) or a restart marker (FF D0..D7).
            loop {
                match bytes.get(pos..pos + 2) {
                    None => return Err(truncated(bytes.len(), "inside compressed image data")),
                    Some([0xFF, next])
                        if *next != 0x00 && !(0xD0..=0xD7).contains(next) && *next != 0xFF =>
                    {
                        break;
                    }
                    Some(_) => pos += 1,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let image = RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x * 7) as u8, (y * 5) as u8, 90])
        });
        let mut bytes = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 90)
            .encode_image(&image)
            .unwrap();
        bytes
    }

    #[test]
    fn complete_jpeg_passes_structure_check_and_cuts_do_not() {
        let bytes = jpeg(40, 30);
        check_jpeg_structure(&bytes).unwrap();
        // Trailing bytes after the end marker are accepted.
        let mut padded = bytes.clone();
        padded.extend_from_slice(&[0, 0, 0x12]);
        check_jpeg_structure(&padded).unwrap();
        for cut in [bytes.len() - 1, bytes.len() - 2, bytes.len() / 2, 30, 5] {
            match check_jpeg_structure(&bytes[..cut]) {
                Err(DecodeErrorKind::Truncated(_)) => {}
                other => panic!("cut at {cut} of {}: {other:?}", bytes.len()),
            }
        }
    }

    #[test]
    fn classifies_non_images() {
        let p = Path::new("x.jpg");
        let kind = |b: &[u8]| decode_rgb_from_memory(b, p).unwrap_err().kind;
        assert!(matches!(kind(b""), DecodeErrorKind::NotAnImage(_)));
        assert!(matches!(
            kind(b"hello, world"),
            DecodeErrorKind::NotAnImage(_)
        ));
        assert!(matches!(
            kind(b"GIF89a\x01\x00\x01\x00"),
            DecodeErrorKind::UnsupportedFormat(_)
        ));
        let err = decode_rgb_from_memory(b"hello", p).unwrap_err().to_string();
        assert!(err.starts_with("x.jpg: not an image"), "{err}");
    }
}
