"""items: one table every item reference points at, with real foreign keys; ids never reused

Artefacts, reflections and goals now share their id with a row in `items` (which replaces timeline_entries), so
every id is unique across types. Comments, feedback requests, approvals, showcase entries and notifications
reference items.id with ON DELETE CASCADE instead of an (item_type, item_id) pair. Existing ids are renumbered
above every old id (so no renumbered row can collide with one not yet renumbered) and every reference follows;
references to items that no longer exist (the rows the old design left behind) are deleted. Tables with an
exposed integer id get AUTOINCREMENT on SQLite.

SQLite runs this with foreign keys off (app.migrate) so rebuilding a table never cascades; PostgreSQL drops and
recreates the foreign keys that point at renumbered ids around the renumbering.

Revision ID: i10_items
Revises: i10_approval_snapshots
Create Date: 2026-12-07
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "i10_items"
down_revision: Union[str, Sequence[str], None] = "i10_approval_snapshots"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ITEM_TABLES = {"artefact": "artefacts", "reflection": "reflections", "goal": "goals"}
POLYMORPHIC = ("comments", "feedback_requests", "item_approvals")
# Every table whose primary key is one integer `id` (AUTOINCREMENT on SQLite, so ids are never handed out twice).
ID_TABLES = (
    "schools", "users", "classes", "enrollments", "guardian_links", "family_invitations", "digest_logs",
    "user_sessions", "login_failures", "frameworks", "competencies", "proficiency_levels", "competency_ratings",
    "tags", "goal_steps", "goal_checkins", "comments", "feedback_requests", "notifications", "item_approvals",
    "showcases", "showcase_items", "share_links", "share_link_views", "conference_responses", "conference_slots",
    "jobs",
)

ITEMS_FTS = [
    "CREATE VIRTUAL TABLE items_fts USING fts5("
    "title, body, content='items', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN "
    "INSERT INTO items_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN "
    "INSERT INTO items_fts(items_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); END",
    "CREATE TRIGGER items_fts_update AFTER UPDATE ON items BEGIN "
    "INSERT INTO items_fts(items_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); "
    "INSERT INTO items_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "INSERT INTO items_fts(items_fts) VALUES ('rebuild')",
]
TIMELINE_FTS = [
    "CREATE VIRTUAL TABLE timeline_fts USING fts5("
    "title, body, content='timeline_entries', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER timeline_fts_insert AFTER INSERT ON timeline_entries BEGIN "
    "INSERT INTO timeline_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER timeline_fts_delete AFTER DELETE ON timeline_entries BEGIN "
    "INSERT INTO timeline_fts(timeline_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); END",
    "CREATE TRIGGER timeline_fts_update AFTER UPDATE ON timeline_entries BEGIN "
    "INSERT INTO timeline_fts(timeline_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); "
    "INSERT INTO timeline_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "INSERT INTO timeline_fts(timeline_fts) VALUES ('rebuild')",
]

ITEM_TYPE = sa.Enum("artefact", "reflection", "goal", name="itemtype", native_enum=False, length=20)
AUDIENCE = sa.Enum("private", "class", "family", name="audience", native_enum=False, length=20)


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _fks_to(tables: set[str]) -> list[dict]:
    """The foreign keys (of every table) that point at `tables`, as the inspector describes them."""
    inspector = sa.inspect(op.get_bind())
    found = []
    for table in inspector.get_table_names():
        for fk in inspector.get_foreign_keys(table):
            if fk["referred_table"] in tables:
                found.append({**fk, "table": table})
    return found


def _drop_fks(fks: list[dict]) -> None:
    for fk in fks:
        op.drop_constraint(fk["name"], fk["table"], type_="foreignkey")


def _create_fks(fks: list[dict]) -> None:
    for fk in fks:
        op.create_foreign_key(fk["name"], fk["table"], fk["referred_table"], fk["constrained_columns"],
                              fk["referred_columns"], ondelete=(fk.get("options") or {}).get("ondelete"))


def _set_sequence(table: str) -> None:
    # Rows inserted with explicit ids leave a PostgreSQL sequence behind; the next id must come after them.
    if not _sqlite():
        op.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)")


def _day(value):
    # Raw SQL returns SQLite's timestamps as text and PostgreSQL's as datetimes.
    return value.date() if hasattr(value, "date") else str(value)[:10]


def _autoincrement(enabled: bool) -> None:
    if not _sqlite():
        return
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for table in ID_TABLES:
        if table in existing:
            with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": enabled}):
                pass


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = _sqlite()

    op.create_table(
        "items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type", ITEM_TYPE, nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("audience", AUDIENCE, nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_items_owner_when", "items", ["owner_id", "occurred_on", "id"], unique=False)

    # --- renumber: new ids above every old id, copied from the timeline rows --------------------------------
    offset = max(bind.execute(sa.text(f"SELECT COALESCE(MAX(id), 0) FROM {table}")).scalar_one()
                 for table in ITEM_TABLES.values())
    op.create_table("item_id_map", sa.Column("type", sa.String(20), nullable=False),
                    sa.Column("old_id", sa.Integer(), nullable=False), sa.Column("new_id", sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint("type", "old_id"))
    timeline = {(row.item_type, row.item_id): row for row in bind.execute(sa.text(
        "SELECT item_type, item_id, kind, title, body, audience, occurred_on, updated_at FROM timeline_entries"))}
    items_table = sa.table("items", *(sa.column(c) for c in (
        "id", "type", "owner_id", "kind", "title", "body", "audience", "occurred_on", "created_at", "updated_at")))
    map_table = sa.table("item_id_map", sa.column("type"), sa.column("old_id"), sa.column("new_id"))
    new_id = offset
    for item_type, table in ITEM_TABLES.items():
        kind = "kind" if item_type == "artefact" else "status"
        rows = bind.execute(sa.text(
            f"SELECT id, owner_id, {kind} AS kind, title, audience, created_at, updated_at FROM {table} ORDER BY id")).all()
        items, mapping = [], []
        for row in rows:
            new_id += 1
            entry = timeline.get((item_type, row.id))
            items.append(dict(
                id=new_id, type=item_type, owner_id=row.owner_id, kind=entry.kind if entry else row.kind,
                title=entry.title if entry else row.title, body=entry.body if entry else "",
                audience=entry.audience if entry else row.audience,
                occurred_on=entry.occurred_on if entry else _day(row.created_at), created_at=row.created_at,
                updated_at=entry.updated_at if entry else row.updated_at))
            mapping.append(dict(type=item_type, old_id=row.id, new_id=new_id))
        if items:
            bind.execute(items_table.insert(), items)
            bind.execute(map_table.insert(), mapping)
    _set_sequence("items")

    # References that name no existing item are what the old design left behind: they go.
    def missing(table: str, type_column: str, id_column: str = "item_id") -> str:
        return (f"NOT EXISTS (SELECT 1 FROM item_id_map m WHERE m.type = {table}.{type_column} "
                f"AND m.old_id = {table}.{id_column})")

    op.execute(f"DELETE FROM comments WHERE {missing('comments', 'item_type')}")
    op.execute("DELETE FROM comments WHERE parent_id IS NOT NULL AND parent_id NOT IN (SELECT id FROM comments)")
    op.execute(f"DELETE FROM feedback_requests WHERE {missing('feedback_requests', 'item_type')}")
    op.execute("DELETE FROM feedback_recipients WHERE request_id NOT IN (SELECT id FROM feedback_requests)")
    op.execute("UPDATE comments SET request_id = NULL WHERE request_id IS NOT NULL "
               "AND request_id NOT IN (SELECT id FROM feedback_requests)")
    op.execute(f"DELETE FROM item_approvals WHERE item_id IS NOT NULL AND {missing('item_approvals', 'item_type')}")
    op.execute(f"DELETE FROM showcase_items WHERE item_type <> 'competency' AND {missing('showcase_items', 'item_type')}")
    op.execute("DELETE FROM showcase_items WHERE item_type = 'competency' "
               "AND item_id NOT IN (SELECT id FROM competencies)")

    fks = [fk for fk in _fks_to(set(ITEM_TABLES.values())) if fk["table"] not in ITEM_TABLES.values()
           or fk["constrained_columns"] != ["id"]]
    if not sqlite:
        _drop_fks(fks)
    for item_type, table in ITEM_TABLES.items():
        op.execute(f"UPDATE {table} SET id = (SELECT new_id FROM item_id_map m "
                   f"WHERE m.type = '{item_type}' AND m.old_id = {table}.id)")
    for fk in fks:
        item_type = next(t for t, name in ITEM_TABLES.items() if name == fk["referred_table"])
        column = fk["constrained_columns"][0]
        op.execute(f"UPDATE {fk['table']} SET {column} = (SELECT new_id FROM item_id_map m "
                   f"WHERE m.type = '{item_type}' AND m.old_id = {fk['table']}.{column}) WHERE {column} IS NOT NULL")
    for table in POLYMORPHIC:
        op.execute(f"UPDATE {table} SET item_id = (SELECT new_id FROM item_id_map m "
                   f"WHERE m.type = {table}.item_type AND m.old_id = {table}.item_id) WHERE item_id IS NOT NULL")
    op.execute("UPDATE showcase_items SET item_id = (SELECT new_id FROM item_id_map m "
               "WHERE m.type = showcase_items.item_type AND m.old_id = showcase_items.item_id) "
               "WHERE item_type <> 'competency'")
    if not sqlite:
        _create_fks(fks)

    # --- the new shape ------------------------------------------------------------------------------------
    for table in ITEM_TABLES.values():
        with op.batch_alter_table(table) as batch_op:
            batch_op.create_foreign_key(f"fk_{table}_item", "items", ["id"], ["id"], ondelete="CASCADE")
        if not sqlite:
            # The id now comes from items; the table's own sequence would only mislead.
            op.execute(f"ALTER TABLE {table} ALTER COLUMN id DROP DEFAULT")
            op.execute(f"DROP SEQUENCE IF EXISTS {table}_id_seq")

    op.drop_index("ix_comments_item", table_name="comments")
    with op.batch_alter_table("comments") as batch_op:
        batch_op.drop_column("item_type")
        batch_op.create_foreign_key("fk_comments_item", "items", ["item_id"], ["id"], ondelete="CASCADE")
    op.create_index("ix_comments_item", "comments", ["item_id", "created_at"], unique=False)

    op.drop_index("ix_feedback_requests_item", table_name="feedback_requests")
    with op.batch_alter_table("feedback_requests") as batch_op:
        batch_op.drop_column("item_type")
        batch_op.create_foreign_key("fk_feedback_requests_item", "items", ["item_id"], ["id"], ondelete="CASCADE")
    op.create_index("ix_feedback_requests_item_id", "feedback_requests", ["item_id"], unique=False)

    with op.batch_alter_table("item_approvals") as batch_op:
        batch_op.drop_constraint("ck_item_approvals_one_item", type_="check")
    with op.batch_alter_table("item_approvals") as batch_op:
        batch_op.drop_column("item_type")  # its unique constraint (item_type, item_id) goes with it
        batch_op.create_unique_constraint("uq_item_approvals_item_id", ["item_id"])
        batch_op.create_foreign_key("fk_item_approvals_item", "items", ["item_id"], ["id"], ondelete="CASCADE")
        batch_op.create_check_constraint("ck_item_approvals_one_target", "(item_id IS NULL) <> (showcase_id IS NULL)")

    old_unique = next((uq["name"] for uq in sa.inspect(bind).get_unique_constraints("showcase_items")
                       if uq["column_names"] == ["showcase_id", "item_type", "item_id"]), None)
    naming = {"uq": "uq_%(table_name)s_%(column_0_N_name)s"}
    with op.batch_alter_table("showcase_items", naming_convention=naming) as batch_op:
        batch_op.drop_constraint(old_unique or "uq_showcase_items_showcase_id_item_type_item_id", type_="unique")
        batch_op.alter_column("item_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("competency_id", sa.Integer(), nullable=True))
    op.execute("UPDATE showcase_items SET competency_id = item_id, item_id = NULL WHERE item_type = 'competency'")
    with op.batch_alter_table("showcase_items") as batch_op:
        batch_op.create_unique_constraint("uq_showcase_items_showcase_id_item_id", ["showcase_id", "item_id"])
        batch_op.create_unique_constraint("uq_showcase_items_showcase_id_competency_id", ["showcase_id", "competency_id"])
        batch_op.create_check_constraint("ck_showcase_items_one_target", "(item_id IS NULL) <> (competency_id IS NULL)")
        batch_op.create_foreign_key("fk_showcase_items_item", "items", ["item_id"], ["id"], ondelete="CASCADE")
        batch_op.create_foreign_key("fk_showcase_items_competency", "competencies", ["competency_id"], ["id"],
                                    ondelete="CASCADE")
    op.create_index("ix_showcase_items_item_id", "showcase_items", ["item_id"], unique=False)
    op.create_index("ix_showcase_items_competency_id", "showcase_items", ["competency_id"], unique=False)

    with op.batch_alter_table("notifications") as batch_op:
        batch_op.add_column(sa.Column("item_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("showcase_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_notifications_item", "items", ["item_id"], ["id"], ondelete="CASCADE")
        batch_op.create_foreign_key("fk_notifications_showcase", "showcases", ["showcase_id"], ["id"], ondelete="CASCADE")
    op.create_index("ix_notifications_item_id", "notifications", ["item_id"], unique=False)
    op.create_index("ix_notifications_showcase_id", "notifications", ["showcase_id"], unique=False)

    if sqlite:
        for name in ("timeline_fts_insert", "timeline_fts_delete", "timeline_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS timeline_fts")
    op.drop_index("ix_timeline_owner_when", table_name="timeline_entries")
    op.drop_table("timeline_entries")
    op.drop_table("item_id_map")
    if sqlite:
        for statement in ITEMS_FTS:
            op.execute(statement)
    _autoincrement(True)


def downgrade() -> None:
    """Back to (item_type, item_id) pairs; ids keep their new values (unique across types, so nothing collides)."""
    bind = op.get_bind()
    sqlite = _sqlite()
    _autoincrement(False)
    if sqlite:
        for name in ("items_fts_insert", "items_fts_delete", "items_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS items_fts")

    op.create_table(
        "timeline_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("item_type", ITEM_TYPE, nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("audience", AUDIENCE, nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_type", "item_id"),
    )
    op.create_index("ix_timeline_owner_when", "timeline_entries", ["owner_id", "occurred_on", "id"], unique=False)
    op.execute("INSERT INTO timeline_entries (id, owner_id, item_type, item_id, kind, title, body, audience, occurred_on, "
               "updated_at) SELECT id, owner_id, type, id, kind, title, body, audience, occurred_on, updated_at FROM items")
    _set_sequence("timeline_entries")

    op.drop_index("ix_notifications_showcase_id", table_name="notifications")
    op.drop_index("ix_notifications_item_id", table_name="notifications")
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.drop_constraint("fk_notifications_showcase", type_="foreignkey")
        batch_op.drop_constraint("fk_notifications_item", type_="foreignkey")
        batch_op.drop_column("showcase_id")
        batch_op.drop_column("item_id")

    op.drop_index("ix_showcase_items_competency_id", table_name="showcase_items")
    op.drop_index("ix_showcase_items_item_id", table_name="showcase_items")
    with op.batch_alter_table("showcase_items") as batch_op:
        batch_op.drop_constraint("fk_showcase_items_competency", type_="foreignkey")
        batch_op.drop_constraint("fk_showcase_items_item", type_="foreignkey")
        batch_op.drop_constraint("ck_showcase_items_one_target", type_="check")
        batch_op.drop_constraint("uq_showcase_items_showcase_id_competency_id", type_="unique")
        batch_op.drop_constraint("uq_showcase_items_showcase_id_item_id", type_="unique")
    op.execute("UPDATE showcase_items SET item_id = competency_id WHERE item_type = 'competency'")
    with op.batch_alter_table("showcase_items") as batch_op:
        batch_op.drop_column("competency_id")
        batch_op.alter_column("item_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint("showcase_items_showcase_id_item_type_item_id_key",
                                          ["showcase_id", "item_type", "item_id"])

    for table, index in (("item_approvals", None), ("feedback_requests", "ix_feedback_requests_item_id"),
                         ("comments", "ix_comments_item")):
        if index:
            op.drop_index(index, table_name=table)
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_item", type_="foreignkey")
            if table == "item_approvals":
                batch_op.drop_constraint("uq_item_approvals_item_id", type_="unique")
                batch_op.drop_constraint("ck_item_approvals_one_target", type_="check")
            batch_op.add_column(sa.Column("item_type", ITEM_TYPE, nullable=True))
        op.execute(f"UPDATE {table} SET item_type = (SELECT type FROM items WHERE items.id = {table}.item_id)")
        with op.batch_alter_table(table) as batch_op:
            if table == "item_approvals":  # a showcase's approval has no item
                batch_op.create_unique_constraint("item_approvals_item_type_item_id_key", ["item_type", "item_id"])
                batch_op.create_check_constraint("ck_item_approvals_one_item", (
                    "(item_type IS NOT NULL AND item_id IS NOT NULL AND showcase_id IS NULL)"
                    " OR (item_type IS NULL AND item_id IS NULL AND showcase_id IS NOT NULL)"))
            else:
                batch_op.alter_column("item_type", existing_type=ITEM_TYPE, nullable=False)
    op.create_index("ix_comments_item", "comments", ["item_type", "item_id", "created_at"], unique=False)
    op.create_index("ix_feedback_requests_item", "feedback_requests", ["item_type", "item_id"], unique=False)

    for table in ITEM_TABLES.values():
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_item", type_="foreignkey")
        if not sqlite:
            op.execute(f"CREATE SEQUENCE IF NOT EXISTS {table}_id_seq OWNED BY {table}.id")
            op.execute(f"ALTER TABLE {table} ALTER COLUMN id SET DEFAULT nextval('{table}_id_seq')")
            _set_sequence(table)
    op.drop_index("ix_items_owner_when", table_name="items")
    op.drop_table("items")
    if sqlite:
        for statement in TIMELINE_FTS:
            op.execute(statement)
    del bind
