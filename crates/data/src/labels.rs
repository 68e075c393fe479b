//! Label maps: the sorted synset list (BVLC output order, and the canonical label of every image),
//! Google's inception5h output order, and [`ClassOrder`], which tells a model which of its outputs
//! is an image's ground-truth class.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::DataError;
use crate::pbtxt::{LabelMapEntry, parse_label_map};

/// Number of ImageNet ILSVRC-2012 classes.
pub const IMAGENET_CLASSES: usize = 1000;

/// Number of outputs of the inception5h classifier (`softmax2`): index 0 is "dummy", 1..=1000 are
/// the classes, 1001..=1007 are unused.
pub const INCEPTION5H_OUTPUTS: usize = 1008;

fn read_text(path: &Path) -> Result<String, DataError> {
    std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))
}

/// `true` for a WordNet id as ImageNet writes it: `n` followed by 8 digits.
pub fn is_wnid(s: &str) -> bool {
    s.len() == 9 && s.starts_with('n') && s[1..].bytes().all(|b| b.is_ascii_digit())
}

/// The ImageNet synsets in sorted-WNID order, from `synset_words.txt` (`n01440764 tench, Tinca
/// tinca`, one per line). A synset's position in this list is its *class index*: the BVLC
/// GoogLeNet output index, and the canonical label stored in every [`crate::ImageEntry`].
#[derive(Debug, Clone)]
pub struct Synsets {
    wnids: Vec<String>,
    names: Vec<String>,
    index_of_wnid: HashMap<String, usize>,
    source: PathBuf,
}

impl Synsets {
    /// Reads `synset_words.txt`.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, DataError> {
        let path = path.as_ref();
        Self::parse(&read_text(path)?, path)
    }

    /// Parses the text of a `synset_words.txt`; `source` names it in error messages.
    ///
    /// Each non-empty line is a WNID, whitespace, and a non-empty name. WNIDs must be unique and
    /// in ascending order (the order *is* the class index, so a shuffled file is refused).
    pub fn parse(text: &str, source: &Path) -> Result<Self, DataError> {
        let mut wnids: Vec<String> = Vec::new();
        let mut names = Vec::new();
        let mut index_of_wnid = HashMap::new();
        for (line_index, line) in text.lines().enumerate() {
            let line_number = line_index + 1;
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let (wnid, name) = line.split_once(char::is_whitespace).ok_or_else(|| {
                DataError::parse(
                    source,
                    line_number,
                    format!("expected `<wnid> <name>`, found {line:?}"),
                )
            })?;
            let name = name.trim();
            if !is_wnid(wnid) {
                return Err(DataError::parse(
                    source,
                    line_number,
                    format!(
                        "expected a WNID like n01440764 at the start of the line, found {wnid:?}"
                    ),
                ));
            }
            if let Some(previous) = wnids.last()
                && wnid <= previous.as_str()
            {
                return Err(DataError::parse(
                    source,
                    line_number,
                    format!(
                        "synset {wnid} comes after {previous}: the list must be in ascending WNID \
                         order without repeats (the order defines the class index)"
                    ),
                ));
            }
            index_of_wnid.insert(wnid.to_owned(), wnids.len());
            wnids.push(wnid.to_owned());
            names.push(name.to_owned());
        }
        if wnids.is_empty() {
            return Err(DataError::invalid_file(source, "no synsets listed"));
        }
        Ok(Self {
            wnids,
            names,
            index_of_wnid,
            source: source.to_path_buf(),
        })
    }

    /// Number of synsets (1000 for ImageNet).
    pub fn len(&self) -> usize {
        self.wnids.len()
    }

    /// `true` if there are no synsets (never, for a successfully parsed list).
    pub fn is_empty(&self) -> bool {
        self.wnids.is_empty()
    }

    /// The file the list was read from.
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// The WNID of class `index`.
    pub fn wnid(&self, index: usize) -> Option<&str> {
        self.wnids.get(index).map(String::as_str)
    }

    /// The full name of class `index` as written in the file, e.g. `tench, Tinca tinca`.
    pub fn name(&self, index: usize) -> Option<&str> {
        self.names.get(index).map(String::as_str)
    }

    /// The first comma-separated alias of class `index`, e.g. `tench`.
    pub fn short_name(&self, index: usize) -> Option<&str> {
        self.name(index)
            .map(|name| name.split(',').next().unwrap_or(name).trim())
    }

    /// The class index of a WNID, if listed.
    pub fn index_of(&self, wnid: &str) -> Option<usize> {
        self.index_of_wnid.get(wnid).copied()
    }

    /// The class index of a WNID, or an error naming it and this list's file.
    pub fn lookup(&self, wnid: &str) -> Result<usize, DataError> {
        self.index_of(wnid).ok_or_else(|| DataError::UnknownWnid {
            wnid: wnid.to_owned(),
            synsets: self.source.clone(),
        })
    }

    /// `Ok(index)` if `index` is a valid class index, else an error naming it.
    pub fn check_index(&self, index: usize) -> Result<usize, DataError> {
        if index < self.len() {
            Ok(index)
        } else {
            Err(DataError::ClassOutOfRange {
                class: index,
                num_classes: self.len(),
                context: self.source.display().to_string(),
            })
        }
    }

    /// Iterates `(class index, WNID, full name)` in class order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &str, &str)> {
        self.wnids
            .iter()
            .zip(&self.names)
            .enumerate()
            .map(|(i, (w, n))| (i, w.as_str(), n.as_str()))
    }
}

