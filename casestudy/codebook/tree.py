"""The codebook: a tree of codes per study, with levels, structured definitions and a history.

Codes are never deleted. Rename, edit and move change a code in place; merge marks the source
``merged`` (pointing at the target) and retire marks it ``retired``. Every change is audited
(the ORM hook) and snapshotted in ``code_revision``, so :func:`as_of` rebuilds the codebook of
any earlier moment.

Paths
-----
A code's path joins the names from the root with ``/``, e.g.
``Board commitment and support/Financial support``. A ``/`` or ``\\`` inside a name is escaped
with a backslash (``Organization\\/team``); :func:`split_path` undoes it.

References from other stages
----------------------------
Codings (a later stage) point at codes. Merge and split move them in the same transaction
through the one declared seam, :mod:`casestudy.seams`; :func:`tree` counts them through it.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from casestudy import audit, seams
from casestudy.db import check_version
from casestudy.errors import UserError
from casestudy.models import (
    CODE_ORIGINS,
    CODE_POLARITIES,
    CODE_STATUSES,
    Code,
    CodeRevision,
    Study,
    utcnow,
)

PATH_SEPARATOR = "/"
COLOUR_RE = re.compile(r"^#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")
TEXT_FIELDS = ("short_definition", "definition", "when_to_use", "when_not_to_use", "example", "sources")
EDITABLE_FIELDS = ("name", "codable", "level", "secondary_levels", "colour", "polarity", "origin", "origin_by", *TEXT_FIELDS)

# --- paths and checks -------------------------------------------------------------------
def escape_name(name: str) -> str:
    return name.replace("\\", "\\\\").replace(PATH_SEPARATOR, "\\" + PATH_SEPARATOR)


def split_path(path: str) -> list[str]:
    """'a/b\\/c' -> ['a', 'b/c']; empty parts are an error."""
    parts, current, escaped = [], [], False
    for char in path:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == PATH_SEPARATOR:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    if any(not p for p in parts):
        raise UserError(f"invalid code path {path!r}: a part is empty")
    return parts


def join_path(names: Iterable[str]) -> str:
    return PATH_SEPARATOR.join(escape_name(n) for n in names)


def normalise_colour(colour: str | None, where: str = "") -> str | None:
    """'#abc' or '#AABBCC' -> '#AABBCC'; empty -> None; anything else is an error."""
    if colour is None or not str(colour).strip():
        return None
    colour = str(colour).strip()
    if not COLOUR_RE.match(colour):
        raise UserError(f"{where}invalid colour {colour!r}; use #RRGGBB, e.g. #1F77B4")
    if len(colour) == 4:
        colour = "#" + "".join(c * 2 for c in colour[1:])
    return colour.upper()


def check_choice(value: str, choices: Sequence[str], what: str, where: str = "") -> str:
    value = (value or "").strip().lower()
    if value not in choices:
        raise UserError(f"{where}unknown {what} {value!r}; choose one of: {', '.join(choices)}")
    return value


def check_levels(study: Study, level: str, secondary: Sequence[str] | None, where: str = "") -> tuple[str, list[str]]:
    levels = list(study.levels)
    by_lower = {lv.lower(): lv for lv in levels}
    level_key = (level or "").strip().lower()
    if level_key not in by_lower:
        raise UserError(f"{where}unknown level {level!r}; this study's levels are: {', '.join(levels)}")
    out = []
    for item in secondary or []:
        key = str(item).strip().lower()
        if key not in by_lower:
            raise UserError(f"{where}unknown secondary level {item!r}; this study's levels are: {', '.join(levels)}")
        if key != level_key and by_lower[key] not in out:
            out.append(by_lower[key])
    return by_lower[level_key], out


def normalise_guid(guid: str | None) -> str:
    """A lower-case GUID without braces; None -> a new one; malformed -> error."""
    if guid is None or not str(guid).strip():
        return str(uuid.uuid4())
    try:
        return str(uuid.UUID(str(guid).strip().strip("{}")))
    except ValueError:
        raise UserError(f"invalid GUID {str(guid)!r}")


# --- reading ----------------------------------------------------------------------------
def all_codes(session: Session, study: Study) -> list[Code]:
    return list(session.scalars(select(Code).where(Code.study_id == study.id).order_by(Code.sort_order, Code.id)))


def code_paths(codes: Iterable[Code] | Iterable[dict]) -> dict[int, str]:
    """{code id: path} for ORM codes or snapshot dicts."""
    items = {(c["id"] if isinstance(c, dict) else c.id): c for c in codes}

    def get(c, key):
        return c[key] if isinstance(c, dict) else getattr(c, key)

    paths: dict[int, str] = {}

    def path_of(code_id: int, seen: tuple = ()) -> str:
        if code_id in paths:
            return paths[code_id]
        code = items[code_id]
        parent = get(code, "parent_id")
        own = escape_name(get(code, "name"))
        result = own if parent is None or parent not in items or parent in seen else path_of(parent, seen + (code_id,)) + PATH_SEPARATOR + own
        paths[code_id] = result
        return result

    for code_id in items:
        path_of(code_id)
    return paths


def code_path(session: Session, code: Code) -> str:
    names = []
    current: Code | None = code
    while current is not None:
        names.append(current.name)
        current = session.get(Code, current.parent_id) if current.parent_id else None
    return join_path(reversed(names))


def get_code(session: Session, study: Study, ref: str | int) -> Code:
    """A code by id, GUID or path (case-insensitive); a bare name works when it is unique."""
    if isinstance(ref, int) or str(ref).isdigit():
        code = session.get(Code, int(ref))
        if code is not None and code.study_id == study.id:
            return code
        raise UserError(f"no code with id {ref} in this study")
    text = str(ref).strip()
    codes = all_codes(session, study)
    try:
        guid = str(uuid.UUID(text.strip("{}")))
        for code in codes:
            if code.guid == guid:
                return code
    except ValueError:
        pass
    paths = code_paths(codes)
    wanted = text.lower()
    matches = [c for c in codes if paths[c.id].lower() == wanted]
    if not matches:
        matches = [c for c in codes if c.name.lower() == wanted]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise UserError(f"{len(matches)} codes are named {text!r}; give the full path, e.g. {paths[matches[0].id]!r}")
    raise UserError(f"no code {text!r} in this study's codebook")


def _siblings(session: Session, study_id: int, parent_id: int | None) -> list[Code]:
    query = select(Code).where(Code.study_id == study_id)
    query = query.where(Code.parent_id.is_(None) if parent_id is None else Code.parent_id == parent_id)
    return list(session.scalars(query))


def _check_unique_name(session: Session, study_id: int, parent_id: int | None, name: str, exclude: int | None = None) -> None:
    for sibling in _siblings(session, study_id, parent_id):
        if sibling.id != exclude and sibling.name.lower() == name.lower():
            where = "at the top of the codebook" if parent_id is None else f"under {session.get(Code, parent_id).name!r}"
            raise UserError(f"a code named {sibling.name!r} already exists {where}")


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise UserError("a code needs a name")
    if len(name) > 200:
        raise UserError("a code name can have at most 200 characters")
    return name


def reference_counts(session: Session, study: Study) -> dict[int, int]:
    totals: dict[int, int] = {}
    for refs in seams.code_references().values():
        for code_id, n in refs.counter(session, study.id).items():
            totals[code_id] = totals.get(code_id, 0) + int(n)
    return totals


# --- changing ---------------------------------------------------------------------------
def add_code(
    session: Session,
    study: Study,
    name: str,
    level: str,
    parent: Code | None = None,
    *,
    secondary_levels: Sequence[str] | None = None,
    codable: bool = True,
    colour: str | None = None,
    polarity: str = "none",
    origin: str = "emergent",
    origin_by: str = "",
    origin_at: dt.datetime | None = None,
    guid: str | None = None,
    status: str = "active",
    sort_order: int | None = None,
    **texts: str,
) -> Code:
    """Add a code under ``parent`` (None: at the top). ``texts``: the definition fields and sources."""
    unknown = set(texts) - set(TEXT_FIELDS)
    if unknown:
        raise UserError(f"unknown code field(s): {', '.join(sorted(unknown))}")
    name = _clean_name(name)
    level, secondary = check_levels(study, level, secondary_levels)
    if parent is not None and parent.study_id != study.id:
        raise UserError("the parent code belongs to another study")
    _check_unique_name(session, study.id, parent.id if parent else None, name)
    guid = normalise_guid(guid)
    if session.scalar(select(Code.id).where(Code.study_id == study.id, Code.guid == guid)) is not None:
        raise UserError(f"a code with GUID {guid} already exists in this study")
    if sort_order is None:
        sort_order = 1 + max((c.sort_order for c in _siblings(session, study.id, parent.id if parent else None)), default=-1)
    code = Code(
        study_id=study.id,
        parent_id=parent.id if parent else None,
        guid=guid,
        name=name,
        codable=bool(codable),
        level=level,
        secondary_levels=secondary,
        colour=normalise_colour(colour),
        polarity=check_choice(polarity or "none", CODE_POLARITIES, "polarity"),
        origin=check_choice(origin, CODE_ORIGINS, "origin"),
        origin_by=origin_by or session.info.get("actor", ""),
        origin_at=origin_at or utcnow(),
        status=check_choice(status, CODE_STATUSES, "status"),
        sort_order=sort_order,
        **{k: (v or "").strip() for k, v in texts.items()},
    )
    session.add(code)
    session.flush()
    return code


def edit_code(session: Session, code: Code, expected_version: int | None = None, **changes) -> Code:
    """Change fields of a code (name, level, definitions, colour...); a stale version is refused."""
    check_version(code, expected_version, changes)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise UserError(f"cannot edit code field(s): {', '.join(sorted(unknown))}")
    study = session.get(Study, code.study_id)
    if "name" in changes:
        changes["name"] = _clean_name(changes["name"])
        _check_unique_name(session, code.study_id, code.parent_id, changes["name"], exclude=code.id)
    if "level" in changes or "secondary_levels" in changes:
        level, secondary = check_levels(study, changes.get("level", code.level), changes.get("secondary_levels", code.secondary_levels))
        changes["level"], changes["secondary_levels"] = level, secondary
    if "colour" in changes:
        changes["colour"] = normalise_colour(changes["colour"])
    if "polarity" in changes:
        changes["polarity"] = check_choice(changes["polarity"] or "none", CODE_POLARITIES, "polarity")
    if "origin" in changes:
        changes["origin"] = check_choice(changes["origin"], CODE_ORIGINS, "origin")
    for key in TEXT_FIELDS:
        if key in changes:
            changes[key] = (changes[key] or "").strip()
    for key, value in changes.items():
        if getattr(code, key) != value:
            setattr(code, key, value)
    session.flush()
    return code


def rename_code(session: Session, code: Code, new_name: str, expected_version: int | None = None) -> Code:
    return edit_code(session, code, expected_version, name=new_name)


def descendants(session: Session, code: Code) -> list[Code]:
    out, frontier = [], [code.id]
    while frontier:
        children = list(session.scalars(select(Code).where(Code.parent_id.in_(frontier))))
        out.extend(children)
        frontier = [c.id for c in children]
    return out


def move_code(session: Session, code: Code, new_parent: Code | None) -> Code:
    """Put a code (with its sub-codes) under another parent; a move into its own branch is refused."""
    if new_parent is not None:
        if new_parent.study_id != code.study_id:
            raise UserError("the new parent belongs to another study")
        if new_parent.id == code.id or new_parent.id in {d.id for d in descendants(session, code)}:
            raise UserError(f"cannot move {code.name!r} under {new_parent.name!r}: that would make a cycle (a code cannot sit inside its own branch)")
    parent_id = new_parent.id if new_parent else None
    if parent_id == code.parent_id:
        return code
    _check_unique_name(session, code.study_id, parent_id, code.name, exclude=code.id)
    code.parent_id = parent_id
    code.sort_order = 1 + max((c.sort_order for c in _siblings(session, code.study_id, parent_id) if c.id != code.id), default=-1)
    session.flush()
    return code


def _require_active(code: Code, what: str) -> None:
    if code.status != "active":
        raise UserError(f"cannot {what} {code.name!r}: it is {code.status}")


def merge_codes(session: Session, source: Code, target: Code) -> dict:
    """Merge ``source`` into ``target``: every registered reference moves (duplicates collapse),
    the source's sub-codes move under the target, and the source is marked merged."""
    if source.id == target.id:
        raise UserError("cannot merge a code into itself")
    if source.study_id != target.study_id:
        raise UserError("cannot merge codes of different studies")
    _require_active(source, "merge")
    _require_active(target, "merge into")
    if target.id in {d.id for d in descendants(session, source)}:
        raise UserError(f"cannot merge {source.name!r} into its own sub-code {target.name!r}; move that sub-code out first")
    moved = {name: refs.mover(session, source.id, target.id, None) for name, refs in seams.code_references().items()}
    for child in _siblings(session, source.study_id, source.id):
        move_code(session, child, target)
    source.status = "merged"
    source.merged_into_id = target.id
    session.flush()
    audit.record(session, "code", "merge", source.id, source.study_id, source=source.name, target=target.name, moved=moved)
    return {"source": source.name, "target": target.name, "moved": moved}


