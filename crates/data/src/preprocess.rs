//! Geometry ([`Resize`]) and pixel encoding ([`InputSpec`]) that turn a decoded RGB image into a
//! model's planar CHW `f32` input.
//!
//! Resampling (it changes accuracy slightly, so it is fixed and documented): the `image` crate's
//! `FilterType::Triangle`, i.e. separable bilinear interpolation whose kernel is widened by the
//! scale factor when downscaling, so every source pixel contributes (antialiased, area-aware) —
//! the same scheme as Pillow's `BILINEAR` resize that torchvision uses. Upscaling is plain
//! bilinear. Sizes that do not change are copied, not resampled.

use std::path::Path;

use image::RgbImage;
use image::imageops::FilterType;
use serde::{Deserialize, Serialize};

use crate::decode::decode_rgb;
use crate::error::{DataError, DecodeError, DecodeErrorKind};

/// How an image is rescaled before the optional centre crop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Rescale {
    /// Keep the decoded size.
    Keep,
    /// Scale (keeping the aspect ratio) so that the shorter side has this length; the longer side
    /// becomes `floor(longer · side / shorter)` (as torchvision's `Resize(int)`), at least 1.
    ShorterSide(u32),
    /// Scale to exactly this size, ignoring the aspect ratio (Caffe's 256×256 warp).
    Exact {
        /// Output height.
        height: u32,
        /// Output width.
        width: u32,
    },
}

/// Image geometry: rescale, then take a centre crop. The default is ImageNet's standard
/// evaluation geometry: shorter side 256, centre crop 224×224.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resize {
    /// The rescaling step.
    pub rescale: Rescale,
    /// The centre crop `(height, width)`, if any. Its offset is `floor((size − crop) / 2)` on each
    /// axis (Caffe's convention; torchvision rounds the half pixel instead, which differs by one
    /// pixel when the difference is odd).
    pub centre_crop: Option<(u32, u32)>,
}

impl Default for Resize {
    fn default() -> Self {
        Self {
            rescale: Rescale::ShorterSide(256),
            centre_crop: Some((224, 224)),
        }
    }
}

impl Resize {
    /// No rescaling, no crop: the image as decoded.
    pub fn none() -> Self {
        Self {
            rescale: Rescale::Keep,
            centre_crop: None,
        }
    }

