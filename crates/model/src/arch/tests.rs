use super::*;

#[test]
fn every_tap_name_round_trips_in_both_vocabularies() {
    for variant in Variant::ALL {
        for tap in Tap::all() {
            let name = tap.name(variant);
            assert_eq!(Tap::parse(&name, variant).unwrap(), tap, "{name}");
        }
    }
}

#[test]
fn published_names_are_recognised() {
    use Variant::*;
    assert_eq!(
        Tap::parse("mixed3b", Lucid).unwrap(),
        Tap::mixed(Block::B3b)
    );
    assert_eq!(
        Tap::parse("mixed3b_5x5", Lucid).unwrap(),
        Tap::branch(Block::B3b, Branch::B5x5)
    );
    assert_eq!(
        Tap::parse("mixed3b_5x5_bottleneck_pre_relu", Lucid).unwrap(),
        Tap::pre_relu(Layer::Branch(Block::B3b, Branch::B5x5Reduce))
    );
    assert_eq!(
        Tap::parse("inception_3b_output", Bvlc).unwrap(),
        Tap::mixed(Block::B3b)
    );
    assert_eq!(
        Tap::parse("inception_3b", Bvlc).unwrap(),
        Tap::mixed(Block::B3b)
    );
    assert_eq!(Tap::parse("loss3_classifier", Bvlc).unwrap(), Tap::LOGITS);
    assert_eq!(
        Tap::parse("softmax2_pre_activation", Lucid).unwrap(),
        Tap::LOGITS
    );
}

#[test]
fn unknown_tap_lists_valid_names() {
    let err = Tap::parse("mixed3c", Variant::Lucid)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("mixed3c") && err.contains("mixed3b") && err.contains("conv2d0"),
        "{err}"
    );
    // The other model's vocabulary is not silently accepted.
    assert!(Tap::parse("mixed3b", Variant::Bvlc).is_err());
}

#[test]
fn widths_match_the_published_layer_depths() {
    // Lucid: conv2d0 64, conv2d1 64, conv2d2 192, mixed3a 256, 3b 480, 4a 508, 4b 512,
    // 4c 512, 4d 528, 4e 832, 5a 832, 5b 1024.
    let lucid: Vec<usize> = Block::ALL
        .iter()
        .map(|b| Variant::Lucid.widths(*b).output())
        .collect();
    assert_eq!(lucid, vec![256, 480, 508, 512, 512, 528, 832, 832, 1024]);
    let caffe: Vec<usize> = Block::ALL
        .iter()
        .map(|b| Variant::Bvlc.widths(*b).output())
        .collect();
    assert_eq!(caffe, vec![256, 480, 512, 512, 512, 528, 832, 832, 1024]);
    // 3b's curve detectors sit in the 5x5 branch, channels 320..416.
    let offsets = Variant::Lucid.widths(Block::B3b).offsets();
    assert_eq!(offsets[2], (Branch::B5x5, 320, 416));
}

#[test]
fn tf_same_padding_matches_tensorflow() {
    // conv2d0 at 224: 112 outputs, 5 pixels of padding, 2 before and 3 after.
    assert_eq!(window_padding(PaddingScheme::TfSame, 224, 7, 2, 0), (2, 3));
    assert_eq!(
        window_output(PaddingScheme::TfSame, 224, 7, 2, 0, false),
        112
    );
    // At 227: 114 outputs and symmetric padding (3, 3).
    assert_eq!(window_padding(PaddingScheme::TfSame, 227, 7, 2, 0), (3, 3));
    // maxpool0 at 112: 56 outputs, the extra pixel at the end.
    assert_eq!(window_padding(PaddingScheme::TfSame, 112, 3, 2, 0), (0, 1));
}

#[test]
fn caffe_ceil_pooling_matches_the_reference_shapes() {
    // The BVLC reference: 227 → conv1 114 → pool1 57 → pool2 28 → pool3 14 → pool4 7.
    let s = PaddingScheme::CaffeCeil;
    assert_eq!(window_output(s, 227, 7, 2, 3, false), 114);
    assert_eq!(window_output(s, 114, 3, 2, 0, true), 57);
    assert_eq!(window_output(s, 57, 3, 2, 0, true), 28);
    assert_eq!(window_output(s, 28, 3, 2, 0, true), 14);
    assert_eq!(window_output(s, 14, 3, 2, 0, true), 7);
}
