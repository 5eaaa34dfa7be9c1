//! The log: every message squadkit writes to stderr goes through `tracing`, filtered by
//! `SQUADKIT_LOG` (default `info`), coloured only when stderr is a terminal and `NO_COLOR`
//! is unset. Lines read as a CLI's do (`error: …`, `warning: …`, plain information), with a
//! message's structured fields after it as `key=value`. Crates that log through the `log`
//! crate (wgpu, cubecl, hf-hub) are bridged in ([`LogBridge`]).

use std::fmt;
use std::io::IsTerminal;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// `error: ` / `warning: ` / `debug: ` before the message; nothing before information.
struct CliFormat;

impl<S, N> FormatEvent<S, N> for CliFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let (prefix, colour) = match *event.metadata().level() {
            Level::ERROR => ("error: ", "\x1b[1;31m"),
            Level::WARN => ("warning: ", "\x1b[1;33m"),
            Level::INFO => ("", ""),
            _ => ("debug: ", "\x1b[2m"),
        };
        if writer.has_ansi_escapes() && !prefix.is_empty() {
            write!(writer, "{colour}{prefix}\x1b[0m")?;
        } else {
            write!(writer, "{prefix}")?;
        }
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// Whether log lines may carry ANSI colours.
pub fn use_color(stderr_is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    stderr_is_terminal && no_color.is_none_or(|v| v.is_empty())
}

/// Messages of crates that log through the `log` crate, into the tracing log: their errors
/// and warnings as warnings (a dependency's error is not squadkit's), everything else at debug
/// level (`SQUADKIT_LOG=debug` shows it). cubecl's line for each kernel it compiles is counted
/// instead ([`crate::model::runtime::kernels_compiled`]).
struct LogBridge;

impl log::Log for LogBridge {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record) {
        let text = record.args().to_string();
        if crate::model::runtime::count_compilation(&text) {
            tracing::trace!(target: "cubecl", "{text}");
        } else if record.level() <= log::Level::Warn {
            tracing::warn!(target: "log", "{}: {text}", record.target());
        } else {
            tracing::debug!(target: "log", "{}: {text}", record.target());
        }
    }

    fn flush(&self) {}
}

/// Install the subscriber and the `log` bridge (once, from `main`, or from a program that
/// wants squadkit's log and its kernel counts).
pub fn init() {
    let color = use_color(std::io::stderr().is_terminal(), std::env::var_os("NO_COLOR").as_deref());
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SQUADKIT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .event_format(CliFormat)
        .finish();
    if tracing::subscriber::set_global_default(subscriber).is_err() {
        return;
    }
    if log::set_boxed_logger(Box::new(LogBridge)).is_ok() {
        // Information at least: cubecl reports its compilations at that level.
        let debug = tracing::level_filters::LevelFilter::current() >= tracing::level_filters::LevelFilter::DEBUG;
        log::set_max_level(if debug { log::LevelFilter::Debug } else { log::LevelFilter::Info });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(use_color(true, None));
        assert!(!use_color(false, None));
        assert!(!use_color(true, Some("1".as_ref())));
        assert!(use_color(true, Some("".as_ref())), "an empty NO_COLOR does not count (no-color.org)");
    }
}
