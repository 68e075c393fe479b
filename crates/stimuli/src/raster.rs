//! The rendered image: interleaved RGB in `[0, 1]`, row-major, `y` down.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Result, StimulusError, images_error};
use crate::geometry::ImageSize;

/// An RGB colour with channels in `[0, 1]`.
pub type Rgb = [f32; 3];

/// A rendered stimulus: `width × height` pixels of interleaved RGB `f32` in `[0, 1]`, row by
/// row from the top (`rgb[3·(y·width + x) + c]`).
///
/// The model crate converts this to a network input itself (scaling, mean subtraction);
/// [`StimulusImage::to_chw`] gives the planar layout networks usually want. The fields are
/// public for easy construction; methods expect `rgb.len() == 3 · width · height`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StimulusImage {
    /// Number of columns.
    pub width: u32,
    /// Number of rows.
    pub height: u32,
    /// Interleaved RGB, `3 × width × height` values.
    pub rgb: Vec<f32>,
}

impl StimulusImage {
    /// An image of one colour.
    pub fn uniform(size: ImageSize, colour: Rgb) -> Result<Self> {
        size.validate()?;
        Ok(StimulusImage {
            width: size.width,
            height: size.height,
            rgb: colour.repeat(size.pixel_count()),
        })
    }

    /// The size of the image.
    pub fn size(&self) -> ImageSize {
        ImageSize::new(self.width, self.height)
    }

    /// The colour of pixel `(x, y)` (column, row).
    ///
    /// # Panics
    /// If the pixel is outside the image.
    pub fn pixel(&self, x: u32, y: u32) -> Rgb {
        assert!(
            x < self.width && y < self.height,
            "pixel ({x}, {y}) outside {}x{}",
            self.width,
            self.height
        );
        let start = 3 * (y as usize * self.width as usize + x as usize);
        [self.rgb[start], self.rgb[start + 1], self.rgb[start + 2]]
    }

    /// The image turned a quarter-turn clockwise about its centre (`W × H` becomes `H × W`):
    /// the pixel at `(x, y)` moves to `(H − 1 − y, x)`. Exact: pixels are only moved.
    pub fn rotate90_cw(&self) -> StimulusImage {
        StimulusImage {
            width: self.height,
            height: self.width,
            rgb: rotate_plane_90_cw(&self.rgb, self.size(), 3),
        }
    }

    /// The image mirrored left–right: the pixel at `(x, y)` moves to `(W − 1 − x, y)`.
    pub fn flip_horizontal(&self) -> StimulusImage {
        StimulusImage {
            width: self.width,
            height: self.height,
            rgb: flip_plane_horizontal(&self.rgb, self.size(), 3),
        }
    }

    /// Per-pixel luminance with the Rec. 709 weights `0.2126 R + 0.7152 G + 0.0722 B`
    /// (for a grey image, the grey level itself), row-major.
    pub fn luminance(&self) -> Vec<f32> {
        self.rgb
            .chunks_exact(3)
            .map(|p| 0.2126 * p[0] + 0.7152 * p[1] + 0.0722 * p[2])
            .collect()
    }

    /// Planar channel-first layout: `[3][height][width]`, values in `[0, 1]`.
    pub fn to_chw(&self) -> Vec<f32> {
        let pixels = self.width as usize * self.height as usize;
        let mut planar = vec![0.0; 3 * pixels];
        for (index, p) in self.rgb.chunks_exact(3).enumerate() {
            for channel in 0..3 {
                planar[channel * pixels + index] = p[channel];
            }
        }
        planar
    }

