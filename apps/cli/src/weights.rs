//! `aann weights fetch|info`: the published weight files, downloaded, verified, described.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use aann_weights::fetch::{self, FetchOptions, FetchOutcome};
use aann_weights::info;

#[derive(Args, Debug)]
pub struct WeightsArgs {
    #[command(subcommand)]
    pub command: WeightsCommand,
}

#[derive(Subcommand, Debug)]
pub enum WeightsCommand {
    /// Download a model's published weights (verified against pinned checksums) into the
    /// cache folder, or reuse a verified copy already there.
    Fetch {
        /// `lucid` (inception5h.zip, else inception5h.pth) or `bvlc` (bvlc_googlenet.caffemodel).
        model: String,
        /// Folder to store the file in (default: the aann cache's downloads/ folder).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Never use the network: verify a file placed by hand, or say where to place it.
        #[arg(long)]
        offline: bool,
    },
    /// Describe a weight file: format, tensors, shapes, parameter count, checksum.
    Info {
        /// A .pth, .pb, inception5h.zip, .caffemodel, safetensors file, or BVLC .mat folder.
        file: PathBuf,
    },
}

pub fn weights(args: WeightsArgs) -> anyhow::Result<()> {
    match args.command {
        WeightsCommand::Fetch {
            model,
            dir,
            offline,
        } => {
            let dir = dir.unwrap_or_else(fetch::default_dir);
            let options = FetchOptions {
                offline,
                ..Default::default()
            };
            let fetched = fetch::fetch_model(&model, &dir, &options)?;
            match fetched.outcome {
                FetchOutcome::AlreadyPresent => eprintln!("already present and verified"),
                FetchOutcome::Downloaded { bytes } => {
                    eprintln!("downloaded and verified {bytes} bytes")
                }
            }
            println!("{}", fetched.path.display());
            Ok(())
        }
        WeightsCommand::Info { file } => {
            println!("{}", info::describe(&file)?);
            Ok(())
        }
    }
}
