"""`auth-service keys`: signing keys for JWT_ALGORITHM=ES256/RS256 (rotation runbook in
docs/operations.md)."""

from __future__ import annotations

import os
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from app.core.keys import generate_private_key

keys_cli = typer.Typer(no_args_is_help=True, help="Signing keys for ES256/RS256 tokens.")


class KeyAlgorithm(StrEnum):
    ES256 = "ES256"
    RS256 = "RS256"


@keys_cli.command()
def generate(
    algorithm: Annotated[KeyAlgorithm, typer.Option(help="ES256 (P-256) or RS256 (3072 bits)")],
    out: Annotated[Path, typer.Option(help="Where to write the PEM private key (mode 0600)")],
    force: Annotated[bool, typer.Option(help="Replace OUT if it exists")] = False,
) -> None:
    """Write a new private key and print its kid (the RFC 7638 thumbprint tokens carry)."""
    pem, kid = generate_private_key(algorithm.value)
    try:
        _write_private(out, pem, replace=force)
    except FileExistsError:
        typer.echo(f"auth-service: {out} exists; pass --force to replace it", err=True)
        raise typer.Exit(1) from None
    except OSError as exc:
        typer.echo(f"auth-service: cannot write {out}: {exc.strerror}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"wrote a new {algorithm.value} private key to {out}", err=True)
    typer.echo(kid)


def _write_private(path: Path, data: bytes, *, replace: bool) -> None:
    """Whole or not at all, and never readable by others, even for a moment: the key goes
    to a 0600 temporary file beside `path`, then takes its name (link refuses an existing
    name; replace does not)."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        if replace:
            os.replace(temporary, path)
        else:
            os.link(temporary, path)
    finally:
        if os.path.lexists(temporary):
            os.unlink(temporary)