def split_code(
    session: Session,
    source: Code,
    new_name: str,
    assignments: dict[str, Sequence[int]] | None = None,
    **fields,
) -> Code:
    """Split ``source``: a new sibling code ``new_name`` (same level, parent and fields unless
    given) receives the chosen references ``{reference name: [reference ids]}``."""
    _require_active(source, "split")
    holders = seams.code_references()
    unknown = set(assignments or {}) - set(holders)
    if unknown:
        raise UserError(f"unknown reference kind(s): {', '.join(sorted(unknown))}")
    study = session.get(Study, source.study_id)
    parent = session.get(Code, source.parent_id) if source.parent_id else None
    base = {
        "level": source.level,
        "secondary_levels": source.secondary_levels,
        "codable": source.codable,
        "colour": source.colour,
        "polarity": source.polarity,
        "origin": "emergent",
    }
    base.update(fields)
    new = add_code(session, study, new_name, parent=parent, **base)
    moved = {}
    for name, ids in (assignments or {}).items():
        if ids:
            moved[name] = holders[name].mover(session, source.id, new.id, list(ids))
    audit.record(session, "code", "split", source.id, source.study_id, source=source.name, new=new.name, moved=moved)
    return new


def retire_code(session: Session, code: Code) -> Code:
    """Retire a code: it stays (with its references) for the record but is no longer offered."""
    _require_active(code, "retire")
    code.status = "retired"
    session.flush()
    return code


