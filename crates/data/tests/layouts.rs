//! Image-set layouts and their errors, on small folders made in a temporary directory.

use std::path::{Path, PathBuf};

use aann_data::{DataError, ImageSet, OpenOptions, SetSource, Synsets, Unlabelled};

const SYNSET_WORDS: &str = "n01440764 tench, Tinca tinca\n\
                            n01443537 goldfish, Carassius auratus\n\
                            n01484850 great white shark\n";

fn synsets(dir: &Path) -> Synsets {
    let path = dir.join("synset_words.txt");
    std::fs::write(&path, SYNSET_WORDS).unwrap();
    Synsets::load(path).unwrap()
}

fn write_png(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    image::RgbImage::from_pixel(4, 3, image::Rgb([10, 20, 30]))
        .save(path)
        .unwrap();
}

fn keys(set: &ImageSet) -> Vec<(&str, Option<usize>)> {
    set.iter().map(|e| (e.key.as_str(), e.label)).collect()
}

#[test]
fn flat_folder_detects_val_txt_ignores_other_files_and_sorts() {
    let tmp = tempfile::tempdir().unwrap();
    let s = synsets(tmp.path());
    let images = tmp.path().join("images");
    for name in ["b.JPEG", "a.png", "c.jpg"] {
        write_png(&images.join(name));
    }
    std::fs::write(images.join("notes.txt"), "not an image").unwrap();
    std::fs::write(images.join("._a.png"), "resource fork").unwrap();
    std::fs::create_dir(images.join("sub")).unwrap();
    write_png(&images.join("sub/ignored.png"));
    std::fs::write(
        tmp.path().join("val.txt"),
        "a.png 2\nb.JPEG 0\nc.jpg 1\nmissing.JPEG 1\n",
    )
    .unwrap();
    let set = ImageSet::open(&images, &s, &OpenOptions::default()).unwrap();
    assert_eq!(
        keys(&set),
        vec![("a.png", Some(2)), ("b.JPEG", Some(0)), ("c.jpg", Some(1))]
    );
    assert_eq!(set.entries()[0].path, images.join("a.png"));

    // A val.txt inside the folder wins over the parent's.
    std::fs::write(images.join("val.txt"), "a.png 1\nb.JPEG 1\nc.jpg 1\n").unwrap();
    let set = ImageSet::open(&images, &s, &OpenOptions::default()).unwrap();
    assert!(set.iter().all(|e| e.label == Some(1)));
}

#[test]
fn flat_folder_image_without_ground_truth_is_an_error_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let s = synsets(tmp.path());
    let images = tmp.path().join("images");
    write_png(&images.join("a.png"));
    write_png(&images.join("stray.png"));
    let gt = tmp.path().join("truth.txt");
    std::fs::write(&gt, "a.png 2\n").unwrap();
    let options = OpenOptions {
        ground_truth: Some(gt.clone()),
        unlabelled: Unlabelled::Reject,
    };
    let err = ImageSet::open(&images, &s, &options).unwrap_err();
    assert!(
        matches!(&err, DataError::UnlabelledImage { image, ground_truth }
            if image.ends_with("stray.png") && ground_truth == &gt),
        "{err}"
    );
    assert!(err.to_string().contains("stray.png"), "{err}");

    let allow = OpenOptions {
        ground_truth: Some(gt),
        unlabelled: Unlabelled::Allow,
    };
    let set = ImageSet::open(&images, &s, &allow).unwrap();
    assert_eq!(keys(&set), vec![("a.png", Some(2)), ("stray.png", None)]);
}

#[test]
fn flat_folder_without_any_ground_truth_needs_permission() {
    let tmp = tempfile::tempdir().unwrap();
    let s = synsets(tmp.path());
    let images = tmp.path().join("images");
    write_png(&images.join("a.png"));
    let err = ImageSet::open(&images, &s, &OpenOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no ground-truth file") && err.contains("val.txt"),
        "{err}"
    );
    let allow = OpenOptions {
        ground_truth: None,
        unlabelled: Unlabelled::Allow,
    };
    let set = ImageSet::open(&images, &s, &allow).unwrap();
    assert_eq!(keys(&set), vec![("a.png", None)]);
    assert_eq!(
        set.source(),
        &SetSource::FlatFolder {
            dir: images,
            ground_truth: None
        }
    );
}

