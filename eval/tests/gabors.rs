//! The first layer's Gabor family, found from BVLC GoogLeNet's own filters, and how much
//! of each member the shipped hand-written layer's unit for it explains.
use aann_circuits::GaborLayerSpec;
use aann_eval::discover_gabors::{GaborCriteria, GaborGrid, discover_gabors, stated_set_fit};
use aann_model::{Family, InceptionV1, Variant};
use aann_testkit::{shared_data, test_cache};
use aann_weights::WeightCache;
use burn::tensor::Device;

fn model() -> InceptionV1 {
    InceptionV1::load(
        Variant::Bvlc,
        &shared_data().join("googlenet-bvlc/params"),
        &WeightCache::new(test_cache()),
        &Device::default(),
    )
    .unwrap()
}

fn repo() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn the_committed_gabor_family_is_what_the_fit_of_the_first_filters_finds() {
    let model = model();
    let found = discover_gabors(&model, &GaborCriteria::default(), &GaborGrid::default()).unwrap();
    assert_eq!(found.fits.len(), 64);
    assert_eq!(found.members().count(), 26);
    // The cleanest filter: a low-frequency brightness edge.
    let best = &found.fits[0];
    assert_eq!(
        (
            best.channel,
            best.direction_deg,
            best.phase_deg,
            best.wavelength_px
        ),
        (33, 82.5, 105.0, 14.0)
    );
    assert!(
        (best.r2 - 0.96).abs() < 0.005 && best.colour_fraction < 0.02,
        "{best:?}"
    );
    // Colour filters are not members, however well a Gabor fits their brightness part.
    assert!(
        found
            .fits
            .iter()
            .filter(|f| f.colour_fraction > 0.15)
            .all(|f| !f.member)
    );
    assert_eq!(
        found
            .fits
            .iter()
            .filter(|f| f.colour_fraction > 0.15)
            .count(),
        30
    );
    // The committed file is this fit's family.
    let committed = Family::load(&repo().join("circuits/families/bvlc/gabors-conv1.toml")).unwrap();
    let regenerated = found.family(Variant::Bvlc, &committed.source);
    assert_eq!(committed, regenerated);
}

#[test]
fn the_shipped_stated_set_explains_most_of_each_member() {
    let model = model();
    let family = Family::load(&repo().join("circuits/families/bvlc/gabors-conv1.toml")).unwrap();
    let fits = stated_set_fit(&model, &family, &GaborLayerSpec::standard()).unwrap();
    assert_eq!(fits.len(), 26);
    let mean = |f: fn(&aann_eval::discover_gabors::StatedFit) -> f64| {
        fits.iter().map(f).sum::<f64>() / fits.len() as f64
    };
    // The unit each member is mapped to (nearest direction, phase and wavelength) explains
    // 0.77 of its brightness part on average, nearly the best unit of the set (0.78).
    assert!(
        (mean(|f| f.mapped_r2) - 0.770).abs() < 0.005,
        "{}",
        mean(|f| f.mapped_r2)
    );
    assert!(
        (mean(|f| f.best_r2) - 0.780).abs() < 0.005,
        "{}",
        mean(|f| f.best_r2)
    );
    assert!(
        fits.iter()
            .all(|f| f.mapped_r2 > 0.4 && f.mapped_r2 <= f.best_r2 + 1e-12)
    );
    // A coarser set loses: 8 directions instead of 16.
    let mut coarse = GaborLayerSpec::standard();
    coarse.directions = 8;
    let coarse = stated_set_fit(&model, &family, &coarse).unwrap();
    let coarse_best = coarse.iter().map(|f| f.best_r2).sum::<f64>() / 26.0;
    assert!(coarse_best < mean(|f| f.best_r2) - 0.05, "{coarse_best}");
}
