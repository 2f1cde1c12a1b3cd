"""Write a benchmark's results into its section of benchmarks/README.md (`--write-readme`).

The section runs from its `## ` heading to the next one. Its results (intro and table) are
replaced; what follows the HISTORY marker inside it, the earlier runs' paragraphs, stays."""

from __future__ import annotations

from pathlib import Path

README = Path(__file__).resolve().parent / "README.md"
HISTORY = "<!-- earlier runs below: kept by --write-readme -->"


def replace_section(heading: str, body: str, readme: Path = README) -> None:
    """Put body under heading, keeping the section's history; heading must be a line of readme."""
    text = readme.read_text()
    head, sep, rest = text.partition(heading + "\n")
    if not sep:
        raise SystemExit(f"{readme}: section {heading!r} not found")
    nxt = rest.find("\n## ")
    section, tail = (rest[:nxt], rest[nxt:]) if nxt >= 0 else (rest, "\n")
    mark = section.find(HISTORY)
    history = "\n" + section[mark:].rstrip("\n") + "\n" if mark >= 0 else ""
    readme.write_text(head + sep + "\n" + body.strip("\n") + "\n" + history + tail)
