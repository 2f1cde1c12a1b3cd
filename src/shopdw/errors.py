"""The two error families (terminal, transient) and the exit codes the CLI maps them to.

Terminal errors are bad data or bad configuration: retrying will not help, the message
says what to check. Transient errors (a dropped connection, a lock held elsewhere) may
succeed when retried. Anything else is a bug and gets a traceback.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_BLOCKED = 1  # the work finished but a blocking check failed (a rejected file counts)
EXIT_USAGE = 2  # usage or configuration error
EXIT_UNEXPECTED = 3  # an unexpected error (a bug, or a transient error that outlived its retries)


class ShopdwError(Exception):
    """Base class for expected failures: printed without a traceback."""

    exit_code = EXIT_UNEXPECTED


class TerminalError(ShopdwError):
    """Bad input or bad state: retrying will not help."""

    exit_code = EXIT_UNEXPECTED


class ConfigError(TerminalError):
    """A setting is missing or wrong; the message names the setting and how to set it."""

    exit_code = EXIT_USAGE


class DataError(TerminalError):
    """A file or row breaks its contract; the message names the file, the row and the fix."""

    exit_code = EXIT_BLOCKED


class LakeError(TerminalError):
    """The lake refused an operation (e.g. overwriting an immutable file with other content)."""

    exit_code = EXIT_BLOCKED


class GateFailed(ShopdwError):
    """The quality gate found a failing blocking check: nothing was published."""

    exit_code = EXIT_BLOCKED


class TransientError(ShopdwError):
    """A failure worth retrying (dropped connection, busy lock)."""

    exit_code = EXIT_UNEXPECTED


def wide_console():
    """A rich console: the terminal's width on a terminal, 160 columns in logs and pipes."""
    import sys

    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=160)
