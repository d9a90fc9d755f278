"""Persistent store: SQLAlchemy Core tables, Alembic migrations, small repository modules.

``engine`` opens the database (SQLite file by default, PostgreSQL by URL) and migrates it;
``schema`` declares every table. Repository modules take a ``Connection`` (the caller owns
the transaction, so facts and the commands derived from them commit together) and an
explicit ``now``; they never read the clock:

- ``inbox``: raw webhooks, deduplicated;
- ``jobs``: delayed, leased, retried work;
- ``outbox``: Brevo commands, leased in batches, ``coalesce`` merges per contact;
- ``ledger``: effects already sent;
- ``cursors``: named resumable positions;
- ``facts``: meeting instances, attendance sessions, registrants, people, recordings,
  import rejections;
- ``deadletters``: dead jobs and commands, listed and re-queued;
- ``roster``: an instance's people and their facts, read for deriving;
- ``erasing``: rows by table name and key, for the right to erasure.
"""
