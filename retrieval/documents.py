"""Documents from Markdown: YAML front matter, incidents, and runbooks split into sections.

A past incident is one document. A runbook is split by heading: each section becomes one document
that keeps its heading path (``["Checkout DB", "Connection pool exhausted"]``) and a link to the
section (``url#anchor``, GitHub-style anchors). Ids are stable: the same file imported twice yields
the same ids, so re-importing updates instead of duplicating.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml

from bot.domain import Document, DocumentType, InputError, stable_hash

logger = logging.getLogger(__name__)

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_SLUG_DROP = re.compile(r"[^\w\- ]", re.UNICODE)
SECTION_MAX_CHARS = 2400  # a longer section is split at paragraph boundaries


@dataclass
class LoadProblem:
    path: str
    reason: str


@dataclass
class LoadResult:
    documents: list[Document] = field(default_factory=list)
    problems: list[LoadProblem] = field(default_factory=list)


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """``(front matter, body)``; front matter is ``{}`` when the text has none.

    Raises ``InputError`` when the front matter is not a YAML mapping.
    """
    text = text.lstrip("\ufeff")
    if not text.startswith("---"):
        return {}, text
    lines = text.split("\n")
    for i in range(1, len(lines)):
        if lines[i].strip() in {"---", "..."}:
            raw = "\n".join(lines[1:i])
            try:
                meta = yaml.safe_load(raw) or {}
            except yaml.YAMLError as e:
                raise InputError(f"front matter is not valid YAML: {e}") from e
            if not isinstance(meta, dict):
                raise InputError("front matter must be a YAML mapping of keys")
            return meta, "\n".join(lines[i + 1 :]).lstrip("\n")
    return {}, text


def as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [v.strip() for v in re.split(r"[,;|]", value) if v.strip()]
    if isinstance(value, Iterable):
        return [str(v).strip() for v in value if str(v).strip()]
    return [str(value)]


def parse_date(value: Any) -> datetime | None:
    """A timezone-aware datetime from ISO text, a date, a datetime or epoch seconds; ``None`` if unparseable."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), tz=UTC)
    text = str(value).strip()
    if text.replace(".", "", 1).isdigit():
        return datetime.fromtimestamp(float(text), tz=UTC)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def slugify(heading: str) -> str:
    """GitHub-style anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`|\*\*|__|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())
    text = _SLUG_DROP.sub("", text)
    return text.replace(" ", "-")


def _first(meta: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        value = meta.get(key)
        if value not in (None, "", []):
            return value
    return None


def _base_id(doc_type: DocumentType, meta: dict[str, Any], name: str, source: str) -> str:
    explicit = _first(meta, "id", "uuid")
    if explicit is not None:
        return str(explicit)
    return f"{doc_type.value}:{source}:{slugify(name) or stable_hash(name)}"


def document_from_front_matter(
    meta: dict[str, Any], body: str, *, doc_type: DocumentType, name: str, source: str = "markdown"
) -> Document:
    """One document from front matter (keys per ARCHITECTURE.md, plus common aliases) and a body."""
    kinds = as_list(_first(meta, "kinds", "kind"))
    root_kind = _first(meta, "root_cause_kind")
    if root_kind and str(root_kind) not in kinds:
        kinds.append(str(root_kind))
    categories = as_list(_first(meta, "category", "categories"))
    summary = _first(meta, "summary", "description")
    text = body.strip()
    if summary and str(summary).strip() not in text:
        text = f"{str(summary).strip()}\n\n{text}".strip()
    extra = {
        k: v
        for k, v in meta.items()
        if k in {"company", "product", "keywords", "severity", "categories", "root_cause"}
        and v not in (None, "", [])
    }
    root_cause = _first(meta, "root_cause")
    if root_cause and str(root_cause) not in text:
        text = f"{text}\n\nRoot cause: {root_cause}".strip()
    return Document(
        id=_base_id(doc_type, meta, name, source),
        type=doc_type,
        title=str(_first(meta, "title") or _first(meta, "name") or name),
        text=text,
        url=_first(meta, "url", "link"),
        services=as_list(_first(meta, "services", "service")),
        category=categories[0] if categories else None,
        kinds=kinds,
        root_cause_service=_first(meta, "root_cause_service"),
        root_cause_kind=str(root_kind) if root_kind else None,
        resolution=(str(_first(meta, "resolution")) if _first(meta, "resolution") else None),
        date=parse_date(_first(meta, "date", "start_time", "started_at", "created_at")),
        source=source,
        metadata={
            k: (v if isinstance(v, str | int | float | bool | list) else str(v)) for k, v in extra.items()
        },
    )


@dataclass
class _Section:
    path: list[str]
    anchor: str
    lines: list[str]


def _sections(body: str) -> list[_Section]:
    """Sections of a Markdown body by ATX heading, ignoring '#' lines inside code fences."""
    sections: list[_Section] = [_Section(path=[], anchor="", lines=[])]
    stack: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    in_fence = False
    for line in body.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if match is None:
            sections[-1].lines.append(line)
            continue
        level, title = len(match.group(1)), match.group(2).strip()
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, title))
        slug = slugify(title)
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchor = slug if count == 0 else f"{slug}-{count}"
        sections.append(_Section(path=[t for _, t in stack], anchor=anchor, lines=[]))
    return sections


def _chunks(text: str, limit: int = SECTION_MAX_CHARS) -> list[str]:
    if len(text) <= limit:
        return [text]
    out: list[str] = []
    current = ""
    for para in re.split(r"\n\s*\n", text):
        if current and len(current) + len(para) + 2 > limit:
            out.append(current)
            current = ""
        current = f"{current}\n\n{para}" if current else para
        while len(current) > limit:  # one huge paragraph
            out.append(current[:limit])
            current = current[limit:]
    if current.strip():
        out.append(current)
    return out


def split_runbook(doc: Document) -> list[Document]:
    """Sections of a whole runbook document, each a document with heading path and ``url#anchor``.

    A runbook without headings stays one document. Sections with no text of their own are
    dropped (their heading still appears in the path of their subsections).
    """
    sections = _sections(doc.text)
    if len(sections) == 1:
        return [doc.model_copy(update={"metadata": {**doc.metadata, "parent_id": doc.id}})]
    out: list[Document] = []
    for section in sections:
        body = "\n".join(section.lines).strip()
        if not body:
            continue
        path = list(section.path)
        if path and path[0].strip().lower() == doc.title.strip().lower():
            path = path[1:]  # an H1 repeating the runbook's title
        for n, chunk in enumerate(_chunks(body)):
            anchor = section.anchor
            suffix = f"~{n}" if n else ""
            url = f"{doc.url}#{anchor}" if doc.url and anchor else doc.url
            out.append(
                doc.model_copy(
                    update={
                        "id": f"{doc.id}#{anchor or 'intro'}{suffix}",
                        "text": chunk,
                        "url": url,
                        "heading_path": path,
                        "metadata": {**doc.metadata, "parent_id": doc.id, "anchor": anchor},
                    }
                )
            )
    return out


def _iter_markdown(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix.lower() in {".md", ".markdown"} and not path.name.startswith("."):
            yield path


def read_markdown_folder(
    path: str | Path,
    *,
    type: DocumentType,
    source: str = "markdown",  # noqa: A002 - the contract's name
) -> LoadResult:
    """Documents from every Markdown file under ``path`` (recursively), with the files that were skipped.

    Runbooks come back split into sections. Raises ``InputError`` when ``path`` is not a folder or file.
    """
    root = Path(path)
    if root.is_file():
        files = [root]
        base = root.parent
    elif root.is_dir():
        files = list(_iter_markdown(root))
        base = root
    else:
        raise InputError(f"{root}: no such folder (give a folder of Markdown files with YAML front matter)")
    result = LoadResult()
    for file in files:
        rel = file.relative_to(base).with_suffix("").as_posix()
        try:
            meta, body = split_front_matter(file.read_text(encoding="utf-8", errors="replace"))
        except InputError as e:
            result.problems.append(LoadProblem(str(file), str(e)))
            continue
        if not body.strip() and not meta.get("summary"):
            result.problems.append(LoadProblem(str(file), "empty document (no text after the front matter)"))
            continue
        doc = document_from_front_matter(meta, body, doc_type=type, name=rel, source=source)
        if doc.url is None:
            doc = doc.model_copy(update={"url": file.resolve().as_uri()})
        if type is DocumentType.RUNBOOK:
            result.documents.extend(split_runbook(doc))
        else:
            result.documents.append(doc)
    logger.info("markdown folder read", extra={"path": str(root), "documents": len(result.documents)})
    return result


def load_markdown_folder(
    path: str | Path,
    type: DocumentType = DocumentType.INCIDENT,  # noqa: A002 - the contract's name
) -> list[Document]:
    """Documents from a folder of Markdown files with YAML front matter (runbooks split into sections)."""
    return read_markdown_folder(path, type=type).documents
