//! Writes contact sheets of stimulus sweeps as PNGs, for checking the shapes by eye.
//!
//! ```text
//! cargo run -p aann-stimuli --example contact_sheet -- OUTPUT_DIR [SIZE]
//! ```
//!
//! Writes `curves.png` (orientations 0:360:30 across, radii down: rows go from nearly straight
//! to a semicircle, as in the published heatmaps), `curves_filled_colour.png`, `angles.png`,
//! `lines_edges_gabors.png`.

use std::path::PathBuf;

use aann_stimuli::{
    Angle, Curve, Edge, GaborPatch, ImageSize, Line, Offset, Stimulus, StimulusImage, Style, Sweep,
    degrees_range, render_many,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(
        args.next()
            .ok_or("usage: contact_sheet OUTPUT_DIR [SIZE]")?,
    );
    let side: u32 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(64);
    std::fs::create_dir_all(&out)?;
    let size = ImageSize::square(side);
    let frame = f64::from(side);
    let orientations = degrees_range(0.0, 360.0, 30.0)?;
    let grey = [0.6; 3];

    // Radii from 8 frames (nearly straight) down to half the frame (a semicircle).
    let radii = vec![8.0 * frame, 2.0 * frame, frame, 0.7 * frame, 0.5 * frame];
    let template = Curve::new(Offset::ZERO, 1.0, 0.0).with_line_width(frame / 40.0);
    let sweep = Sweep::curves(template, orientations.clone(), radii.clone())?;
    let images: Vec<StimulusImage> = sweep
        .render_all(size, &Style::black_on_white())?
        .into_iter()
        .map(|cell| cell.image)
        .collect();
    StimulusImage::tile(&images, sweep.columns(), 2, grey)?.save_png(out.join("curves.png"))?;

    let filled = Sweep::curves(template.with_fill(true), orientations.clone(), radii)?;
    let style = Style::coloured([0.9, 0.3, 0.1], [0.1, 0.4, 0.8]);
    let images: Vec<StimulusImage> = filled
        .render_all(size, &style)?
        .into_iter()
        .map(|cell| cell.image)
        .collect();
    StimulusImage::tile(&images, filled.columns(), 2, grey)?
        .save_png(out.join("curves_filled_colour.png"))?;

    let corner = Angle::new(Offset::ZERO, 0.0, 90.0).with_line_width(frame / 40.0);
    let angles = Sweep::angles(
        corner,
        orientations.clone(),
        vec![150.0, 120.0, 90.0, 60.0, 30.0],
    )?;
    let images: Vec<StimulusImage> = angles
        .render_all(size, &Style::black_on_white())?
        .into_iter()
        .map(|cell| cell.image)
        .collect();
    StimulusImage::tile(&images, angles.columns(), 2, grey)?.save_png(out.join("angles.png"))?;

    let mut stimuli: Vec<Stimulus> = Vec::new();
    for &theta in &orientations {
        stimuli.push(
            Line::new(Offset::ZERO, theta)
                .with_length(frame / 2.0)
                .into(),
        );
    }
    for &theta in &orientations {
        stimuli.push(Edge::new(Offset::ZERO, theta).into());
    }
    for &theta in &orientations {
        stimuli.push(GaborPatch::new(Offset::ZERO, theta, frame / 6.0, frame / 8.0).into());
    }
    let images = render_many(&stimuli, size, &Style::black_on_white())?;
    StimulusImage::tile(&images, orientations.len(), 2, grey)?
        .save_png(out.join("lines_edges_gabors.png"))?;

    println!("wrote contact sheets to {}", out.display());
    Ok(())
}
