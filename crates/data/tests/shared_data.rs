//! Label maps and image-set layouts on the real data in `../shared` (from the repository root).

use std::collections::BTreeSet;
use std::path::PathBuf;

use aann_data::{
    ClassOrder, GroundTruth, IMAGENET_CLASSES, INCEPTION5H_OUTPUTS, ImageSet, Inception5hLabels,
    OpenOptions, SetSource, Synsets, Unlabelled, decode_rgb,
};

fn shared(relative: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")).join(relative)
}

fn synsets() -> Synsets {
    Synsets::load(shared("imagenet-val/synset_words.txt")).unwrap()
}

fn inception5h_labels() -> Inception5hLabels {
    Inception5hLabels::load(
        shared("labels/imagenet_2012_challenge_label_map_proto.pbtxt"),
        shared("labels/imagenet_comp_graph_label_strings.txt"),
    )
    .unwrap()
}

#[test]
fn synset_words_has_the_1000_classes_in_order() {
    let s = synsets();
    assert_eq!(s.len(), IMAGENET_CLASSES);
    assert_eq!(s.index_of("n01440764"), Some(0));
    assert_eq!(s.short_name(0), Some("tench"));
    assert_eq!(s.wnid(999), Some("n15075141"));
    // BVLC's reference image is class 967, espresso.
    assert_eq!(s.short_name(967), Some("espresso"));
}

#[test]
fn inception5h_order_maps_tench_to_449() {
    let s = synsets();
    let labels = inception5h_labels();
    assert_eq!(labels.output_of_wnid("n01440764"), Some(449));
    assert_eq!(labels.label_string(0), Some("dummy"));
    let order = ClassOrder::inception5h(&s, &labels).unwrap();
    assert_eq!(order.num_outputs(), INCEPTION5H_OUTPUTS);
    assert_eq!(order.output_of_class(0).unwrap(), 449);
    assert_eq!(order.output_of_wnid("n01440764").unwrap(), 449);
    assert_eq!(order.output_name(449), Some("tench"));
    assert_eq!(order.class_of_output(449), Some(0));
    assert_eq!(order.output_name(0), Some("dummy"));
    assert_eq!(order.class_of_output(0), None);
    for unused in 1001..INCEPTION5H_OUTPUTS {
        assert_eq!(order.output_name(unused), None);
        assert_eq!(order.class_of_output(unused), None);
    }
}

#[test]
fn inception5h_order_is_a_bijection_consistent_with_the_synset_names() {
    let s = synsets();
    let order = ClassOrder::inception5h(&s, &inception5h_labels()).unwrap();
    let mut outputs = BTreeSet::new();
    for (class, wnid, name) in s.iter() {
        let output = order.output_of_class(class).unwrap();
        assert!((1..=1000).contains(&output), "{wnid} -> {output}");
        assert!(outputs.insert(output), "output {output} used twice");
        assert_eq!(order.class_of_output(output), Some(class));
        // Google's label string is one of the synset's aliases (one has a " [ground]" suffix).
        let label = order.output_name(output).unwrap();
        let label = label.split(" [").next().unwrap();
        assert!(
            name.split(',').any(|alias| alias.trim() == label),
            "{wnid} ({name}) -> output {output} labelled {label:?}"
        );
    }
    assert_eq!(outputs.len(), 1000);
}

#[test]
fn bvlc_order_is_identity() {
    let s = synsets();
    let order = ClassOrder::sorted_synsets(&s);
    assert_eq!(order.num_outputs(), 1000);
    assert_eq!(order.output_of_class(967).unwrap(), 967);
    assert_eq!(order.output_name(0), Some("tench, Tinca tinca"));
}

/// `val.txt` read independently of the crate: file name -> class.
fn val_txt() -> std::collections::HashMap<String, usize> {
    std::fs::read_to_string(shared("imagenet-val/val.txt"))
        .unwrap()
        .lines()
        .map(|l| {
            let (file, class) = l.split_once(' ').unwrap();
            (file.to_owned(), class.parse().unwrap())
        })
        .collect()
}