def reactivate_code(session: Session, code: Code) -> Code:
    if code.status == "active":
        return code
    code.status = "active"
    code.merged_into_id = None
    session.flush()
    return code


def references_of(session: Session, code: Code) -> dict[str, list]:
    """{reference name: [(id, label), ...]} from every holder (to choose from for a split)."""
    return {name: refs.lister(session, code.id) for name, refs in seams.code_references().items()}


# --- views ------------------------------------------------------------------------------
@dataclass
class CodeNode:
    id: int
    guid: str
    name: str
    path: str
    depth: int
    level: str
    secondary_levels: list[str]
    codable: bool
    status: str
    polarity: str
    colour: str | None
    count: int = 0
    total: int = 0  # count including sub-codes
    merged_into: str | None = None
    short_definition: str = ""
    children: list[CodeNode] = field(default_factory=list)


def code_record(code: Code | dict, paths: dict[int, str]) -> dict:
    """A code as a plain dict (the exchange formats' common shape)."""
    get = (lambda k: code[k]) if isinstance(code, dict) else (lambda k: getattr(code, k))
    origin_at = get("origin_at")
    return {
        "id": get("id"),
        "guid": get("guid"),
        "path": paths[get("id")],
        "name": get("name"),
        "parent": paths.get(get("parent_id")) if get("parent_id") else None,
        "codable": get("codable"),
        "level": get("level"),
        "secondary_levels": list(get("secondary_levels") or []),
        "short_definition": get("short_definition"),
        "definition": get("definition"),
        "when_to_use": get("when_to_use"),
        "when_not_to_use": get("when_not_to_use"),
        "example": get("example"),
        "origin": get("origin"),
        "origin_by": get("origin_by"),
        "origin_at": origin_at.isoformat(timespec="seconds") if isinstance(origin_at, dt.datetime) else origin_at,
        "colour": get("colour"),
        "polarity": get("polarity"),
        "status": get("status"),
        "merged_into": paths.get(get("merged_into_id")) if get("merged_into_id") else None,
        "sources": get("sources"),
    }


