"""Keyset pagination on (created_at, id) for the services (contract v2 section 3.6).

A page is the `limit` rows strictly after (direction "next") or strictly before ("prev")
a key in the list's order, read from an index on that order: a condition the index can
start at, so a page deep in the list costs what the first does, and rows added or
removed meanwhile never shift one. The first page has no key.

    PAGES = Keyset("id, title, ...", "posts", "TRUE", created_desc=True, id_desc=True)
    PAGES.page(db, limit, direction, key, params) -> {"rows", "next", "previous"}

`next`/`previous` are the keys of the neighbouring pages (None where there is none; the
first page has no previous); the gateway turns them into signed cursors.
"""
from dataclasses import dataclass


def _op(desc):
    return "<" if desc else ">"


def _dir(desc):
    return "DESC" if desc else "ASC"


@dataclass(frozen=True)
class Keyset:
    columns: str  # what a row of the list shows, as SQL
    table: str
    where: str  # the list's own filter (e.g. "post_id = %(post_id)s"), "TRUE" for none
    created_desc: bool
    id_desc: bool

    def _after(self, created_desc, id_desc):
        # created_at first, alone: the bound the index scan starts at. The OR only sorts
        # out rows of the same created_at (a tie of microsecond times).
        c, i = _op(created_desc), _op(id_desc)
        return (f"created_at {c}= %(k_created)s::timestamptz AND "
                f"(created_at {c} %(k_created)s::timestamptz OR id {i} %(k_id)s)")

    def sql(self, forward, with_key):
        """Rows in the direction of travel, one more than asked (is there another page?),
        each followed by its key (created_at, id)."""
        created_desc = self.created_desc == forward
        id_desc = self.id_desc == forward
        where = [self.where] + ([self._after(created_desc, id_desc)] if with_key else [])
        return (f"SELECT {self.columns}, created_at, id FROM {self.table} WHERE {' AND '.join(where)} "
                f"ORDER BY created_at {_dir(created_desc)}, id {_dir(id_desc)} LIMIT %(k_limit)s")

    def exists_sql(self, forward):
        """Is there any row strictly after (forward) or before the key?"""
        created_desc = self.created_desc == forward
        id_desc = self.id_desc == forward
        return (f"SELECT EXISTS (SELECT 1 FROM {self.table} WHERE {self.where} AND "
                f"{self._after(created_desc, id_desc)})")

    def beside(self, key, forward):
        """The key one id step before `key` in the direction of travel: strictly after it
        is then after-or-at `key` (for a page that came back empty: its neighbour must
        include the row at the key)."""
        step = -1 if self.id_desc == forward else 1
        return key[0], max(0, min(2**63 - 1, key[1] - step))

    def _exists(self, db, params, key, forward):
        return db.execute_sql(self.exists_sql(forward),
                              {**params, "k_created": key[0], "k_id": key[1]}).fetchone()[0]

    def page(self, db, limit, direction, key, params=None):
        params = dict(params or {})
        forward = direction != "prev"
        query = {**params, "k_limit": limit + 1}
        if key is not None:
            query.update(k_created=key[0], k_id=key[1])
        rows = db.execute_sql(self.sql(forward, key is not None), query).fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        if not forward:
            rows.reverse()
        keys = [(row[-2].isoformat(), row[-1]) for row in rows]
        if key is None:  # the first page (or, backwards, the last): nothing on the near side
            near = None
        elif keys:
            near_key = keys[0] if forward else keys[-1]
            near = near_key if self._exists(db, params, near_key, not forward) else None
        else:  # the rows beyond the key went meanwhile: the neighbour includes the key's row
            near_key = self.beside(key, not forward)
            near = near_key if self._exists(db, params, near_key, not forward) else None
        far = (keys[-1] if forward else keys[0]) if more else None
        nxt, previous = (far, near) if forward else (near, far)
        if forward and key is None:
            previous = None  # contract: the first page has no previous
        return {"rows": [row[:-2] for row in rows], "next": nxt, "previous": previous}