/// Google's inception5h output order: the `LabelMap` `.pbtxt` (WNID → target class 1..=1000) and
/// the label strings (`imagenet_comp_graph_label_strings.txt`, one per output, line 0 `dummy`).
#[derive(Debug, Clone)]
pub struct Inception5hLabels {
    /// `(target class, WNID, pbtxt line)` in file order.
    entries: Vec<LabelMapEntry>,
    target_of_wnid: HashMap<String, usize>,
    /// Label string per output index; shorter than [`INCEPTION5H_OUTPUTS`] when the file omits the
    /// unused tail.
    label_strings: Vec<String>,
    label_map_path: PathBuf,
}

impl Inception5hLabels {
    /// Reads the label map `.pbtxt` and the label strings file.
    pub fn load(
        label_map_pbtxt: impl AsRef<Path>,
        label_strings_txt: impl AsRef<Path>,
    ) -> Result<Self, DataError> {
        let map_path = label_map_pbtxt.as_ref();
        let strings_path = label_strings_txt.as_ref();
        let entries = parse_label_map(&read_text(map_path)?, map_path)?;
        let label_strings = parse_label_strings(&read_text(strings_path)?, strings_path)?;
        Self::from_parts(entries, label_strings, map_path)
    }

    /// Builds the map from parsed parts; `label_map_path` names the `.pbtxt` in errors.
    ///
    /// Every target class must be in 1..=1000 (0 is "dummy", 1001..=1007 unused), and neither a
    /// WNID nor a target class may appear twice.
    pub fn from_parts(
        entries: Vec<LabelMapEntry>,
        label_strings: Vec<String>,
        label_map_path: &Path,
    ) -> Result<Self, DataError> {
        let mut target_of_wnid = HashMap::new();
        let mut line_of_target: HashMap<u32, usize> = HashMap::new();
        for entry in &entries {
            let wnid = &entry.target_class_string;
            if !is_wnid(wnid) {
                return Err(DataError::parse(
                    label_map_path,
                    entry.line,
                    format!("target_class_string {wnid:?} is not a WNID like n01440764"),
                ));
            }
            if !(1..=IMAGENET_CLASSES as u32).contains(&entry.target_class) {
                return Err(DataError::parse(
                    label_map_path,
                    entry.line,
                    format!(
                        "target_class {} for {wnid} is outside 1..=1000 (0 is \"dummy\", \
                         1001..=1007 are unused)",
                        entry.target_class
                    ),
                ));
            }
            if let Some(first) = line_of_target.insert(entry.target_class, entry.line) {
                return Err(DataError::parse(
                    label_map_path,
                    entry.line,
                    format!(
                        "target_class {} is used twice (first at line {first})",
                        entry.target_class
                    ),
                ));
            }
            if target_of_wnid
                .insert(wnid.clone(), entry.target_class as usize)
                .is_some()
            {
                return Err(DataError::parse(
                    label_map_path,
                    entry.line,
                    format!("synset {wnid} is mapped twice"),
                ));
            }
        }
        Ok(Self {
            entries,
            target_of_wnid,
            label_strings,
            label_map_path: label_map_path.to_path_buf(),
        })
    }

    /// The inception5h output index of a WNID, if the label map has it.
    pub fn output_of_wnid(&self, wnid: &str) -> Option<usize> {
        self.target_of_wnid.get(wnid).copied()
    }

    /// The label string of inception5h output `index` (`"dummy"` for 0; `None` for the unused
    /// outputs 1001..=1007 and out-of-range indices).
    pub fn label_string(&self, index: usize) -> Option<&str> {
        if index > IMAGENET_CLASSES {
            return None;
        }
        self.label_strings.get(index).map(String::as_str)
    }

