"""``zoom-brevo rotate-key``: seal every stored token with the newest encryption key."""

from __future__ import annotations

import json

import typer

from zoom_brevo.cli.context import JsonOption, epilog, state_of, stdout
from zoom_brevo.crypto import Cipher
from zoom_brevo.oauth_tokens import rotate_key as run_rotation
from zoom_brevo.wiring import open_store

EPILOG = epilog(
    """
With `storage.encryption_key: NEW_KEY,OLD_KEY` in the configuration:
""",
    "zoom-brevo rotate-key     # then remove OLD_KEY from the configuration",
)


def rotate_key(
    ctx: typer.Context,
    json_output: JsonOption = False,
) -> None:
    """Re-encrypt stored OAuth tokens with the newest encryption key.

    The newest key is the first of storage.encryption_key. Put the new key first and keep
    the old ones after it (a list, or comma-separated); run this; then the old keys can be
    removed. Every stored token is checked first: nothing changes unless all of them can be
    read.
    """
    settings = state_of(ctx).settings()
    cipher = Cipher.from_setting(settings.storage.encryption_key)
    engine = open_store(settings)
    try:
        rotation = run_rotation(engine, cipher)
    finally:
        engine.dispose()
    if json_output:
        document = {
            "key_id": rotation.key_id,
            "resealed": rotation.resealed,
            "already_current": rotation.already_current,
        }
        typer.echo(json.dumps(document))
        return
    stdout().print(
        f"re-encrypted {rotation.resealed} stored token(s) with key {rotation.key_id};"
        f" {rotation.already_current} already used it",
        markup=False,
    )
