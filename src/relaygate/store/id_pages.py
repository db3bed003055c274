"""Pages of rows whose ids are ULIDs, with the SDKs' cursors: ``starting_after`` the last id of
the previous page, ``ending_before`` the first id of the next one.

A ULID sorts by creation, so a page ordered by id is ordered by time. ``newest_first``
pages run from the newest row down; the others in creation order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select

Row = TypeVar("Row")


@dataclass(frozen=True)
class PageRequest:
    limit: int
    starting_after: str | None = None
    ending_before: str | None = None
    newest_first: bool = True

    @property
    def backwards(self) -> bool:
        """Whether the page is read towards ``ending_before`` (and turned round after)."""
        return self.ending_before is not None and self.starting_after is None


def paged(query: Select[Any], id_column: ColumnElement[str], page: PageRequest) -> Select[Any]:
    """``query`` narrowed to one page plus one row (which says whether there are more)."""
    descending = page.newest_first != page.backwards
    if page.starting_after is not None:
        after = id_column < page.starting_after if page.newest_first else id_column > page.starting_after
        query = query.where(after)
    if page.ending_before is not None:
        before = id_column > page.ending_before if page.newest_first else id_column < page.ending_before
        query = query.where(before)
    order = id_column.desc() if descending else id_column.asc()
    return query.order_by(order).limit(page.limit + 1)


def page_of(rows: Sequence[Row], page: PageRequest) -> tuple[list[Row], bool]:
    """The page's rows in the page's order, and whether more lie beyond it."""
    kept = list(rows[: page.limit])
    if page.backwards:
        kept.reverse()
    return kept, len(rows) > page.limit
