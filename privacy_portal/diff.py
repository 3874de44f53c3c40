"""A readable diff between two policy versions.

Visitors compare policies section by section, so the diff is too: sections (split at
Markdown headings) are matched by their heading, unchanged sections are only named, and
changed ones show a word-level inline diff (`<del>`/`<ins>` in the template).
"""

import difflib
import re
from dataclasses import dataclass
from typing import Literal

from .rendering import fill_placeholders

HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
TOKEN = re.compile(r"\s+|[^\s]+")

SectionState = Literal["unchanged", "changed", "added", "removed"]
FragmentOp = Literal["equal", "insert", "delete"]


@dataclass(frozen=True)
class Section:
    title: str
    body: str


@dataclass(frozen=True)
class Fragment:
    op: FragmentOp
    text: str


@dataclass(frozen=True)
class SectionDiff:
    title: str
    state: SectionState
    fragments: list[Fragment]


def split_sections(markdown_text: str) -> list[Section]:
    """Split Markdown into (heading, body) pairs; text before the first heading is ''."""
    sections: list[Section] = []
    title, lines = "", []
    for line in markdown_text.splitlines():
        match = HEADING.match(line)
        if match:
            if title or any(part.strip() for part in lines):
                sections.append(Section(title, "\n".join(lines).strip()))
            title, lines = match.group(2), []
        else:
            lines.append(line)
    if title or any(part.strip() for part in lines):
        sections.append(Section(title, "\n".join(lines).strip()))
    return sections


def diff_words(old: str, new: str) -> list[Fragment]:
    old_tokens, new_tokens = TOKEN.findall(old), TOKEN.findall(new)
    matcher = difflib.SequenceMatcher(None, old_tokens, new_tokens, autojunk=False)
    fragments: list[Fragment] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            fragments.append(Fragment("equal", "".join(old_tokens[i1:i2])))
            continue
        if i2 > i1:
            fragments.append(Fragment("delete", "".join(old_tokens[i1:i2])))
        if j2 > j1:
            fragments.append(Fragment("insert", "".join(new_tokens[j1:j2])))
    return fragments


def _section_pair(old: Section, new: Section) -> SectionDiff:
    if old == new:
        return SectionDiff(new.title, "unchanged", [Fragment("equal", new.body)])
    if old.title == new.title:
        return SectionDiff(new.title, "changed", diff_words(old.body, new.body))
    # A renamed heading: show the rename as part of the section's changes.
    heading = [*diff_words(old.title, new.title), Fragment("equal", "\n\n")]
    return SectionDiff(new.title, "changed", [*heading, *diff_words(old.body, new.body)])


def diff_policies(old_markdown: str, new_markdown: str) -> list[SectionDiff]:
    old_sections = split_sections(fill_placeholders(old_markdown))
    new_sections = split_sections(fill_placeholders(new_markdown))
    matcher = difflib.SequenceMatcher(
        None, [s.title for s in old_sections], [s.title for s in new_sections], autojunk=False
    )
    result: list[SectionDiff] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        olds, news = old_sections[i1:i2], new_sections[j1:j2]
        if op == "equal" or (op == "replace" and len(olds) == len(news)):
            result.extend(_section_pair(o, n) for o, n in zip(olds, news, strict=True))
            continue
        result.extend(SectionDiff(o.title, "removed", [Fragment("delete", o.body)]) for o in olds)
        result.extend(SectionDiff(n.title, "added", [Fragment("insert", n.body)]) for n in news)
    return result
