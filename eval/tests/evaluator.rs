//! The evaluator on the real BVLC weights and a few real validation images.
use std::sync::Arc;

use aann_data::{ClassOrder, GroundTruth, ImageSet, Synsets, Unlabelled};
use aann_eval::lab::Feed;
use aann_eval::lab::{Ablation, ArmInfo, ArmKind};
use aann_eval::records::read_records;
use aann_eval::{Evaluator, RunManifest, RunOptions, run_conditions};
use aann_model::{
    Block, ChannelSet, Condition, Edit, InceptionV1, Intervention, Layer, Replacement,
    ReplacementInputs, Tap, Variant,
};
use aann_testkit::{shared_data, test_cache};
use aann_weights::WeightCache;
use burn::tensor::{Device, Tensor, TensorData};

fn model() -> InceptionV1 {
    let cache = WeightCache::new(test_cache());
    InceptionV1::load(
        Variant::Bvlc,
        &shared_data().join("googlenet-bvlc/params"),
        &cache,
        &Device::default(),
    )
    .unwrap()
}

fn val_images(n: usize) -> (ImageSet, ClassOrder) {
    let synsets = Synsets::load(shared_data().join("imagenet-val/synset_words.txt")).unwrap();
    let gt = GroundTruth::load(shared_data().join("imagenet-val/val.txt"), 1000).unwrap();
    let set = ImageSet::flat_folder(
        shared_data().join("imagenet-val/images"),
        Some(&gt),
        Unlabelled::Reject,
    )
    .unwrap()
    .limit(n);
    (set, ClassOrder::sorted_synsets(&synsets))
}

/// A stand-in for 3b channels computed from this run's 3a output: the mean over 3a's
/// channels, shifted per replaced channel. Reads an earlier tap, as circuits do.
struct MeanOf3a;

impl Replacement for MeanOf3a {
    fn name(&self) -> String {
        "mean-of-3a".into()
    }
    fn reads(&self) -> Vec<Tap> {
        vec![Tap::mixed(Block::B3a)]
    }
    fn compute(&self, inputs: &ReplacementInputs<'_>) -> Tensor<4> {
        let x = inputs.tap(Tap::mixed(Block::B3a)).clone();
        let k = inputs.channels.len();
        let m = x.mean_dim(1);
        let shifts: Vec<f32> = (0..k).map(|i| i as f32).collect();
        m + Tensor::<4>::from_data(TensorData::new(shifts, [1, k, 1, 1]), inputs.device)
    }
}

fn conditions() -> Vec<Condition> {
    let curves = ChannelSet::new(vec![3, 70, 200, 321, 400]);
    vec![
        Condition::new(
            "zero",
            vec![Edit {
                tap: Tap::mixed(Block::B3b),
                channels: curves.clone(),
                intervention: Intervention::ZeroAblate,
            }],
        ),
        Condition::new(
            "replace",
            vec![Edit {
                tap: Tap::mixed(Block::B3b),
                channels: curves.clone(),
                intervention: Intervention::Replace(Arc::new(MeanOf3a)),
            }],
        ),
        Condition::new(
            "scale-4a-and-clamp-5a",
            vec![
                Edit {
                    tap: Tap::mixed(Block::B4a),
                    channels: ChannelSet::new((0..50).collect()),
                    intervention: Intervention::Scale(2.0),
                },
                Edit {
                    tap: Tap::mixed(Block::B5a),
                    channels: ChannelSet::new(vec![1, 2, 3]),
                    intervention: Intervention::Clamp {
                        min: None,
                        max: Some(1.0),
                    },
                },
            ],
        ),
        Condition::new(
            "branch-5x5",
            vec![Edit {
                tap: Tap::branch(Block::B3b, aann_model::Branch::B5x5),
                channels: ChannelSet::new(vec![0, 1]),
                intervention: Intervention::ZeroAblate,
            }],
        ),
    ]
}

fn batch(set: &ImageSet, model: &InceptionV1) -> (Tensor<4>, Vec<String>) {
    let pre = Variant::Bvlc.preprocess();
    let b = aann_data::load_batch(set.entries(), 0, &pre);
    assert!(b.failures.is_empty());
    let keys = b.entries.iter().map(|e| e.key.clone()).collect();
    (
        Tensor::from_data(TensorData::new(b.pixels.clone(), b.shape()), model.device()),
        keys,
    )
}

