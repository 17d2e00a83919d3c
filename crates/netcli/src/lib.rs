//! Conventions shared by every netlab binary: logging flags, exit codes, broken pipes.
//!
//! A binary's `main` is one line, `netcli::main_with(run)`, where `run` returns
//! `anyhow::Result<ExitCode>`. Errors print as one `error: ...` line on stderr. A closed stdout
//! (`sniff ... | head`) is not an error: like ripgrep we exit 0. To end with a specific code
//! and message, return an [`Exit`] error.

use std::fmt;
use std::io;
use std::process::ExitCode;

pub mod value;

/// Exit codes shared by all tools (documented in the README).
pub mod code {
    /// Success.
    pub const OK: u8 = 0;
    /// The operation ran but its answer is negative (HTTP non-2xx, `false`, `rejected`).
    pub const NEGATIVE: u8 = 1;
    /// Bad command line (clap uses 2 as well).
    pub const USAGE: u8 = 2;
    /// Network, protocol or I/O failure.
    pub const FAILURE: u8 = 3;
}

/// `-v`/`-q` flags, flattened into every tool's clap struct.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Verbosity {
    /// More output on stderr (-v: debug, -vv: trace). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Less output on stderr: errors only.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

impl Verbosity {
    /// The log level these flags ask for.
    pub fn level(&self) -> log::LevelFilter {
        if self.quiet {
            return log::LevelFilter::Error;
        }
        match self.verbose {
            0 => log::LevelFilter::Info,
            1 => log::LevelFilter::Debug,
            _ => log::LevelFilter::Trace,
        }
    }

    /// Start env_logger on stderr at this level; `RUST_LOG` wins when set.
    pub fn init_logging(&self) {
        let mut b = env_logger::Builder::new();
        b.filter_level(self.level())
            .format_timestamp(None)
            .format_target(false);
        if let Ok(spec) = std::env::var("RUST_LOG") {
            b.parse_filters(&spec);
        }
        // A second init (tests calling run twice) is harmless.
        let _ = b.try_init();
    }
}

/// An error that ends the program with a chosen exit code.
#[derive(Debug)]
pub struct Exit {
    pub code: u8,
    pub message: String,
}

impl Exit {
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Exit {
            code,
            message: message.into(),
        }
    }
    /// Usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(code::USAGE, message)
    }
    /// Network/protocol/I/O failure (exit 3).
    pub fn failure(message: impl Into<String>) -> Self {
        Self::new(code::FAILURE, message)
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Exit {}

/// Parse the command line like `C::parse()`, with one addition shared by every tool: when
/// `NETLAB_GENERATE=DIR` is set, write the tool's man page (`DIR/man/NAME.1`) and shell
/// completions (`DIR/completions/`) and exit. `scripts/gen-man` drives it for every binary, so
/// the pages always match the real clap definitions.
pub fn parse<C: clap::Parser>() -> C {
    if let Some(dir) = std::env::var_os("NETLAB_GENERATE") {
        let code = match generate::<C>(std::path::Path::new(&dir)) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("error: generating man page and completions into {dir:?}: {e}");
                code::FAILURE
            }
        };
        std::process::exit(code.into());
    }
    C::parse()
}

fn generate<C: clap::CommandFactory>(dir: &std::path::Path) -> io::Result<()> {
    use clap_complete::Shell;
    let mut cmd = C::command();
    let name = cmd.get_name().to_owned();
    let man = dir.join("man");
    std::fs::create_dir_all(&man)?;
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut page)?;
    std::fs::write(man.join(format!("{name}.1")), page)?;
    let comp = dir.join("completions");
    std::fs::create_dir_all(&comp)?;
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        clap_complete::generate_to(shell, &mut cmd, &name, &comp)?;
    }
    Ok(())
}

/// True when the error chain holds a broken pipe (the reader of stdout went away).
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Run `run`, turning its outcome into an exit code with netlab's conventions.
pub fn main_with(run: impl FnOnce() -> anyhow::Result<ExitCode>) -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            let code = err
                .downcast_ref::<Exit>()
                .map_or(code::NEGATIVE, |e| e.code);
            // One line: the causes joined with ": ".
            let msg = format!("{err:#}").replace('\n', " ");
            if !msg.is_empty() {
                eprintln!("error: {msg}");
            }
            ExitCode::from(code)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_pipe_is_detected_through_context() {
        let e = anyhow::Error::from(io::Error::from(io::ErrorKind::BrokenPipe)).context("writing");
        assert!(is_broken_pipe(&e));
        let e = anyhow::anyhow!("other");
        assert!(!is_broken_pipe(&e));
    }

    #[test]
    fn exit_error_carries_code() {
        let code = main_with(|| Err(Exit::failure("no answer").into()));
        assert_eq!(code, ExitCode::from(3));
        let code = main_with(|| Err(io::Error::from(io::ErrorKind::BrokenPipe).into()));
        assert_eq!(code, ExitCode::SUCCESS);
    }

    #[test]
    fn verbosity_levels() {
        let v = Verbosity {
            verbose: 2,
            quiet: false,
        };
        assert_eq!(v.level(), log::LevelFilter::Trace);
        let q = Verbosity {
            verbose: 0,
            quiet: true,
        };
        assert_eq!(q.level(), log::LevelFilter::Error);
    }
}