    /// The label-map entries in file order.
    pub fn entries(&self) -> &[LabelMapEntry] {
        &self.entries
    }

    /// The `.pbtxt` the map was read from.
    pub fn label_map_path(&self) -> &Path {
        &self.label_map_path
    }
}

/// Parses `imagenet_comp_graph_label_strings.txt`: one label per output index, starting with
/// `dummy` at index 0; 1001 to 1008 lines (the unused outputs may be omitted). A final newline is
/// optional; `\r\n` line ends are accepted.
pub fn parse_label_strings(text: &str, path: &Path) -> Result<Vec<String>, DataError> {
    let text = text.strip_suffix('\n').unwrap_or(text);
    let labels: Vec<String> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l).to_owned())
        .collect();
    if labels.first().map(String::as_str) != Some("dummy") {
        return Err(DataError::parse(
            path,
            1,
            format!(
                "expected `dummy` (output 0 of inception5h), found {:?}",
                labels.first().map(String::as_str).unwrap_or("")
            ),
        ));
    }
    if !(IMAGENET_CLASSES + 1..=INCEPTION5H_OUTPUTS).contains(&labels.len()) {
        return Err(DataError::invalid_file(
            path,
            format!(
                "expected 1001 to 1008 label lines (dummy, 1000 classes, unused outputs), found {}",
                labels.len()
            ),
        ));
    }
    if let Some(empty) = labels[..=IMAGENET_CLASSES]
        .iter()
        .position(String::is_empty)
    {
        return Err(DataError::parse(
            path,
            empty + 1,
            format!("empty label for output {empty}"),
        ));
    }
    Ok(labels)
}

/// The output layout of one model: which output index is a class's, and what each output is
/// called. Images are labelled canonically by sorted-synset class index; a `ClassOrder` turns that
/// into the index to compare with the model's arg-max.
#[derive(Debug, Clone)]
pub struct ClassOrder {
    name: String,
    /// Output index of each class (indexed by sorted-synset class index).
    output_of_class: Vec<Option<usize>>,
    /// Class index of each output (`None` for "dummy" and unused outputs).
    class_of_output: Vec<Option<usize>>,
    /// Name of each output (`None` for unused outputs).
    output_names: Vec<Option<String>>,
    class_wnids: Vec<String>,
    class_names: Vec<String>,
    synsets_source: PathBuf,
}

impl ClassOrder {
    /// The BVLC / Caffe order: output `i` is sorted-synset class `i`; outputs are named by the
    /// full `synset_words.txt` names.
    pub fn sorted_synsets(synsets: &Synsets) -> Self {
        let n = synsets.len();
        Self {
            name: "sorted-synset (BVLC)".to_owned(),
            output_of_class: (0..n).map(Some).collect(),
            class_of_output: (0..n).map(Some).collect(),
            output_names: synsets.names.iter().cloned().map(Some).collect(),
            class_wnids: synsets.wnids.clone(),
            class_names: synsets.names.clone(),
            synsets_source: synsets.source.clone(),
        }
    }

    /// The inception5h order: [`INCEPTION5H_OUTPUTS`] outputs, 0 = "dummy", 1..=1000 classes in
    /// Google's label-map order, 1001..=1007 unused. Outputs are named by Google's label strings.
    ///
    /// Every WNID in the label map must be a listed synset (otherwise the files do not belong
    /// together and this is an error naming the WNID and its `.pbtxt` line). Synsets the label map
    /// lacks are allowed here; asking for their output is an error naming the class.
    pub fn inception5h(synsets: &Synsets, labels: &Inception5hLabels) -> Result<Self, DataError> {
        let mut output_of_class = vec![None; synsets.len()];
        let mut class_of_output = vec![None; INCEPTION5H_OUTPUTS];
        for entry in &labels.entries {
            let class = synsets
                .index_of(&entry.target_class_string)
                .ok_or_else(|| {
                    DataError::parse(
                        &labels.label_map_path,
                        entry.line,
                        format!(
                            "synset {} is not listed in {}",
                            entry.target_class_string,
                            synsets.source().display()
                        ),
                    )
                })?;
            let output = entry.target_class as usize;
            output_of_class[class] = Some(output);
            class_of_output[output] = Some(class);
        }
        let output_names = (0..INCEPTION5H_OUTPUTS)
            .map(|i| labels.label_string(i).map(str::to_owned))
            .collect();
        Ok(Self {
            name: "inception5h".to_owned(),
            output_of_class,
            class_of_output,
            output_names,
            class_wnids: synsets.wnids.clone(),
            class_names: synsets.names.clone(),
            synsets_source: synsets.source.clone(),
        })
    }