/// Evaluate with prefix reuse and as independent full passes; assert every condition's
/// logits agree within 1e-5 and return the largest difference of each.
fn prefix_reuse_max_difference(
    evaluator: &Evaluator<'_>,
    input: Tensor<4>,
    keys: &[String],
) -> Vec<f32> {
    let reused = evaluator.evaluate(input.clone(), keys).unwrap();
    let independent = evaluator.evaluate_independently(input, keys).unwrap();
    assert_eq!(reused.len(), independent.len());
    let mut out = Vec::new();
    for (i, (a, b)) in reused.into_iter().zip(independent).enumerate() {
        let a = a.into_data().try_to_vec::<f32>().unwrap();
        let b = b.into_data().try_to_vec::<f32>().unwrap();
        let diff = a
            .iter()
            .zip(&b)
            .fold(0f32, |m, (x, y)| m.max((x - y).abs()));
        assert!(diff <= 1e-5, "condition {i}: max |diff| {diff}");
        out.push(diff);
    }
    out
}

#[test]
fn prefix_reuse_equals_independent_full_passes() {
    let model = model();
    let (set, _) = val_images(2);
    let (input, keys) = batch(&set, &model);
    let evaluator = Evaluator::new(&model, conditions()).unwrap();
    // 3b's 5x5 branch is inside block 3b: the shared prefix ends at 3a's output.
    assert_eq!(evaluator.checkpoint(), Tap::mixed(Block::B3a));
    assert_eq!(
        prefix_reuse_max_difference(&evaluator, input, &keys).len(),
        5
    );
}

#[test]
fn arms_stacked_in_one_batch_equal_arms_run_one_by_one() {
    // Stacks of 2 (the last one short) and of all 5 conditions, each condition's edits and
    // its replacement's reads (3a, from the shared prefix) confined to its own rows.
    let model = model();
    let (set, _) = val_images(2);
    let (input, keys) = batch(&set, &model);
    let one = Evaluator::new(&model, conditions())
        .unwrap()
        .evaluate(input.clone(), &keys)
        .unwrap();
    for k in [2, 5] {
        let stacked = Evaluator::new(&model, conditions())
            .unwrap()
            .with_arms_per_pass(k)
            .evaluate(input.clone(), &keys)
            .unwrap();
        assert_eq!(stacked.len(), 5);
        for (i, (a, b)) in one.iter().zip(stacked).enumerate() {
            assert_eq!(b.dims(), [2, 1000]);
            let a = a.clone().into_data().try_to_vec::<f32>().unwrap();
            let b = b.into_data().try_to_vec::<f32>().unwrap();
            // Bit for bit: stacking changes the batch, not any image's arithmetic.
            assert!(
                a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()),
                "{k} per pass, condition {i} differs"
            );
        }
    }
}

/// `tap`'s value in a pass of `condition` (after the condition's edits there).
fn edited_tap(
    model: &InceptionV1,
    condition: &Condition,
    keys: &[String],
    input: Tensor<4>,
    tap: Tap,
) -> Tensor<4> {
    let mut hooks = aann_model::ConditionHooks::new(
        condition,
        Variant::Bvlc,
        model.device(),
        keys,
        Default::default(),
    );
    let mut rec = aann_model::Recorder::through(&[tap]);
    struct Both<'a, 'b>(
        &'a mut aann_model::ConditionHooks<'b>,
        &'a mut aann_model::Recorder,
    );
    impl aann_model::Hooks for Both<'_, '_> {
        fn wants(&self, t: Tap) -> bool {
            self.0.wants(t) || self.1.wants(t)
        }
        fn at(&mut self, t: Tap, x: Tensor<4>) -> Result<Tensor<4>, aann_model::Halt> {
            let x = self.0.at(t, x)?;
            self.1.at(t, x)
        }
    }
    model
        .run(Tap::INPUT, input, &mut Both(&mut hooks, &mut rec))
        .unwrap();
    rec.take(tap).unwrap()
}

