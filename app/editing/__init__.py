"""Layout editing without Qt: the collision world of the open factory on a thread of its own, the rules
that allow or refuse a placement, and the new factory versions an edit makes."""