    /// A short name for reports and error messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of model outputs (1000 for BVLC, 1008 for inception5h).
    pub fn num_outputs(&self) -> usize {
        self.class_of_output.len()
    }

    /// Number of classes (sorted synsets).
    pub fn num_classes(&self) -> usize {
        self.output_of_class.len()
    }

    /// The output index whose score is class `class` (a sorted-synset index). Errors name the class
    /// if it is out of range or has no output in this order.
    pub fn output_of_class(&self, class: usize) -> Result<usize, DataError> {
        let slot = self
            .output_of_class
            .get(class)
            .ok_or_else(|| DataError::ClassOutOfRange {
                class,
                num_classes: self.num_classes(),
                context: format!("the {} class order", self.name),
            })?;
        slot.ok_or_else(|| DataError::NoOutputForClass {
            class,
            wnid: self.class_wnids[class].clone(),
            name: self.class_names[class].clone(),
            order: self.name.clone(),
        })
    }

    /// The output index of a WNID. Errors name the WNID if it is not a known synset, or the class
    /// if it has no output in this order.
    pub fn output_of_wnid(&self, wnid: &str) -> Result<usize, DataError> {
        let class = self
            .class_wnids
            .binary_search_by(|w| w.as_str().cmp(wnid))
            .map_err(|_| DataError::UnknownWnid {
                wnid: wnid.to_owned(),
                synsets: self.synsets_source.clone(),
            })?;
        self.output_of_class(class)
    }

    /// The sorted-synset class of output `output` (`None` for "dummy", unused or out-of-range).
    pub fn class_of_output(&self, output: usize) -> Option<usize> {
        self.class_of_output.get(output).copied().flatten()
    }

    /// The name of output `output` (`None` for unused or out-of-range outputs).
    pub fn output_name(&self, output: usize) -> Option<&str> {
        self.output_names.get(output)?.as_deref()
    }