def records(session: Session, study: Study) -> list[dict]:
    """Every code of the study as a dict, parents before children, in tree order."""
    codes = all_codes(session, study)
    paths = code_paths(codes)
    return [code_record(c, paths) for c in _tree_order(codes)]


def _tree_order(codes: list) -> list:
    get = (lambda c, k: c[k]) if codes and isinstance(codes[0], dict) else getattr
    by_parent: dict = {}
    ids = {get(c, "id") for c in codes}
    for code in codes:
        parent = get(code, "parent_id")
        by_parent.setdefault(parent if parent in ids else None, []).append(code)
    out = []

    def walk(parent):
        for code in sorted(by_parent.get(parent, []), key=lambda c: (get(c, "sort_order"), get(c, "id"))):
            out.append(code)
            walk(get(code, "id"))

    walk(None)
    return out


def _build_tree(codes: list, counts: dict[int, int], include_inactive: bool) -> list[CodeNode]:
    paths = code_paths(codes)
    get = (lambda c, k: c[k]) if codes and isinstance(codes[0], dict) else getattr
    nodes: dict[int, CodeNode] = {}
    roots: list[CodeNode] = []
    for code in _tree_order(codes):
        if not include_inactive and get(code, "status") != "active":
            continue
        parent = nodes.get(get(code, "parent_id"))
        node = CodeNode(
            id=get(code, "id"), guid=get(code, "guid"), name=get(code, "name"), path=paths[get(code, "id")],
            depth=parent.depth + 1 if parent else 0, level=get(code, "level"),
            secondary_levels=list(get(code, "secondary_levels") or []), codable=get(code, "codable"),
            status=get(code, "status"), polarity=get(code, "polarity"), colour=get(code, "colour"),
            count=counts.get(get(code, "id"), 0),
            merged_into=paths.get(get(code, "merged_into_id")) if get(code, "merged_into_id") else None,
            short_definition=get(code, "short_definition"),
        )
        nodes[node.id] = node
        (parent.children if parent else roots).append(node)

    def total(node: CodeNode) -> int:
        node.total = node.count + sum(total(child) for child in node.children)
        return node.total

    for root in roots:
        total(root)
    return roots


