"""What the data export (contract v2 section 6.4) needs from the comments service: every
comment of a user, oldest first, in the list shape; deleted ones (placeholders) left out."""
from imageboard.pagination import is_id
from services.comments.schemas import ITEM_COLUMNS, comment_row

COMMENTS_OF_AUTHOR_SQL = (f"SELECT {', '.join(ITEM_COLUMNS)} FROM comments "
                          "WHERE author_id = %s AND NOT is_deleted ORDER BY created_at, id")


def comments_of_author(store, author_id):
    if not is_id(author_id):
        return []
    rows = store.db.execute_sql(COMMENTS_OF_AUTHOR_SQL, (author_id,)).fetchall()
    return [comment_row(row, store.config) for row in rows]
