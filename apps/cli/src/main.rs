fn main() -> std::process::ExitCode {
    aann_cli::main()
}
