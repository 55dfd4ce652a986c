"""Word-prefix search for the big lists (`?q=`), served by an index on every engine.

A model opts in by inheriting `Searchable` and naming its searched columns in
`__searchable__`. The words of those columns are kept, normalised, in `terminos_busqueda`
(table, term, record id), rewritten by a session hook in the same transaction as the change
(insert, update of a searched column, delete); `reindex` (`flask search reindex`) rebuilds them
for rows written outside the ORM.

Normalisation (`terms` for a record, `query_prefixes` for `q`, both through `_parts`):
Unicode NFKD, combining marks dropped, casefolded ("Medellín" -> "medellin"); a word is a run
of letters and digits, everything else separates words; each term is cut to `TERM_MAX`
characters. A record's terms are its words plus, for every whitespace-free part holding
several words (a NIT "900.123.456-7", an email "carla@acme.com"), its words joined from each
word on ("9001234567", "1234567", "4567"; "carlaacmecom", "acmecom"): the first `TERMS_MAX`
distinct ones.

A query: each whitespace-separated part of `q`, its words joined ("900.123.456-7" ->
"9001234567", "Medellín," -> "medellin"), must be the beginning of some term of the row (AND
across parts), i.e. `id IN (SELECT registro_id ... WHERE tabla = :t AND termino LIKE 'p%')`
per part, a range on the primary key (tabla, termino, registro_id). So "medell" finds
"Medellín" but "dellin" does not (the middle of a word), "carla@acme.com" and "acme.com" find
that email, and "900.123.456", "900123456-7" or "9001234567" find that NIT. A blank `q`
filters nothing; a `q` with no word at all ("%", "_") matches nothing.

Paging a search (`Search`, for core.pagination): its `total` is counted from the terms, up
to 1,000; with more matches than that, the page is first looked for among the list's next rows
(class doc), so that a word most rows have costs about what a rare one does.

Bulk UPDATE/INSERT/DELETE statements bypass the hook (as they bypass the audit trail): none
touches a searched column; data loaded that way is indexed by `reindex`.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable

import sqlalchemy as sa
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Mapped, aliased, mapped_column

from ..extensions import db

TERM_MAX = 64         # characters kept of a term (and of a query part)
TERMS_MAX = 200       # distinct terms kept per record (long descriptions: the first ones)
QUERY_PARTS_MAX = 8   # parts of `q` used (each one more subquery); the rest is ignored
_WORD = re.compile(r"[^\W_]+")  # letters and digits (\w without the underscore)
_ESCAPE = "/"

# Binary on MySQL/MariaDB: terms are already normalised, and a `_ci` collation would make
# distinct terms equal ("æ" and "ae") and LIKE answer otherwise than on SQLite.
TERM_TYPE = sa.String(TERM_MAX).with_variant(
    sa.String(TERM_MAX, collation="utf8mb4_bin"), "mysql", "mariadb")


class TerminoBusqueda(db.Model):
    """One normalised term of a searchable record."""

    __tablename__ = "terminos_busqueda"
    # The primary key serves `tabla = :t AND termino LIKE 'p%'` (a range); the second index
    # serves rewriting one record's terms (and probing a record's terms during a join).
    __table_args__ = (sa.Index("ix_terminos_busqueda_registro", "tabla", "registro_id", "termino"),)

    tabla: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    termino: Mapped[str] = mapped_column(TERM_TYPE, primary_key=True)
    registro_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)


class Searchable:
    """Mixin: `?q=` finds the model's rows by the words of the columns in `__searchable__`
    (core.search); the model needs a single integer primary key."""

    __searchable__: tuple[str, ...] = ()


# ---------------------------------------------------------------- normalisation

def _parts(text: str) -> list[list[str]]:
    """The words of each whitespace-separated part of `text`, normalised (parts with no word
    left out)."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return [words for part in folded.casefold().split() if (words := _WORD.findall(part))]


def terms(values: Iterable) -> list[str]:
    """The search terms of a record whose searched columns hold `values` (None skipped)."""
    found: dict[str, None] = {}
    for value in values:
        if value is None:
            continue
        for words in _parts(str(value)):
            runs = ["".join(words[i:]) for i in range(len(words) - 1)] if len(words) > 1 else []
            for term in (*words, *runs):
                found.setdefault(term[:TERM_MAX])
                if len(found) >= TERMS_MAX:
                    return list(found)
    return list(found)


