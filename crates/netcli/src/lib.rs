//! Conventions shared by every netlab binary: logging flags, exit codes, broken pipes.
//!
//! A binary's `main` is one line, `netcli::main_with(run)`, where `run` returns
//! `anyhow::Result<ExitCode>`. Errors print as one `error: ...` line on stderr. A closed stdout
//! (`sniff ... | head`) is not an error: like ripgrep we exit 0. The exit code is typed: an
//! [`Exit`] error says what went wrong ([`Exit::negative`] 1, [`Exit::usage`] 2,
//! [`Exit::failure`] 3); any other error is a failure (3), so exit 1 only ever comes from an
//! explicit negative answer.
//!
//! [`net`] resolves host names and binds listening sockets the same way in every tool.

pub mod net;

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

/// What went wrong, which decides the exit code (the README's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The operation ran and its answer is negative (exit 1).
    Negative,
    /// Bad command line (exit 2).
    Usage,
    /// Network, protocol or I/O failure (exit 3).
    Failure,
}

impl Kind {
    fn code(self) -> u8 {
        match self {
            Kind::Negative => code::NEGATIVE,
            Kind::Usage => code::USAGE,
            Kind::Failure => code::FAILURE,
        }
    }
}

/// An error that ends the program with the exit code of what went wrong and a one-line message.
#[derive(Debug)]
pub struct Exit {
    kind: Kind,
    message: String,
}

impl Exit {
    fn new(kind: Kind, message: impl Into<String>) -> Self {
        Exit {
            kind,
            message: message.into(),
        }
    }
    /// A negative answer (exit 1): HTTP non-2xx, TLV `false`, SDU `rejected`, no such item.
    pub fn negative(message: impl Into<String>) -> Self {
        Self::new(Kind::Negative, message)
    }
    /// Usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Kind::Usage, message)
    }
    /// Network/protocol/I/O failure (exit 3).
    pub fn failure(message: impl Into<String>) -> Self {
        Self::new(Kind::Failure, message)
    }
    /// The exit code: 1, 2 or 3.
    pub fn code(&self) -> u8 {
        self.kind.code()
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
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// The exit code of an error: the code of the first [`Exit`] in its chain (context added with
/// `anyhow::Context` does not hide it); any other error is a failure (3), never a negative
/// answer.
fn exit_code(err: &anyhow::Error) -> u8 {
    err.chain()
        .find_map(|e| e.downcast_ref::<Exit>())
        .map_or(code::FAILURE, Exit::code)
}

/// Run `run`, turning its outcome into an exit code with netlab's conventions.
pub fn main_with(run: impl FnOnce() -> anyhow::Result<ExitCode>) -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            let code = exit_code(&err);
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
    fn exit_codes_are_typed() {
        use anyhow::Context;
        let code_of = |e: anyhow::Error| exit_code(&e);
        assert_eq!(code_of(Exit::negative("false").into()), 1);
        assert_eq!(code_of(Exit::usage("--bogus").into()), 2);
        assert_eq!(code_of(Exit::failure("refused").into()), 3);
        // An untyped error is a failure, never a negative answer.
        assert_eq!(code_of(anyhow::anyhow!("cannot create out.svg")), 3);
        assert_eq!(code_of(io::Error::from(io::ErrorKind::NotFound).into()), 3);
        // Context does not hide the kind.
        let e = Err::<(), _>(Exit::negative("no connection 9"))
            .context("follow")
            .unwrap_err();
        assert_eq!(code_of(e), 1);
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
