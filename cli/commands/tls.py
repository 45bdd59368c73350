"""`llm tls ca`: the stack's CA certificate, for browsers and tools to trust."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import click

from cli import inventory, runner
from cli.errors import EXIT_OK, LlmError
from cli.options import ansible_options, collect_ansible_options, stack_dir_option
from cli.stack import StackDir, resolve_dir

HOW_TO_TRUST = """\
Trust it where people open the chat:
  Debian/Ubuntu:  sudo cp {out} /usr/local/share/ca-certificates/local-llm-stack-ca.crt
                  && sudo update-ca-certificates
  Chromium:       certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n local-llm-stack-CA -i {out}
  Firefox:        Settings > Privacy & Security > Certificates > View Certificates > Import
  Windows:        certutil -addstore Root {out}   (as administrator)
  macOS:          sudo security add-trusted-cert -d -r trustRoot
                  -k /Library/Keychains/System.keychain {out}
Or for every machine of an inventory group at once:
  llm tls ca --install-on GROUP"""


@click.group()
def tls() -> None:
    """The stack's certificates (security module)."""


@tls.command(name="ca")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("local-llm-stack-ca.crt"), show_default=True,
              help="Where to write the CA certificate.")  # fmt: skip
@click.option("--install-on", "group", metavar="GROUP",
              help="Also trust it on this group's hosts (system, Firefox, Chromium).")  # fmt: skip
@stack_dir_option
@ansible_options
def ca(out: Path, group: str | None, stack_dir: Path | None, **ansible_args: Any) -> int:
    """Write the stack CA's certificate and say how to trust it."""
    opts = collect_ansible_options(**ansible_args)
    stack = StackDir(resolve_dir(stack_dir)).require()
    source = stack.tls / "ca.crt"
    if not source.is_file():
        raise LlmError(
            f"no CA certificate in {stack.tls} yet",
            "enable the security module and install: llm modules enable security && llm install",
        )
    if group:  # checked before anything is written
        inventory_path = inventory.resolve(opts.inventory, stack.inventory)
        if not inventory.any_group_hosts(inventory_path, opts.limit, group):
            raise LlmError(f"the inventory {inventory_path} has no host in group {group!r}",
                           "name a group of that inventory, or add the machines to it")  # fmt: skip
    if opts.check:  # check mode changes nothing here either
        click.echo(f"check mode: would write the stack's CA certificate to {out}.")
    else:
        shutil.copyfile(source, out)
        out.chmod(0o644)
        der_hint = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
        click.echo(f"Wrote the stack's CA certificate to {out} (file sha256 {der_hint}...).")
    if not group:
        click.echo(HOW_TO_TRUST.format(out=out))
        return EXIT_OK
    from cli.display import RunDisplay

    job = runner.PlaybookRun.from_options(
        "tls-trust", inventory_path, opts,
        extra_vars={"llm_tls_trust_hosts": group, "gateway_tls_dir": str(stack.tls)},
        change=f"the stack's CA trusted on {group}",
        targets=inventory.any_group_hosts(inventory_path, opts.limit, group),
    )  # fmt: skip
    return runner.run(stack, job, RunDisplay(verbose=opts.verbosity > 0))