#[test]
fn conditions_change_what_they_should() {
    let model = model();
    let (set, _) = val_images(1);
    let (input, keys) = batch(&set, &model);
    // Zero-ablating a channel at 3b is seen in 3b's output and nowhere before.
    let cond = &conditions()[0];
    let edited = edited_tap(&model, cond, &keys, input.clone(), Tap::mixed(Block::B3b));
    let natural = model.activations(input, &[Tap::mixed(Block::B3b)]).unwrap()
        [&Tap::mixed(Block::B3b)]
        .clone();
    let e = edited.into_data().try_to_vec::<f32>().unwrap();
    let n = natural.into_data().try_to_vec::<f32>().unwrap();
    let plane = 28 * 28;
    for c in 0..480 {
        let (es, ns) = (
            &e[c * plane..(c + 1) * plane],
            &n[c * plane..(c + 1) * plane],
        );
        if [3, 70, 200, 321, 400].contains(&c) {
            assert!(es.iter().all(|v| *v == 0.0), "channel {c} zeroed");
        } else {
            assert_eq!(es, ns, "channel {c} untouched");
        }
    }
    let _ = Layer::Input;
}

/// The lineage's stacked arms: a replacement at 3b that reads 3a must read 3a as its own
/// condition left it (here zero-ablated entirely), not the natural value, through the
/// evaluator's shared prefix as through a plain pass.
#[test]
fn a_replacement_reads_the_earlier_tap_as_its_condition_edited_it() {
    let model = model();
    let (set, _) = val_images(2);
    let (input, keys) = batch(&set, &model);
    let all_3a = ChannelSet::new((0..256).collect());
    let replaced = ChannelSet::new(vec![3, 70]);
    let stacked = Condition::new(
        "3a-zeroed-then-3b-from-3a",
        vec![
            Edit {
                tap: Tap::mixed(Block::B3a),
                channels: all_3a,
                intervention: Intervention::ZeroAblate,
            },
            Edit {
                tap: Tap::mixed(Block::B3b),
                channels: replaced.clone(),
                intervention: Intervention::Replace(Arc::new(MeanOf3a)),
            },
        ],
    );
    let alone = Condition::new(
        "3b-from-natural-3a",
        vec![Edit {
            tap: Tap::mixed(Block::B3b),
            channels: replaced,
            intervention: Intervention::Replace(Arc::new(MeanOf3a)),
        }],
    );
    let at_3b = |condition: &Condition| {
        edited_tap(
            &model,
            condition,
            &keys,
            input.clone(),
            Tap::mixed(Block::B3b),
        )
        .into_data()
        .try_to_vec::<f32>()
        .unwrap()
    };
    let plane = 28 * 28;
    let image = 480 * plane;
    let stacked_3b = at_3b(&stacked);
    let alone_3b = at_3b(&alone);
    for i in 0..2 {
        // The mean of an all-zero 3a plus each channel's shift: exactly 0 and 1.
        for (c, shift) in [(3, 0.0f32), (70, 1.0)] {
            let s = &stacked_3b[i * image + c * plane..i * image + (c + 1) * plane];
            assert!(s.iter().all(|v| *v == shift), "image {i} channel {c}");
            let a = &alone_3b[i * image + c * plane..i * image + (c + 1) * plane];
            assert!(a.iter().any(|v| *v != shift), "natural 3a is not all zero");
        }
    }
    // Through the evaluator: its shared prefix ends at 3a at the latest (the edit there
    // is applied as the suffix starts), and the logits equal a plain pass of each
    // condition.
    let evaluator = Evaluator::new(&model, vec![stacked, alone]).unwrap();
    assert!(evaluator.checkpoint().order() <= Tap::mixed(Block::B3a).order());
    prefix_reuse_max_difference(&evaluator, input, &keys);
}

/// A session on BVLC's real weights, its statistics cached in `cache`.
fn session(cache: &std::path::Path) -> aann_eval::lab::Session {
    use aann_eval::lab::{Session, SessionConfig, WeightsChoice};
    Session::open(&SessionConfig {
        weights: WeightsChoice::Path(shared_data().join("googlenet-bvlc/params")),
        data_root: Some(shared_data()),
        cache_dir: Some(cache.to_path_buf()),
        ..SessionConfig::new(Variant::Bvlc)
    })
    .unwrap()
}

