"""Run the Alembic migrations programmatically (``sherlog serve`` and tests call ``upgrade``).

``sherlog migrate`` uses ``upgrade`` once per release (a Kubernetes Job or a Compose one-shot service), and
``schema_status`` to let every other process wait until the schema is current before it starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).with_name("migrations")


@dataclass(frozen=True)
class SchemaStatus:
    """Where a database stands against the migrations this code ships."""

    current: tuple[str, ...]  # revisions recorded in the database (empty: never migrated)
    heads: tuple[str, ...]  # the newest revisions of this release

    @property
    def up_to_date(self) -> bool:
        return set(self.current) == set(self.heads)

    def describe(self) -> str:
        current = ", ".join(self.current) or "none (never migrated)"
        return f"database at {current}; this release needs {', '.join(self.heads)}"


def alembic_config(engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        cfg.attributes["connection_engine"] = engine
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.begin() as connection:
        cfg = alembic_config(engine)
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def head_revisions() -> tuple[str, ...]:
    return tuple(sorted(ScriptDirectory.from_config(alembic_config()).get_heads()))


def schema_status(engine: Engine) -> SchemaStatus:
    """Read the database's recorded revisions (raises SQLAlchemyError when it cannot be reached)."""
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
    return SchemaStatus(current=tuple(sorted(current)), heads=head_revisions())