def query_prefixes(q: str | None) -> list[str] | None:
    """What each part of `q` must begin a term with: None for a blank `q` (no filter), [] for
    one with no word at all (matches nothing). A part that begins another is implied by it."""
    if q is None or not q.strip():
        return None
    joined = list(dict.fromkeys("".join(words)[:TERM_MAX] for words in _parts(q)))[:QUERY_PARTS_MAX]
    return [p for p in joined if not any(o != p and o.startswith(p) for o in joined)]


# ---------------------------------------------------------------- querying

def _tabla(model) -> str:
    return model.__table__.name


def _pattern(prefix: str) -> str:
    """The LIKE pattern of the terms beginning with `prefix` (its wildcards escaped)."""
    return (prefix.replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%")
            .replace("_", _ESCAPE + "_")) + "%"


def _like(prefix: str):
    return TerminoBusqueda.termino.like(_pattern(prefix), escape=_ESCAPE)


def _terms_of(model, prefix: str, *bounds):
    """The ids of `model`'s records with a term beginning with `prefix` (`bounds`: more
    conditions on TerminoBusqueda.registro_id)."""
    return select(TerminoBusqueda.registro_id).where(
        TerminoBusqueda.tabla == _tabla(model), _like(prefix), *bounds)


class Search:
    """A `q` over a `Searchable` model, as core.pagination pages it (`paginate(search=...)`).

    A word most rows have is what makes a search slow, both for counting and for the page:
    the subquery of the terms index yields every match (a quarter of 100,000 tickets: 25,000
    ids), which the database gathers and sorts before the first page. So, when a search has
    words (`narrows`):
    - `total` is counted from the terms index, at most `TOTAL_CAP` (1,000) matches: beyond,
      a lower bound (`total_exact` false), as any list beyond its cap;
    - when there are more matches than that, the page is first looked for among the next
      `WINDOW_ROWS` rows of the list (in its order: a list ordered by its primary key), with
      the terms of those rows only; when they hold the whole page it is the answer (the same
      rows, in the same order, as the plain statement's), else the plain statement answers.
    """

    TOTAL_CAP = 1_000
    WINDOW_ROWS = 1_000

    def __init__(self, model, q: str | None) -> None:
        self.model = model
        self.prefixes = query_prefixes(q)
        mapper = inspect(model)
        self.key = mapper.primary_key[0]
        self.key_name = mapper.get_property_by_column(self.key).key

    @property
    def narrows(self) -> bool:
        """Whether it has words to look for (else it filters nothing, or everything out)."""
        return bool(self.prefixes)

    def apply(self, stmt, *bounds):
        """`stmt` narrowed to the rows whose terms begin with every part of `q` (module doc):
        unchanged for a blank `q`, nothing for a `q` with no word; `bounds` narrow the terms
        read."""
        if self.prefixes is None:
            return stmt
        if not self.prefixes:
            return stmt.where(sa.false())
        return self._narrow(stmt, self.key, self.prefixes, *bounds)

    def _narrow(self, stmt, key, prefixes: list[str], *bounds):
        """`stmt` where `key` is a record with a term beginning with each of `prefixes`."""
        for prefix in prefixes:
            stmt = stmt.where(key.in_(_terms_of(self.model, prefix, *bounds)))
        return stmt

    def bounded_count(self, stmt) -> int:
        """How many rows of `stmt` match, counting at most `TOTAL_CAP + 1`, read from the first
        word's terms: with no other filter, from the terms index alone (a record's terms are
        written and deleted with it, module doc), else joined to the rows of `stmt`."""
        first, *others = self.prefixes
        term = aliased(TerminoBusqueda)
        matches = sa.and_(term.tabla == _tabla(self.model),
                          term.termino.like(_pattern(first), escape=_ESCAPE))
        if stmt.whereclause is None:
            ids = self._narrow(select(term.registro_id).where(matches), term.registro_id, others)
        else:
            ids = (stmt.order_by(None).with_only_columns(self.key, maintain_column_froms=True)
                   .join(term, sa.and_(term.registro_id == self.key, matches)))
            ids = self._narrow(ids, self.key, others)
        ids = ids.distinct().limit(self.TOTAL_CAP + 1)
        return db.session.scalar(select(sa.func.count()).select_from(ids.subquery())) or 0

    def window(self, stmt, keys: list[tuple], start, limit: int, offset: int) -> list | None:
        """The rows `stmt.limit(limit).offset(offset)` would give once searched, found among
        the first WINDOW_ROWS rows of `stmt` (`start`: the key a cursor resumes after, which
        `stmt` already holds, here to bound the terms read); None when they do not hold them
        all, or the list is not ordered by the primary key alone."""
        if len(keys) != 1 or keys[0][1] != self.key_name:
            return None
        descending = keys[0][2]
        edge = db.session.scalar(stmt.with_only_columns(self.key, maintain_column_froms=True)
                                 .offset(self.WINDOW_ROWS - 1).limit(1))
        registro = TerminoBusqueda.registro_id
        bounds = []
        if start is not None:
            bounds.append(registro < start if descending else registro > start)
        if edge is not None:
            stmt = stmt.where(self.key >= edge if descending else self.key <= edge)
            bounds.append(registro >= edge if descending else registro <= edge)
        rows = db.session.scalars(self.apply(stmt, *bounds).limit(limit).offset(offset)).all()
        return rows if len(rows) == limit or edge is None else None