fn manifest(set: &ImageSet) -> RunManifest {
    let zero = ArmInfo {
        name: "zero".into(),
        kind: ArmKind::Ablate {
            ablation: Ablation::Zero,
        },
        description: String::new(),
    };
    RunManifest::new(
        "bvlc",
        "test",
        set.source().to_string(),
        &aann_data::content_digest(set).unwrap(),
        &Variant::Bvlc.preprocess(),
        vec![ArmInfo::baseline(), zero],
        serde_json::json!({}),
    )
}

#[test]
fn an_interrupted_run_resumes_to_exactly_the_uninterrupted_records() {
    let cache = tempfile::tempdir().unwrap();
    let session = session(cache.path());
    let model = session.model();
    let (set, order) = val_images(6);
    let conds = vec![conditions().remove(0)];
    let evaluator = Evaluator::new(model, conds).unwrap();
    let feed = Feed::new(&session, Variant::Bvlc.preprocess(), 2);
    let opts = RunOptions {
        progress: false,
        ..Default::default()
    };

    // The run of these arms on these images into `dir`, as `options` say.
    let run = |dir: &std::path::Path, options: &RunOptions| {
        run_conditions(
            &feed,
            &evaluator,
            &set,
            &order,
            &manifest(&set),
            dir,
            options,
        )
        .unwrap()
    };
    let whole = tempfile::tempdir().unwrap();
    run(whole.path(), &opts);

    let parts = tempfile::tempdir().unwrap();
    let interrupted = RunOptions {
        stop_after_batches: Some(2),
        ..opts.clone()
    };
    let first = run(parts.path(), &interrupted);
    assert!(first.interrupted);
    assert_eq!(first.images_evaluated, 4);
    // A crash in the middle of the next write leaves a torn line behind.
    let path = parts.path().join("records.jsonl");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("{\"image\":\"ILSVRC2012_val_0000");
    std::fs::write(&path, text).unwrap();
    let second = run(parts.path(), &opts);
    assert_eq!((second.images_resumed, second.images_evaluated), (4, 2));
    // Running again finds nothing to do.
    let third = run(parts.path(), &opts);
    assert_eq!(third.images_evaluated, 0);

    let mut a = read_records(whole.path()).unwrap();
    let mut b = read_records(parts.path()).unwrap();
    assert_eq!(a.len(), 12);
    let raw_lines = std::fs::read_to_string(&path).unwrap().lines().count();
    assert_eq!(raw_lines, 12, "no record is written twice");
    a.sort_by(|x, y| (&x.image, &x.condition).cmp(&(&y.image, &y.condition)));
    b.sort_by(|x, y| (&x.image, &x.condition).cmp(&(&y.image, &y.condition)));
    assert_eq!(a, b);
}

/// Cached statistics are keyed by what they are computed from: two different subsets of
/// the same size from one folder never share an entry, and a repeated request hits it.
#[test]
fn two_subsets_of_one_size_never_share_cached_statistics() {
    let cache = tempfile::tempdir().unwrap();
    let session = session(cache.path());
    let (set, _) = val_images(8);
    let first = set.limit(4);
    let second = set.skip(4);
    let preprocess = Variant::Bvlc.preprocess();
    let tap = Tap::mixed(Block::B3a);
    let feed = Feed::new(&session, preprocess, 4);
    let a = aann_eval::means::stats(&feed, &first, tap).unwrap();
    let b = aann_eval::means::stats(&feed, &second, tap).unwrap();
    assert_eq!(a.images, 4);
    assert_eq!(b.images, 4);
    assert_ne!(a.mean, b.mean, "different images give different means");
    let entries = std::fs::read_dir(cache.path().join("stats"))
        .unwrap()
        .count();
    assert_eq!(entries, 2, "one cache entry per subset");
    // The same subset again is read from the cache, unchanged.
    assert_eq!(aann_eval::means::stats(&feed, &first, tap).unwrap(), a);
    // Read back exactly (floats round-trip through the JSON cache).
    assert_eq!(aann_eval::means::stats(&feed, &second, tap).unwrap(), b);
}
