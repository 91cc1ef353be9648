"""What the posts and comments services share about moderated items (contract v2 section
4.3): whether a row is removed. A removed item is missing for non-admins, so it cannot be
reported (section 5.1). Read from the row's `removed` flag or `removed_at` time, whichever
its model has; a model with neither (before removal exists) has no removed rows."""


def is_removed(row):
    return bool(getattr(row, "removed", False)) or getattr(row, "removed_at", None) is not None