# ---------------------------------------------------------------- keeping terms

def _rows(tabla: str, registro_id: int, values: Iterable) -> list[dict]:
    return [{"tabla": tabla, "registro_id": registro_id, "termino": t} for t in terms(values)]


def _write(connection, stale: dict[str, set[int]], rows: list[dict]) -> None:
    """Delete the terms of the `stale` records ({tabla: ids}), then insert `rows`."""
    table = TerminoBusqueda.__table__
    for tabla, ids in stale.items():
        ordered = sorted(ids)
        for i in range(0, len(ordered), 500):
            connection.execute(table.delete().where(table.c.tabla == tabla,
                                                    table.c.registro_id.in_(ordered[i:i + 500])))
    for i in range(0, len(rows), 1000):
        connection.execute(table.insert(), rows[i:i + 1000])


def _searched(instance) -> bool:
    return isinstance(instance, Searchable) and bool(type(instance).__searchable__)


def _searched_change(instance) -> bool:
    state = inspect(instance)
    return any(state.attrs[name].history.has_changes() for name in type(instance).__searchable__)


def _after_flush(session, _flush_context) -> None:
    """After a flush (its new, dirty and deleted sets still those of the flush): rewrite the
    terms of every searchable record inserted, changed in a searched column, or deleted."""
    stale: dict[str, set[int]] = {}
    rows: list[dict] = []
    changed = [(i, True) for i in session.new] + [(i, True) for i in session.dirty if _searched(i)
                                                  and _searched_change(i)]
    for instance, keep in (*changed, *((i, False) for i in session.deleted)):
        if not _searched(instance):
            continue
        model = type(instance)
        registro_id = inspect(model).primary_key_from_instance(instance)[0]
        if registro_id is None:
            continue
        tabla = _tabla(model)
        stale.setdefault(tabla, set()).add(registro_id)  # on insert too: a reused id's leftovers
        if keep:
            rows += _rows(tabla, registro_id, (getattr(instance, n) for n in model.__searchable__))
    if stale:
        _write(session.connection(), stale, rows)


def searchable_models() -> list[type]:
    """Every mapped `Searchable` model (those imported so far)."""
    found, todo = [], list(Searchable.__subclasses__())
    while todo:
        cls = todo.pop(0)
        todo.extend(cls.__subclasses__())
        if hasattr(cls, "__table__") and cls.__searchable__ and cls not in found:
            found.append(cls)
    return found


def reindex(batch: int = 2000, progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Rebuild the terms of every searchable model, `batch` records per transaction (rows
    loaded outside the ORM, or after a change of the rules). Returns records per table."""
    done: dict[str, int] = {}
    table = TerminoBusqueda.__table__
    for model in searchable_models():
        tabla = _tabla(model)
        key = inspect(model).primary_key[0]
        columns = [getattr(model, name) for name in model.__searchable__]
        last, count = 0, 0
        while True:
            records = db.session.execute(select(key, *columns).where(key > last).order_by(key)
                                         .limit(batch)).all()
            top = records[-1][0] if records else None
            gone = table.c.registro_id > last if top is None else table.c.registro_id.between(last + 1, top)
            connection = db.session.connection()
            connection.execute(table.delete().where(table.c.tabla == tabla, gone))
            rows = [row for record in records for row in _rows(tabla, record[0], record[1:])]
            _write(connection, {}, rows)
            db.session.commit()
            if top is None:
                break
            last, count = top, count + len(records)
            if progress:
                progress(tabla, count)
        done[tabla] = count
    return done


def register() -> None:
    """Install the session hook (once per process; the factory calls it)."""
    if not event.contains(db.session, "after_flush", _after_flush):
        event.listen(db.session, "after_flush", _after_flush)