def tree(session: Session, study: Study, include_inactive: bool = False) -> list[CodeNode]:
    """The codebook as a tree with reference counts (own and including sub-codes)."""
    return _build_tree(all_codes(session, study), reference_counts(session, study), include_inactive)


def flatten(nodes: list[CodeNode]) -> list[CodeNode]:
    out = []
    for node in nodes:
        out.append(node)
        out.extend(flatten(node.children))
    return out


def tree_by_level(session: Session, study: Study, include_inactive: bool = False) -> dict[str, list[CodeNode]]:
    """{level: flattened nodes whose primary level it is}, in the study's level order."""
    flat = flatten(tree(session, study, include_inactive))
    return {level: [n for n in flat if n.level == level] for level in study.levels}


def search(session: Session, study: Study, text: str, include_inactive: bool = False) -> list[dict]:
    """Codes whose name or any definition field contains ``text`` (case-insensitive)."""
    needle = (text or "").strip().lower()
    if not needle:
        raise UserError("give a word to search for")
    out = []
    for record in records(session, study):
        if not include_inactive and record["status"] != "active":
            continue
        matched = [k for k in ("name", *TEXT_FIELDS) if needle in (record[k] or "").lower()]
        if matched:
            out.append({**record, "matched": matched})
    return out


def as_of(session: Session, study: Study, when: dt.datetime, include_inactive: bool = False) -> list[CodeNode]:
    """The codebook as it was at ``when`` (naive UTC), rebuilt from the code revisions."""
    revisions = session.scalars(
        select(CodeRevision).where(CodeRevision.study_id == study.id, CodeRevision.at <= when).order_by(CodeRevision.id)
    )
    latest: dict[int, dict] = {}
    for revision in revisions:
        latest[revision.code_id] = revision.snapshot
    return _build_tree(list(latest.values()), {}, include_inactive)


def history(session: Session, code: Code) -> list[CodeRevision]:
    return list(session.scalars(select(CodeRevision).where(CodeRevision.code_id == code.id).order_by(CodeRevision.id)))


def parse_when(text: str) -> dt.datetime:
    """'2026-01-31' (end of that day) or an ISO date-time, as naive UTC."""
    text = (text or "").strip()
    try:
        if len(text) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(text), dt.time.max)
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise UserError(f"invalid date {text!r}; use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS (UTC)")
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value
