"""Rating instruments kept in a study: imported (YAML, CSV, XLSX or a shipped one), versioned,
frozen once used, exported again.

A study holds any number of versions of an instrument, keyed by (name, version). Importing a
file whose name and version are already stored either changes nothing (same content), updates
the stored version (while nothing uses it), or, once an audit or a focus group has used that
version, is refused with a message asking for a new version number: scores must always refer
to the exact items and scale they were given on. :func:`instrument_of` gives the
:class:`~casestudy.panel.instruments.Instrument` of a stored version.
"""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from casestudy.errors import UserError
from casestudy.models import StoredInstrument, Study, utcnow
from casestudy.panel import instruments as ins
from casestudy.panel.instruments import Instrument


def _checksum(instrument: Instrument) -> str:
    text = json.dumps(instrument.as_document(), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def instrument_of(stored: StoredInstrument) -> Instrument:
    """The instrument of a stored version (its document, checked again)."""
    return ins.build_instrument(stored.document)


def list_stored(session: Session, study: Study) -> list[StoredInstrument]:
    """Every stored version, by name, then in the order imported."""
    rows = session.scalars(select(StoredInstrument).where(StoredInstrument.study_id == study.id))
    return sorted(rows, key=lambda s: (s.name.casefold(), s.id))


def find_stored(session: Session, study: Study, name: str, version: str | None = None) -> StoredInstrument | None:
    """The stored version ``version`` of ``name`` (case ignored); without a version, the newest."""
    matches = [s for s in list_stored(session, study) if s.name.casefold() == name.strip().casefold()]
    if version is not None:
        matches = [s for s in matches if s.instrument_version == str(version).strip()]
    return matches[-1] if matches else None


def get_stored(session: Session, study: Study, name: str, version: str | None = None) -> StoredInstrument:
    """Like :func:`find_stored`, or a UserError naming what the study has."""
    stored = find_stored(session, study, name, version)
    if stored is None:
        known = ", ".join(f"{s.name} {s.instrument_version}" for s in list_stored(session, study)) or "none yet"
        wanted = f"{name!r} version {version!r}" if version else repr(name)
        raise UserError(f"the study has no instrument {wanted}; stored: {known} "
                        "(import one with 'casestudy instruments import FILE' or '--shipped NAME')")
    return stored


def store_instrument(session: Session, study: Study, instrument: Instrument, source: str = "") -> tuple[StoredInstrument, str]:
    """Store ``instrument`` in the study; returns the row and what happened: ``added``,
    ``unchanged`` or ``updated``. A used (frozen) version with other content is refused."""
    checksum = _checksum(instrument)
    stored = find_stored(session, study, instrument.name, instrument.version)
    if stored is not None:
        if stored.sha256 == checksum:
            return stored, "unchanged"
        if stored.frozen_at is not None:
            raise UserError(
                f"version {stored.instrument_version} of {stored.name} is in use ({stored.frozen_by}) and cannot change; "
                f"give the edited instrument a new version (e.g. version: \"{_next_version(stored.instrument_version)}\") and import it"
            )
        stored.document, stored.sha256, stored.title = instrument.as_document(), checksum, instrument.title
        stored.source, stored.imported_at = source or stored.source, utcnow()
        session.flush()
        return stored, "updated"
    stored = StoredInstrument(study_id=study.id, name=instrument.name, instrument_version=instrument.version,
                              title=instrument.title, document=instrument.as_document(), sha256=checksum, source=source)
    session.add(stored)
    session.flush()
    return stored, "added"


def _next_version(version: str) -> str:
    return str(int(version) + 1) if version.isdigit() else f"{version}.1"


def import_data(session: Session, study: Study, data: bytes, fmt: str, source: str = "") -> tuple[StoredInstrument, str]:
    """Read an instrument file (``yaml``, ``csv`` or ``xlsx``) and :func:`store_instrument` it."""
    return store_instrument(session, study, ins.read_instrument(data, fmt.lower().lstrip(".")), source)


def import_shipped(session: Session, study: Study, name: str) -> tuple[StoredInstrument, str]:
    """Store the shipped instrument ``name`` (see ``panel instruments``)."""
    return store_instrument(session, study, ins.load_shipped(name), f"shipped: {name}")


def stored_or_shipped(session: Session, study: Study, name: str, version: str | None = None) -> StoredInstrument:
    """The stored instrument; when the study has none of that name, the shipped one, stored now."""
    stored = find_stored(session, study, name, version)
    if stored is not None:
        return stored
    if version is None and name in {p.stem for p in ins.shipped_instruments()}:
        return import_shipped(session, study, name)[0]
    return get_stored(session, study, name, version)


def freeze(session: Session, stored: StoredInstrument, used_by: str) -> None:
    """Mark the version as used (by ``used_by``, e.g. 'audit 3'); from now on it cannot change."""
    if stored.frozen_at is None:
        stored.frozen_at = utcnow()
        stored.frozen_by = used_by
        session.flush()


def stored_record(stored: StoredInstrument) -> dict:
    """id, name, version, title, items per level, scale legend, source, imported, frozen (by what)."""
    summary = instrument_of(stored).summary()
    return {"id": stored.id, "name": stored.name, "version": stored.instrument_version, "title": stored.title,
            "levels": summary["levels"], "items": summary["items"], "scale": summary["scale"], "source": stored.source,
            "imported_at": stored.imported_at, "frozen_at": stored.frozen_at, "frozen_by": stored.frozen_by}


def legend_rows(instrument: Instrument) -> list[dict]:
    """Every point of the instrument's scale with its label, for a legend beside a table."""
    return [{"point": point, "label": instrument.scale.labels.get(point, "")}
            for point in range(instrument.scale.min, instrument.scale.max + 1)]