#[test]
fn synset_folders_recurse_and_reject_unknown_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let s = synsets(tmp.path());
    let root = tmp.path().join("train");
    write_png(&root.join("n01484850/x.png"));
    write_png(&root.join("n01440764/b.JPEG"));
    write_png(&root.join("n01440764/deeper/a.jpg"));
    std::fs::write(root.join("n01440764/readme.md"), "x").unwrap();
    std::fs::write(root.join("LOC_synset_mapping.txt"), "x").unwrap();
    std::fs::create_dir_all(root.join(".cache")).unwrap();
    let set = ImageSet::open(&root, &s, &OpenOptions::default()).unwrap();
    assert_eq!(
        keys(&set),
        vec![
            ("n01440764/b.JPEG", Some(0)),
            ("n01440764/deeper/a.jpg", Some(0)),
            ("n01484850/x.png", Some(2)),
        ]
    );
    assert_eq!(set.entries()[1].path, root.join("n01440764/deeper/a.jpg"));

    write_png(&root.join("n09999999/y.png"));
    let err = ImageSet::open(&root, &s, &OpenOptions::default()).unwrap_err();
    assert!(
        matches!(&err, DataError::UnknownSynsetFolder { folder, .. } if folder.ends_with("n09999999")),
        "{err}"
    );
    assert!(err.to_string().contains("n09999999"), "{err}");
}

#[test]
fn ambiguous_and_empty_folders_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let s = synsets(tmp.path());
    let mixed = tmp.path().join("mixed");
    write_png(&mixed.join("a.png"));
    write_png(&mixed.join("n01440764/b.png"));
    let err = ImageSet::open(&mixed, &s, &OpenOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot tell"), "{err}");

    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    std::fs::write(empty.join("notes.txt"), "x").unwrap();
    let err = ImageSet::open(&empty, &s, &OpenOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("no images"), "{err}");

    let missing = tmp.path().join("missing");
    let err = ImageSet::open(&missing, &s, &OpenOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing"), "{err}");
}

#[test]
fn list_file_resolves_relative_paths_and_names_bad_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let s = synsets(tmp.path());
    let lists = tmp.path().join("lists");
    write_png(&lists.join("imgs/b.png"));
    write_png(&tmp.path().join("a.png"));
    let abs: PathBuf = tmp.path().join("a.png");
    let list = lists.join("eval.txt");
    std::fs::write(
        &list,
        format!("imgs/b.png n01443537\n   \n# c\n{} 2\n", abs.display()),
    )
    .unwrap();
    let set = ImageSet::open(&list, &s, &OpenOptions::default()).unwrap();
    let mut expected = vec![
        ("imgs/b.png".to_owned(), lists.join("imgs/b.png"), Some(1)),
        (abs.display().to_string(), abs.clone(), Some(2)),
    ];
    expected.sort();
    let got: Vec<_> = set
        .iter()
        .map(|e| (e.key.clone(), e.path.clone(), e.label))
        .collect();
    assert_eq!(got, expected);

    let error_for = |text: &str, unlabelled| {
        std::fs::write(&list, text).unwrap();
        ImageSet::list_file(&list, &s, unlabelled)
            .unwrap_err()
            .to_string()
    };
    let line2 = format!("{}:2:", list.display());
    let cases = [
        ("imgs/b.png 1\nimgs/missing.png 1\n", "does not exist"),
        ("imgs/b.png 1\nimgs/b.png 3\n", "class index 3"),
        (
            "imgs/b.png 1\nimgs/b.png n09999999\n",
            "unknown synset n09999999",
        ),
        ("imgs/b.png 1\nimgs/b.png fish\n", "\"fish\""),
        (
            "imgs/b.png 1\nimgs/b.png 1 extra\n",
            "expected `<path> [label]`",
        ),
        ("imgs/b.png 1\nimgs/b.png 1\n", "listed twice"),
        ("imgs/b.png 1\n../a.png\n", "has no label"),
    ];
    for (text, expected) in cases {
        let err = error_for(text, Unlabelled::Reject);
        assert!(
            err.starts_with(&line2) && err.contains(expected),
            "{text:?}: {err}"
        );
    }
    std::fs::write(&list, "imgs/b.png\n../a.png 0\n").unwrap();
    let set = ImageSet::list_file(&list, &s, Unlabelled::Allow).unwrap();
    assert_eq!(
        keys(&set),
        vec![("../a.png", Some(0)), ("imgs/b.png", None)]
    );
}