#[test]
fn flat_folder_with_val_txt_lists_present_files_with_their_labels() {
    let s = synsets();
    let dir = shared("imagenet-val/images");
    // Detected from the folder: val.txt is found in its parent.
    let set = ImageSet::open(&dir, &s, &OpenOptions::default()).unwrap();
    assert_eq!(
        set.len(),
        1300,
        "only the files present, not all 50,000 of val.txt"
    );
    assert_eq!(
        set.source(),
        &SetSource::FlatFolder {
            dir: dir.clone(),
            ground_truth: Some(shared("imagenet-val").join("val.txt")),
        }
    );
    assert!(set.entries().windows(2).all(|w| w[0].key < w[1].key));
    let truth = val_txt();
    let first10 = set.limit(10);
    assert_eq!(first10.len(), 10);
    for entry in first10.iter() {
        assert_eq!(entry.path, dir.join(&entry.key));
        assert_eq!(entry.label, Some(truth[&entry.key]), "{}", entry.key);
        let image = decode_rgb(&entry.path).unwrap();
        assert_eq!(image.dimensions(), (227, 227), "{}", entry.key);
    }
    assert_eq!(set.labelled_count(), 1300);

    // The same with the ground truth given explicitly.
    let gt = GroundTruth::load(shared("imagenet-val/val.txt"), s.len()).unwrap();
    assert_eq!(gt.len(), 50_000);
    let explicit = ImageSet::flat_folder(&dir, Some(&gt), Unlabelled::Reject).unwrap();
    assert_eq!(explicit.entries(), set.entries());
}

#[test]
fn synset_folders_take_their_labels_from_the_folder_name() {
    let s = synsets();
    let root = shared("imagenet-sample");
    let set = ImageSet::open(&root, &s, &OpenOptions::default()).unwrap();
    assert_eq!(set.len(), 500);
    assert_eq!(
        set.source(),
        &SetSource::SynsetFolders { root: root.clone() }
    );
    // Class index = line of the folder's WNID in synset_words.txt, read independently.
    let words = std::fs::read_to_string(shared("imagenet-val/synset_words.txt")).unwrap();
    let line_of = |wnid: &str| words.lines().position(|l| l.starts_with(wnid)).unwrap();
    for entry in set.iter() {
        let (wnid, file) = entry.key.split_once('/').unwrap();
        assert_eq!(entry.label, Some(line_of(wnid)), "{}", entry.key);
        assert_eq!(entry.path, root.join(wnid).join(file));
    }
    // Every other synset: the first five are classes 0, 2, 4, 6, 8.
    let first5: Vec<_> = set.iter().take(5).map(|e| e.label.unwrap()).collect();
    assert_eq!(first5, vec![0, 2, 4, 6, 8]);
    for entry in set.iter().take(5) {
        let image = decode_rgb(&entry.path).unwrap();
        assert_eq!(image.width().min(image.height()), 256, "{}", entry.key);
    }
}

#[test]
fn list_file_with_index_and_wnid_labels() {
    let s = synsets();
    let dir = tempfile::tempdir().unwrap();
    let images = shared("imagenet-sample");
    // Absolute paths to shared images, one labelled by class index, one by WNID.
    let list = format!(
        "# a comment\n{} n01484850\n\n{} 0\n",
        images.join("n01484850/great_white_shark.JPEG").display(),
        images.join("n01440764/tench.JPEG").display(),
    );
    let path = dir.path().join("list.txt");
    std::fs::write(&path, list).unwrap();
    let set = ImageSet::open(&path, &s, &OpenOptions::default()).unwrap();
    let got: Vec<_> = set
        .iter()
        .map(|e| (e.path.file_name().unwrap().to_str().unwrap(), e.label))
        .collect();
    // Sorted by key (the path as written): n01440764/... before n01484850/...
    assert_eq!(
        got,
        vec![("tench.JPEG", Some(0)), ("great_white_shark.JPEG", Some(2))]
    );
    assert_eq!(set.source(), &SetSource::ListFile { path });
}
