//! Print the shape of every tensor in a weight source, or of every `.mat`/`.npy` in a folder.
fn main() {
    for arg in std::env::args().skip(1) {
        let path = std::path::PathBuf::from(&arg);
        if path.is_dir()
            && std::fs::read_dir(&path)
                .unwrap()
                .any(|e| e.unwrap().path().extension().is_some_and(|x| x == "npy"))
        {
            let mut files: Vec<_> = std::fs::read_dir(&path)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            files.sort();
            for f in files {
                let t = aann_weights::npy::read_npy(&f).unwrap();
                println!(
                    "{} {:?} max|x|={}",
                    f.file_name().unwrap().to_string_lossy(),
                    t.shape,
                    t.max_abs()
                );
            }
        } else if path.extension().is_some_and(|x| x == "mat") {
            let (n, t) = aann_weights::mat::read_single_array(&path).unwrap();
            println!("{} {n} {:?}", path.display(), t.shape);
        } else if path.is_dir() && path.ends_with("reference") {
            let mut files: Vec<_> = std::fs::read_dir(&path)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "mat"))
                .collect();
            files.sort_by_key(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .split('_')
                    .next()
                    .unwrap()
                    .parse::<usize>()
                    .unwrap()
            });
            for f in files {
                let (n, t) = aann_weights::mat::read_single_array(&f).unwrap();
                println!(
                    "{} {n} {:?} max|x|={}",
                    f.file_name().unwrap().to_string_lossy(),
                    t.shape,
                    t.max_abs()
                );
            }
        } else {
            let set = aann_weights::read_source(&path).unwrap();
            for (n, t) in set.iter() {
                println!("{n} {:?}", t.shape);
            }
        }
    }
}