    /// Checks that sizes are non-zero and that the crop fits any image this rescaling produces
    /// (for [`Rescale::ShorterSide`], both crop sides must be at most the shorter side).
    pub fn validate(&self) -> Result<(), DataError> {
        match self.rescale {
            Rescale::ShorterSide(0) => {
                return Err(DataError::Config(
                    "shorter side must be positive".to_owned(),
                ));
            }
            Rescale::Exact { height, width } if height == 0 || width == 0 => {
                return Err(DataError::Config(format!(
                    "exact size must be positive, got {height}x{width} (HxW)"
                )));
            }
            _ => {}
        }
        if let Some((crop_h, crop_w)) = self.centre_crop {
            if crop_h == 0 || crop_w == 0 {
                return Err(DataError::Config(format!(
                    "centre crop must be positive, got {crop_h}x{crop_w} (HxW)"
                )));
            }
            match self.rescale {
                Rescale::ShorterSide(side) if crop_h > side || crop_w > side => {
                    return Err(DataError::Config(format!(
                        "centre crop {crop_h}x{crop_w} (HxW) does not fit in an image whose \
                         shorter side is {side}"
                    )));
                }
                Rescale::Exact { height, width } if crop_h > height || crop_w > width => {
                    return Err(DataError::Config(format!(
                        "centre crop {crop_h}x{crop_w} (HxW) is larger than the {height}x{width} \
                         rescaled image"
                    )));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The output `(height, width)` if it is the same for every image (there is a crop, or an
    /// exact rescale), else `None`.
    pub fn output_size(&self) -> Option<(u32, u32)> {
        match (self.centre_crop, self.rescale) {
            (Some(crop), _) => Some(crop),
            (None, Rescale::Exact { height, width }) => Some((height, width)),
            _ => None,
        }
    }

    /// The `(width, height)` an image of `(width, height)` has after rescaling.
    pub fn rescaled_size(&self, width: u32, height: u32) -> (u32, u32) {
        match self.rescale {
            Rescale::Keep => (width, height),
            Rescale::Exact {
                height: h,
                width: w,
            } => (w, h),
            Rescale::ShorterSide(side) => {
                let scale = |long: u32, short: u32| {
                    ((u64::from(long) * u64::from(side)) / u64::from(short.max(1))).max(1) as u32
                };
                if width <= height {
                    (side, scale(height, width))
                } else {
                    (scale(width, height), side)
                }
            }
        }
    }

    /// Rescales then centre-crops `image`. `path` names the image in errors (a crop larger than
    /// the rescaled image, possible only with [`Rescale::Keep`]).
    pub fn apply(&self, image: &RgbImage, path: &Path) -> Result<RgbImage, DecodeError> {
        let (width, height) = image.dimensions();
        let (new_width, new_height) = self.rescaled_size(width, height);
        let rescaled;
        let scaled: &RgbImage = if (new_width, new_height) == (width, height) {
            image
        } else {
            rescaled = image::imageops::resize(image, new_width, new_height, FilterType::Triangle);
            &rescaled
        };
        let Some((crop_height, crop_width)) = self.centre_crop else {
            return Ok(scaled.clone());
        };
        if crop_width > new_width || crop_height > new_height {
            return Err(DecodeError::new(
                path,
                DecodeErrorKind::TooSmallForCrop {
                    width: new_width,
                    height: new_height,
                    crop_width,
                    crop_height,
                },
            ));
        }
        let left = (new_width - crop_width) / 2;
        let top = (new_height - crop_height) / 2;
        Ok(image::imageops::crop_imm(scaled, left, top, crop_width, crop_height).to_image())
    }
}

/// Order of the colour channels in the model input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChannelOrder {
    /// Red, green, blue (Lucid / TensorFlow).
    Rgb,
    /// Blue, green, red (Caffe / OpenCV).
    Bgr,
}

/// How pixels become model input values. For output channel `c` (in `channel_order`) of a pixel
/// with 8-bit value `p` in that colour: `(p · pixel_scale / 255 − mean[c]) / std[c]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct InputSpec {
    /// Channel order of the output planes.
    pub channel_order: ChannelOrder,
    /// The value a full-intensity pixel (255) maps to before mean subtraction: 255.0 means pixels
    /// are 0..255, 1.0 means 0..1.
    pub pixel_scale: f32,
    /// Subtracted per output channel (in `channel_order`), in `pixel_scale` units.
    pub mean: [f32; 3],
    /// Divided per output channel after the mean is subtracted; `None` means 1.
    pub std: Option<[f32; 3]>,
}

impl InputSpec {
    /// Lucid's inception5h: RGB, pixels 0..255, minus 117 on every channel.
    pub fn lucid() -> Self {
        Self {
            channel_order: ChannelOrder::Rgb,
            pixel_scale: 255.0,
            mean: [117.0; 3],
            std: None,
        }
    }

    /// BVLC GoogLeNet in Caffe: BGR, pixels 0..255, minus (104, 117, 123) in B, G, R order.
    pub fn caffe() -> Self {
        Self {
            channel_order: ChannelOrder::Bgr,
            pixel_scale: 255.0,
            mean: [104.0, 117.0, 123.0],
            std: None,
        }
    }

    /// Checks that the scale is finite and positive and every std is finite and non-zero.
    pub fn validate(&self) -> Result<(), DataError> {
        if !(self.pixel_scale.is_finite() && self.pixel_scale > 0.0) {
            return Err(DataError::Config(format!(
                "pixel scale must be finite and positive, got {}",
                self.pixel_scale
            )));
        }
        if self.mean.iter().any(|m| !m.is_finite()) {
            return Err(DataError::Config(format!(
                "mean must be finite, got {:?}",
                self.mean
            )));
        }
        if let Some(std) = self.std
            && std.iter().any(|s| !s.is_finite() || *s == 0.0)
        {
            return Err(DataError::Config(format!(
                "std must be finite and non-zero, got {std:?}"
            )));
        }
        Ok(())
    }

    /// Per output channel: the source RGB channel, the multiplier and the offset, so that
    /// `value = p · multiplier + offset`.
    fn channel_maps(&self) -> [(usize, f32, f32); 3] {
        let source = match self.channel_order {
            ChannelOrder::Rgb => [0, 1, 2],
            ChannelOrder::Bgr => [2, 1, 0],
        };
        let per_unit = self.pixel_scale / 255.0;
        std::array::from_fn(|c| {
            let std = self.std.map_or(1.0, |s| s[c]);
            (source[c], per_unit / std, -self.mean[c] / std)
        })
    }

    /// The input values of one RGB pixel, in output channel order.
    pub fn encode_pixel(&self, rgb: [u8; 3]) -> [f32; 3] {
        self.channel_maps()
            .map(|(src, mul, add)| f32::from(rgb[src]) * mul + add)
    }

    /// Writes `image` as planar CHW values into `out` (length `3 · height · width`).
    ///
    /// # Panics
    /// If `out` has the wrong length.
    pub fn write_chw(&self, image: &RgbImage, out: &mut [f32]) {
        let plane = image.width() as usize * image.height() as usize;
        assert_eq!(
            out.len(),
            3 * plane,
            "output buffer has {} values, a {}x{} image needs {}",
            out.len(),
            image.width(),
            image.height(),
            3 * plane
        );
        for ((src, mul, add), out_plane) in self
            .channel_maps()
            .into_iter()
            .zip(out.chunks_exact_mut(plane))
        {
            for (value, pixel) in out_plane.iter_mut().zip(image.pixels()) {
                *value = f32::from(pixel.0[src]) * mul + add;
            }
        }
    }

    /// Encode a planar RGB image with intensities in [0, 1] (e.g. a rendered stimulus, or
    /// anything not quantised to 8 bits) as planar model input: intensity `u` is treated as
    /// the pixel value `255·u`.
    ///
    /// # Panics
    /// If the length is not a multiple of 3.
    pub fn encode_unit_rgb_planes(&self, rgb: &[f32]) -> Vec<f32> {
        assert_eq!(rgb.len() % 3, 0, "planar RGB needs 3 planes");
        let plane = rgb.len() / 3;
        let mut out = vec![0.0; rgb.len()];
        for ((src, mul, add), out_plane) in self
            .channel_maps()
            .into_iter()
            .zip(out.chunks_exact_mut(plane))
        {
            let source = &rgb[src * plane..(src + 1) * plane];
            for (o, u) in out_plane.iter_mut().zip(source) {
                *o = (u * 255.0) * mul + add;
            }
        }
        out
    }

    /// The inverse of [`encode_unit_rgb_planes`](Self::encode_unit_rgb_planes): planar RGB
    /// intensities (255 = 1.0, not clamped) of a planar model input.
    pub fn decode_to_unit_rgb_planes(&self, input: &[f32]) -> Vec<f32> {
        assert_eq!(input.len() % 3, 0, "planar input needs 3 planes");
        let plane = input.len() / 3;
        let mut out = vec![0.0; input.len()];
        for (c, (src, mul, add)) in self.channel_maps().into_iter().enumerate() {
            let channel = &input[c * plane..(c + 1) * plane];
            for (o, v) in out[src * plane..(src + 1) * plane].iter_mut().zip(channel) {
                *o = (v - add) / mul / 255.0;
            }
        }
        out
    }

    /// `image` as a planar CHW vector.
    pub fn to_chw(&self, image: &RgbImage) -> Vec<f32> {
        let mut out = vec![0.0; 3 * image.width() as usize * image.height() as usize];
        self.write_chw(image, &mut out);
        out
    }
}

/// Decode → [`Resize`] → [`InputSpec`]: everything between an image file and a model input.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Preprocess {
    /// Geometry.
    pub resize: Resize,
    /// Pixel encoding.
    pub input: InputSpec,
}

impl Preprocess {
    /// Lucid inception5h input with the default geometry (shorter side 256, centre 224×224).
    pub fn lucid() -> Self {
        Self {
            resize: Resize::default(),
            input: InputSpec::lucid(),
        }
    }

    /// BVLC GoogLeNet (Caffe) input with the default geometry (shorter side 256, centre 224×224).
    pub fn caffe() -> Self {
        Self {
            resize: Resize::default(),
            input: InputSpec::caffe(),
        }
    }

    /// Validates both parts.
    pub fn validate(&self) -> Result<(), DataError> {
        self.resize.validate()?;
        self.input.validate()
    }

    /// Decodes, resizes and encodes one image file: returns `(CHW values, height, width)`.
    pub fn load(&self, path: &Path) -> Result<(Vec<f32>, u32, u32), DecodeError> {
        let image = self.resize.apply(&decode_rgb(path)?, path)?;
        Ok((self.input.to_chw(&image), image.height(), image.width()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_planes_encode_like_pixels_and_decode_back() {
        // One pixel (R, G, B) = (1.0, 0.5, 0.0) as planes.
        let rgb = [1.0f32, 0.5, 0.0];
        for spec in [InputSpec::lucid(), InputSpec::caffe()] {
            let enc = spec.encode_unit_rgb_planes(&rgb);
            let px = spec.encode_pixel([255, 0, 0]);
            assert_eq!(
                enc[spec.channel_maps().iter().position(|m| m.0 == 0).unwrap()],
                px[spec.channel_maps().iter().position(|m| m.0 == 0).unwrap()]
            );
            let back = spec.decode_to_unit_rgb_planes(&enc);
            for (a, b) in back.iter().zip(rgb) {
                assert!((a - b).abs() < 1e-6, "{back:?}");
            }
        }
        // Caffe's first plane is blue: 0 − 104.
        assert_eq!(InputSpec::caffe().encode_unit_rgb_planes(&rgb)[0], -104.0);
    }

    #[test]
    fn pure_red_in_each_preset() {
        let red = [255, 0, 0];
        assert_eq!(
            InputSpec::lucid().encode_pixel(red),
            [138.0, -117.0, -117.0]
        );
        // Caffe planes are B, G, R: blue 0 − 104, green 0 − 117, red 255 − 123.
        assert_eq!(
            InputSpec::caffe().encode_pixel(red),
            [-104.0, -117.0, 132.0]
        );
        let normalised = InputSpec {
            channel_order: ChannelOrder::Rgb,
            pixel_scale: 1.0,
            mean: [0.485, 0.456, 0.406],
            std: Some([0.229, 0.224, 0.225]),
        };
        let v = normalised.encode_pixel(red);
        let expect = [(1.0 - 0.485) / 0.229, -0.456 / 0.224, -0.406 / 0.225];
        for (a, b) in v.iter().zip(expect) {
            assert!((a - b).abs() < 1e-5, "{v:?} vs {expect:?}");
        }
    }

    #[test]
    fn chw_layout_is_planar_in_channel_order() {
        // 2x1 image: a red pixel then a blue one.
        let image = RgbImage::from_raw(2, 1, vec![255, 0, 0, 0, 0, 255]).unwrap();
        let rgb = InputSpec::lucid().to_chw(&image);
        assert_eq!(rgb, vec![138.0, -117.0, -117.0, -117.0, -117.0, 138.0]);
        let bgr = InputSpec::caffe().to_chw(&image);
        assert_eq!(bgr, vec![-104.0, 151.0, -117.0, -117.0, 132.0, -123.0]);
    }

    #[test]
    fn invalid_specs_are_refused() {
        let mut spec = InputSpec::lucid();
        spec.std = Some([1.0, 0.0, 1.0]);
        assert!(spec.validate().is_err());
        spec.std = None;
        spec.pixel_scale = 0.0;
        assert!(spec.validate().is_err());
        assert!(InputSpec::caffe().validate().is_ok());
    }

    #[test]
    fn rescaled_sizes() {
        let r = Resize::default();
        assert_eq!(r.rescaled_size(500, 375), (341, 256));
        assert_eq!(r.rescaled_size(375, 500), (256, 341));
        assert_eq!(r.rescaled_size(227, 227), (256, 256));
        assert_eq!(r.rescaled_size(256, 300), (256, 300));
        let exact = Resize {
            rescale: Rescale::Exact {
                height: 10,
                width: 20,
            },
            centre_crop: None,
        };
        assert_eq!(exact.rescaled_size(3, 4), (20, 10));
        assert_eq!(exact.output_size(), Some((10, 20)));
        assert_eq!(r.output_size(), Some((224, 224)));
        assert_eq!(Resize::none().output_size(), None);
    }

    #[test]
    fn invalid_geometry_is_refused() {
        let crop_too_big = Resize {
            rescale: Rescale::ShorterSide(200),
            centre_crop: Some((224, 224)),
        };
        assert!(
            crop_too_big
                .validate()
                .unwrap_err()
                .to_string()
                .contains("224x224")
        );
        assert!(
            Resize {
                rescale: Rescale::ShorterSide(0),
                centre_crop: None
            }
            .validate()
            .is_err()
        );
        assert!(
            Resize {
                rescale: Rescale::Keep,
                centre_crop: Some((0, 3))
            }
            .validate()
            .is_err()
        );
        assert!(Resize::default().validate().is_ok());
    }

    /// An image whose pixel (x, y) encodes its own coordinates.
    fn coordinate_image(width: u32, height: u32) -> RgbImage {
        RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 0]))
    }

    #[test]
    fn centre_crop_geometry() {
        let path = Path::new("img.png");
        let crop = |w, h, ch, cw| {
            Resize {
                rescale: Rescale::Keep,
                centre_crop: Some((ch, cw)),
            }
            .apply(&coordinate_image(w, h), path)
            .unwrap()
        };
        // 10 wide, 7 high, crop 4 high x 6 wide: left = (10-6)/2 = 2, top = (7-4)/2 = 1 (floor).
        let c = crop(10, 7, 4, 6);
        assert_eq!(c.dimensions(), (6, 4));
        assert_eq!(c.get_pixel(0, 0).0, [2, 1, 0]);
        assert_eq!(c.get_pixel(5, 3).0, [7, 4, 0]);
        // 227 -> 224: offset floor(3/2) = 1.
        let c = crop(227, 227, 224, 224);
        assert_eq!(c.get_pixel(0, 0).0, [1, 1, 0]);
        assert_eq!(c.get_pixel(223, 223).0, [224, 224, 0]);

        let err = Resize {
            rescale: Rescale::Keep,
            centre_crop: Some((8, 8)),
        }
        .apply(&coordinate_image(5, 9), path)
        .unwrap_err();
        assert_eq!(
            err.kind,
            DecodeErrorKind::TooSmallForCrop {
                width: 5,
                height: 9,
                crop_width: 8,
                crop_height: 8
            }
        );
        assert!(err.to_string().starts_with("img.png:"));
    }

    #[test]
    fn resize_then_crop_keeps_the_centre() {
        // 512x300 image, left half black, right half white; shorter side 150 -> 256x150, crop
        // 100x100 centred: columns 78..178, so the left 50 columns are dark and the right 50
        // bright, with a blurred edge of a pixel or two at the centre.
        let image = RgbImage::from_fn(512, 300, |x, _| {
            if x < 256 {
                image::Rgb([0; 3])
            } else {
                image::Rgb([255; 3])
            }
        });
        let resize = Resize {
            rescale: Rescale::ShorterSide(150),
            centre_crop: Some((100, 100)),
        };
        let out = resize.apply(&image, Path::new("x")).unwrap();
        assert_eq!(out.dimensions(), (100, 100));
        assert_eq!(out.get_pixel(47, 50).0, [0; 3]);
        assert_eq!(out.get_pixel(52, 50).0, [255; 3]);
        let edge = out.get_pixel(50, 50).0[0];
        assert!(edge > 0 || out.get_pixel(49, 50).0[0] > 0, "no edge blur");
    }

    #[test]
    fn downscaling_is_antialiased() {
        // A one-pixel checkerboard downscaled 4x: area-aware filtering averages to mid-grey;
        // point sampling would give 0 or 255.
        let image = RgbImage::from_fn(64, 64, |x, y| {
            image::Rgb([if (x + y) % 2 == 0 { 255 } else { 0 }; 3])
        });
        let resize = Resize {
            rescale: Rescale::ShorterSide(16),
            centre_crop: None,
        };
        let out = resize.apply(&image, Path::new("x")).unwrap();
        assert_eq!(out.dimensions(), (16, 16));
        for p in out.pixels() {
            assert!((118..=138).contains(&p.0[0]), "{:?}", p.0);
        }
    }
}
