//! The original formats, round-tripped: the inception5h fixture written as a TensorFlow
//! GraphDef (bare and zipped like `inception5h.zip`), the BVLC weights written as a
//! `.caffemodel` in both of Caffe's layouts, each imported back bit-for-bit through
//! format detection, the cache and `info`.
use std::io::Write;
use std::path::{Path, PathBuf};

use aann_weights::cache::CacheOutcome;
use aann_weights::{
    SourceFormat, TensorSet, WeightCache, info, mat, pth, read_source, tf_graphdef,
};

#[path = "support/writers.rs"]
mod writers;
use writers::{CaffeLayout, assert_bit_identical};

fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
}

fn fixture() -> TensorSet {
    pth::read_pth(&shared().join("inception5h-fixture/inception5h-random.pth")).unwrap()
}

fn bvlc() -> TensorSet {
    mat::read_layer_directory(&shared().join("googlenet-bvlc/params")).unwrap()
}

/// Every tensor of `want` is in `got`, bit for bit; returns the names `got` has in addition.
fn check_contains(got: &TensorSet, want: &TensorSet) -> Vec<String> {
    for (name, t) in want.iter() {
        let g = got
            .get(name)
            .unwrap_or_else(|e| panic!("{name} not imported: {e}"));
        assert_bit_identical(name, g, t);
    }
    got.names()
        .filter(|n| !want.contains(n))
        .map(str::to_string)
        .collect()
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn graphdef_round_trip_is_bit_exact() {
    let original = fixture();
    let dir = tempfile::tempdir().unwrap();
    let pb = dir.path().join("tensorflow_inception_graph.pb");
    write(&pb, &writers::inception5h_graphdef(&original));

    assert_eq!(SourceFormat::detect(&pb).unwrap(), SourceFormat::TfGraphDef);
    let import = tf_graphdef::import_inception5h(&pb).unwrap();
    assert!(
        check_contains(&import.set, &original).is_empty(),
        "only the pth keys"
    );
    assert_eq!(import.set.len(), 116);
    assert_eq!(import.set.num_parameters(), 7_066_380);
    // The auxiliary heads' twelve constants are ignored, by name.
    assert_eq!(import.ignored.len(), 12, "{:?}", import.ignored);
    assert!(import.ignored.iter().all(|n| tf_graphdef::is_auxiliary(n)));
    // And through the generic entry point.
    let set = read_source(&pb).unwrap();
    assert_eq!(set.source.format, "TensorFlow GraphDef");
    check_contains(&set, &original);
}

#[test]
fn inception5h_zip_is_read_directly_with_its_labels() {
    let original = fixture();
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("inception5h.zip");
    {
        let file = std::fs::File::create(&zip_path).unwrap();
        let mut zip = zip::ZipWriter::new(file);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("LICENSE", opts).unwrap();
        zip.write_all(b"Apache License 2.0").unwrap();
        zip.start_file(tf_graphdef::INCEPTION5H_LABELS, opts)
            .unwrap();
        zip.write_all(
            &std::fs::read(shared().join("labels/imagenet_comp_graph_label_strings.txt")).unwrap(),
        )
        .unwrap();
        zip.start_file(tf_graphdef::INCEPTION5H_GRAPH, opts)
            .unwrap();
        zip.write_all(&writers::inception5h_graphdef(&original))
            .unwrap();
        zip.finish().unwrap();
    }
    assert_eq!(
        SourceFormat::detect(&zip_path).unwrap(),
        SourceFormat::TfGraphDef
    );
    let set = read_source(&zip_path).unwrap();
    assert!(check_contains(&set, &original).is_empty());
    let labels = tf_graphdef::read_zip_labels(&zip_path).unwrap().unwrap();
    assert_eq!(labels.len(), 1001);
    assert_eq!(
        (labels[0].as_str(), labels[1].as_str()),
        ("dummy", "kit fox")
    );

    // A PyTorch checkpoint is a zip too, and must still be read as one.
    let pth = shared().join("inception5h-fixture/inception5h-random.pth");
    assert_eq!(SourceFormat::detect(&pth).unwrap(), SourceFormat::Pth);

    // A zip without a graph is refused with what was expected.
    let empty = dir.path().join("other.zip");
    {
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&empty).unwrap());
        zip.start_file("readme.txt", zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(b"hi").unwrap();
        zip.finish().unwrap();
    }
    let err = read_source(&empty).unwrap_err().to_string();
    assert!(
        err.contains("other.zip")
            && err.contains("tensorflow_inception_graph.pb")
            && err.contains("readme.txt"),
        "{err}"
    );
}