    /// 8-bit interleaved RGB (values rounded, clamped to `0..=255`).
    pub fn to_rgb8(&self) -> Vec<u8> {
        self.rgb
            .iter()
            .map(|&v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
            .collect()
    }

    /// Writes the image as an 8-bit RGB PNG.
    pub fn save_png(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        image::save_buffer_with_format(
            path,
            &self.to_rgb8(),
            self.width,
            self.height,
            image::ExtendedColorType::Rgb8,
            image::ImageFormat::Png,
        )
        .map_err(|source| StimulusError::Png {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Lays `images` (all of one size) out in a grid of `columns` columns, left to right and
    /// top to bottom, separated by `gap` pixels of `gap_colour`: a contact sheet for looking at
    /// a sweep.
    pub fn tile(
        images: &[StimulusImage],
        columns: usize,
        gap: u32,
        gap_colour: Rgb,
    ) -> Result<StimulusImage> {
        let first = images
            .first()
            .ok_or_else(|| images_error("tile: no images to lay out"))?;
        if columns == 0 {
            return Err(images_error("tile: columns must be at least 1"));
        }
        if let Some(other) = images.iter().find(|image| image.size() != first.size()) {
            return Err(images_error(format!(
                "tile: images must share one size, found {}x{} and {}x{}",
                first.width, first.height, other.width, other.height
            )));
        }
        let columns = columns.min(images.len());
        let rows = images.len().div_ceil(columns);
        let (cell_w, cell_h) = (first.width as usize, first.height as usize);
        let gap = gap as usize;
        let width = columns * cell_w + (columns - 1) * gap;
        let height = rows * cell_h + (rows - 1) * gap;
        let size = ImageSize::new(
            u32::try_from(width).map_err(|_| images_error("tile: sheet too wide"))?,
            u32::try_from(height).map_err(|_| images_error("tile: sheet too tall"))?,
        );
        let mut sheet = StimulusImage::uniform(size, gap_colour)?;
        for (index, image) in images.iter().enumerate() {
            let (left, top) = (
                (index % columns) * (cell_w + gap),
                (index / columns) * (cell_h + gap),
            );
            for y in 0..cell_h {
                let src = &image.rgb[3 * y * cell_w..3 * (y + 1) * cell_w];
                let start = 3 * ((top + y) * width + left);
                sheet.rgb[start..start + 3 * cell_w].copy_from_slice(src);
            }
        }
        Ok(sheet)
    }
}

/// Turns a row-major plane with `channels` interleaved values per pixel a quarter-turn
/// clockwise: pixel `(x, y)` of the `width × height` input lands at `(height − 1 − y, x)`.
pub(crate) fn rotate_plane_90_cw<T: Copy>(
    values: &[T],
    size: ImageSize,
    channels: usize,
) -> Vec<T> {
    let (w, h) = (size.width as usize, size.height as usize);
    // Output is h wide and w tall; output pixel (x', y') comes from input (y', h − 1 − x').
    let sources =
        (0..w).flat_map(move |y_out| (0..h).map(move |x_out| (h - 1 - x_out) * w + y_out));
    gather_pixels(values, channels, sources)
}

/// Mirrors a row-major plane left–right.
pub(crate) fn flip_plane_horizontal<T: Copy>(
    values: &[T],
    size: ImageSize,
    channels: usize,
) -> Vec<T> {
    let (w, h) = (size.width as usize, size.height as usize);
    let sources = (0..h).flat_map(move |y| (0..w).rev().map(move |x| y * w + x));
    gather_pixels(values, channels, sources)
}

/// A plane of the same length as `values` whose pixels, in output order, are the input
/// pixels at the row-major indices `sources` (`channels` interleaved values each).
fn gather_pixels<T: Copy>(
    values: &[T],
    channels: usize,
    sources: impl Iterator<Item = usize>,
) -> Vec<T> {
    let mut out = Vec::with_capacity(values.len());
    for pixel in sources {
        let start = channels * pixel;
        out.extend_from_slice(&values[start..start + channels]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbered(width: u32, height: u32) -> StimulusImage {
        let rgb = (0..width * height * 3).map(|v| v as f32).collect();
        StimulusImage { width, height, rgb }
    }

    #[test]
    fn rotation_moves_the_top_left_pixel_to_the_top_right() {
        let image = numbered(3, 2);
        let turned = image.rotate90_cw();
        assert_eq!(turned.size(), ImageSize::new(2, 3));
        // (x, y) → (H − 1 − y, x): (0, 0) → (1, 0); (2, 1) → (0, 2).
        assert_eq!(turned.pixel(1, 0), image.pixel(0, 0));
        assert_eq!(turned.pixel(0, 2), image.pixel(2, 1));
        let full = turned.rotate90_cw().rotate90_cw().rotate90_cw();
        assert_eq!(full, image);
    }

    #[test]
    fn flip_and_chw_layouts() {
        let image = numbered(3, 2);
        let flipped = image.flip_horizontal();
        assert_eq!(flipped.pixel(0, 1), image.pixel(2, 1));
        assert_eq!(flipped.flip_horizontal(), image);
        let chw = image.to_chw();
        // Channel 1 of pixel (2, 1) is rgb[3·5 + 1].
        assert_eq!(chw[6 + 5], image.rgb[16]);
    }

    #[test]
    fn tile_lays_out_row_major_with_gaps() {
        let a = StimulusImage::uniform(ImageSize::new(2, 2), [1.0, 0.0, 0.0]).unwrap();
        let b = StimulusImage::uniform(ImageSize::new(2, 2), [0.0, 1.0, 0.0]).unwrap();
        let sheet = StimulusImage::tile(&[a.clone(), b, a], 2, 1, [0.5; 3]).unwrap();
        assert_eq!(sheet.size(), ImageSize::new(5, 5));
        assert_eq!(sheet.pixel(0, 0), [1.0, 0.0, 0.0]);
        assert_eq!(sheet.pixel(2, 0), [0.5; 3]);
        assert_eq!(sheet.pixel(3, 1), [0.0, 1.0, 0.0]);
        assert_eq!(sheet.pixel(1, 4), [1.0, 0.0, 0.0]);
        assert_eq!(sheet.pixel(4, 4), [0.5; 3]);
        let mismatched = StimulusImage::uniform(ImageSize::new(3, 2), [0.0; 3]).unwrap();
        assert!(StimulusImage::tile(&[sheet, mismatched], 2, 0, [0.0; 3]).is_err());
    }
}