    /// The ground-truth output index for an image's label: `Ok(None)` for an unlabelled image.
    pub fn target_output(&self, label: Option<usize>) -> Result<Option<usize>, DataError> {
        label.map(|class| self.output_of_class(class)).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn synsets(text: &str) -> Synsets {
        Synsets::parse(text, Path::new("synset_words.txt")).unwrap()
    }

    #[test]
    fn synset_lookups() {
        let s = synsets("n01440764 tench, Tinca tinca\n\nn01443537 goldfish, Carassius auratus\n");
        assert_eq!(s.len(), 2);
        assert_eq!(s.index_of("n01443537"), Some(1));
        assert_eq!(s.wnid(0), Some("n01440764"));
        assert_eq!(s.name(0), Some("tench, Tinca tinca"));
        assert_eq!(s.short_name(1), Some("goldfish"));
        assert_eq!(s.index_of("n99999999"), None);
        let err = s.lookup("n99999999").unwrap_err().to_string();
        assert!(
            err.contains("n99999999") && err.contains("synset_words.txt"),
            "{err}"
        );
        assert!(
            s.check_index(2)
                .unwrap_err()
                .to_string()
                .contains("class index 2")
        );
    }

    #[test]
    fn synset_list_errors_name_the_line() {
        let parse = |t: &str| {
            Synsets::parse(t, Path::new("words.txt"))
                .unwrap_err()
                .to_string()
        };
        let unsorted = parse("n01443537 goldfish\nn01440764 tench\n");
        assert!(unsorted.starts_with("words.txt:2:"), "{unsorted}");
        let repeated = parse("n01440764 tench\nn01440764 tench\n");
        assert!(repeated.starts_with("words.txt:2:"), "{repeated}");
        let bad_wnid = parse("n01440764 tench\ngoldfish n01443537\n");
        assert!(
            bad_wnid.starts_with("words.txt:2:") && bad_wnid.contains("\"goldfish\""),
            "{bad_wnid}"
        );
        let no_name = parse("n01440764\n");
        assert!(no_name.starts_with("words.txt:1:"), "{no_name}");
        assert!(parse("\n\n").contains("no synsets"));
    }

    fn strings_1001() -> Vec<String> {
        let mut s = vec!["dummy".to_owned()];
        s.extend((1..=1000).map(|i| format!("label{i}")));
        s
    }

    #[test]
    fn label_strings_format() {
        let mut text = strings_1001().join("\r\n");
        let parsed = parse_label_strings(&text, Path::new("l.txt")).unwrap();
        assert_eq!(parsed.len(), 1001);
        assert_eq!(parsed[1000], "label1000");
        text.push('\n');
        assert_eq!(
            parse_label_strings(&text, Path::new("l.txt"))
                .unwrap()
                .len(),
            1001
        );

        let short = strings_1001()[..1000].join("\n");
        let err = parse_label_strings(&short, Path::new("l.txt"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("found 1000"), "{err}");
        let no_dummy = strings_1001()[1..].join("\n");
        let err = parse_label_strings(&no_dummy, Path::new("l.txt"))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("l.txt:1:") && err.contains("dummy"),
            "{err}"
        );
    }

    fn entry(target_class: u32, wnid: &str, line: usize) -> LabelMapEntry {
        LabelMapEntry {
            target_class,
            target_class_string: wnid.to_owned(),
            line,
        }
    }

    #[test]
    fn label_map_rejects_bad_targets_and_duplicates() {
        let path = Path::new("map.pbtxt");
        let build = |entries| {
            Inception5hLabels::from_parts(entries, strings_1001(), path)
                .unwrap_err()
                .to_string()
        };
        let zero = build(vec![entry(0, "n01440764", 7)]);
        assert!(
            zero.starts_with("map.pbtxt:7:") && zero.contains("dummy"),
            "{zero}"
        );
        let unused = build(vec![entry(1001, "n01440764", 3)]);
        assert!(unused.contains("outside 1..=1000"), "{unused}");
        let twice = build(vec![entry(5, "n01440764", 2), entry(5, "n01443537", 6)]);
        assert!(
            twice.starts_with("map.pbtxt:6:") && twice.contains("line 2"),
            "{twice}"
        );
        let wnid_twice = build(vec![entry(5, "n01440764", 2), entry(6, "n01440764", 6)]);
        assert!(wnid_twice.contains("mapped twice"), "{wnid_twice}");
        let not_wnid = build(vec![entry(5, "tench", 2)]);
        assert!(not_wnid.contains("not a WNID"), "{not_wnid}");
    }

    #[test]
    fn class_orders_map_and_report_missing_classes() {
        let s = synsets(
            "n01440764 tench, Tinca tinca\nn01443537 goldfish\nn01484850 great white shark\n",
        );
        let bvlc = ClassOrder::sorted_synsets(&s);
        assert_eq!(bvlc.num_outputs(), 3);
        assert_eq!(bvlc.output_of_class(2).unwrap(), 2);
        assert_eq!(bvlc.output_name(0), Some("tench, Tinca tinca"));
        assert_eq!(bvlc.output_of_wnid("n01443537").unwrap(), 1);

        let labels = Inception5hLabels::from_parts(
            vec![entry(449, "n01440764", 1), entry(450, "n01443537", 5)],
            strings_1001(),
            Path::new("map.pbtxt"),
        )
        .unwrap();
        let google = ClassOrder::inception5h(&s, &labels).unwrap();
        assert_eq!(google.num_outputs(), INCEPTION5H_OUTPUTS);
        assert_eq!(google.num_classes(), 3);
        assert_eq!(google.output_of_class(0).unwrap(), 449);
        assert_eq!(google.target_output(Some(1)).unwrap(), Some(450));
        assert_eq!(google.target_output(None).unwrap(), None);
        assert_eq!(google.class_of_output(450), Some(1));
        assert_eq!(google.class_of_output(0), None);
        assert_eq!(google.output_name(0), Some("dummy"));
        assert_eq!(google.output_name(449), Some("label449"));
        assert_eq!(google.output_name(1001), None);
        let missing = google.output_of_class(2).unwrap_err().to_string();
        assert!(
            missing.contains("class 2")
                && missing.contains("n01484850")
                && missing.contains("great white shark"),
            "{missing}"
        );
        let out_of_range = google.output_of_class(3).unwrap_err().to_string();
        assert!(out_of_range.contains("class index 3"), "{out_of_range}");
        assert!(google.output_of_wnid("n00000001").is_err());

        let foreign = Inception5hLabels::from_parts(
            vec![entry(3, "n09999999", 9)],
            strings_1001(),
            Path::new("map.pbtxt"),
        )
        .unwrap();
        let err = ClassOrder::inception5h(&s, &foreign)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("map.pbtxt:9:") && err.contains("n09999999"),
            "{err}"
        );
    }
}