#[test]
fn caffemodel_round_trip_is_bit_exact_in_both_layouts() {
    let original = bvlc();
    let dir = tempfile::tempdir().unwrap();
    for layout in [CaffeLayout::Layer, CaffeLayout::V1Layers] {
        let path = dir
            .path()
            .join(format!("bvlc_googlenet_{layout:?}.caffemodel"));
        write(&path, &writers::bvlc_caffemodel(&original, layout));
        assert_eq!(
            SourceFormat::detect(&path).unwrap(),
            SourceFormat::CaffeModel
        );
        let set = read_source(&path).unwrap();
        let mut extra = check_contains(&set, &original);
        extra.sort();
        assert_eq!(
            extra,
            [
                "loss1_classifier.bias",
                "loss1_classifier.weight",
                "loss1_conv.bias",
                "loss1_conv.weight"
            ],
            "{layout:?}: only the auxiliary head is added"
        );
        assert_eq!(
            set.get("loss1_classifier.weight").unwrap().shape,
            vec![3, 2]
        );
    }
}

#[test]
fn imported_sources_go_through_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("bvlc_googlenet.caffemodel");
    write(
        &src,
        &writers::bvlc_caffemodel(&bvlc(), CaffeLayout::V1Layers),
    );
    let cache = WeightCache::new(dir.path().join("cache"));
    let (first, outcome) = cache.load(&src).unwrap();
    assert_eq!(outcome, CacheOutcome::Converted);
    let (second, outcome) = cache.load(&src).unwrap();
    assert_eq!(outcome, CacheOutcome::Hit);
    assert_eq!(second.source.format, "Caffe .caffemodel (cached)");
    assert!(check_contains(&second, &first).is_empty());
}

#[test]
fn info_describes_the_original_formats() {
    let dir = tempfile::tempdir().unwrap();
    let pb = dir.path().join("graph.pb");
    write(&pb, &writers::inception5h_graphdef(&fixture()));
    let info = info::describe(&pb).unwrap();
    assert_eq!(info.format, SourceFormat::TfGraphDef);
    assert_eq!(info.tensors.len(), 116);
    assert_eq!(info.num_parameters, 7_066_380);
    assert_eq!(info.sha256, aann_weights::sha256_file(&pb).unwrap());
    assert!(
        info.published.is_none(),
        "a test file is not the published graph"
    );
    let text = info.to_string();
    for needle in [
        "TensorFlow GraphDef",
        "7,066,380",
        "sha256      ",
        "conv2d0_pre_relu_conv.weight",
        "[64, 3, 7, 7]",
        "12 other float constants ignored",
        "softmax0_w",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }

    let model = dir.path().join("bvlc.caffemodel");
    write(
        &model,
        &writers::bvlc_caffemodel(&bvlc(), CaffeLayout::V1Layers),
    );
    let info = info::describe(&model).unwrap();
    assert_eq!(info.format, SourceFormat::CaffeModel);
    // The 116 main-path tensors (6,998,552 parameters) and the small auxiliary stand-in.
    assert_eq!(info.tensors.len(), 120);
    assert_eq!(info.num_parameters, 6_998_552 + 6 + 2 + 6 + 3);
    let text = info.to_string();
    assert!(
        text.contains("legacy `layers` layout")
            && text.contains("60 layers with parameters, 3 without"),
        "{text}"
    );
}
