"""`llm tls ca`: the stack's CA certificate, for browsers and tools to trust."""

from __future__ import annotations

import hashlib
from pathlib import Path

import click

from cli import inventory, pending, prompts, runner, secretstore
from cli.errors import EXIT_OK, LlmError
from cli.options import refuse_check
from cli.playbook_command import Target, playbook_command

# The module these commands belong to (playbooks/vars/modules.yml).
MODULE = "security"

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


PEM_CERTIFICATE = b"-----BEGIN CERTIFICATE-----"


def _write_certificate(source: Path, out: Path) -> None:
    """Copy the CA certificate to out: never into the stack's certificate directory, never
    through a link, never over a file that is not a certificate (an earlier copy is replaced:
    secrets.yml, a key or anyone's notes are left as they are)."""
    data = source.read_bytes()
    if not data.lstrip().startswith(PEM_CERTIFICATE):
        raise LlmError(f"{source} is not a PEM certificate",
                       "make a new CA: llm tls ca --rotate")  # fmt: skip
    if out.is_symlink() or out.is_dir():
        raise LlmError(f"{out} is a link or a directory: the certificate is not written there",
                       "give a new file name with --out")  # fmt: skip
    if out.resolve().is_relative_to(source.parent.resolve()):
        raise LlmError(f"{out} is in the stack's certificate directory {source.parent}",
                       "write the copy elsewhere, e.g. --out local-llm-stack-ca.crt")  # fmt: skip
    if out.exists():
        try:
            earlier = out.read_bytes()
        except OSError as exc:
            raise LlmError(f"cannot read {out}: {exc.strerror}", "give another --out") from None
        if not earlier.lstrip().startswith(PEM_CERTIFICATE):
            raise LlmError(f"{out} exists and is not a certificate: it is left as it is",
                           "give another file name with --out, or remove that file")  # fmt: skip
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        tmp.write_bytes(data)
        tmp.chmod(0o644)
        tmp.replace(out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise LlmError(
            f"cannot write the CA certificate to {out}: {exc.strerror}",
            "choose another place with --out (its directory must exist)",
        ) from None


@tls.command(name="ca")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("local-llm-stack-ca.crt"), show_default=True,
              help="Where to write the CA certificate.")  # fmt: skip
@click.option("--install-on", "group", metavar="GROUP",
              help="Also trust it on this group's hosts (system, Firefox, Chromium).")  # fmt: skip
@click.option("--rotate", is_flag=True,
              help="First make a new CA (one that may sign only for the stack's names) and "
                   "give every gateway a certificate from it.")  # fmt: skip
@click.option("-y", "--yes", is_flag=True, help="Do not ask before --rotate.")
@playbook_command()
def ca(target: Target, out: Path, group: str | None, rotate: bool, yes: bool) -> int:
    """Write the stack CA's certificate and say how to trust it."""
    opts, stack = target.opts, target.stack
    source = stack.tls / "ca.crt"
    if not source.is_file():
        raise LlmError(
            f"no CA certificate in {stack.tls} yet",
            f"enable the {MODULE} module and install: llm modules enable {MODULE} && llm install",
        )
    # The hosts of --install-on; `llm tls ca` alone only checks an -i or --limit given.
    if group and not inventory.any_group_hosts(target.inventory, opts.limit, group):
        if opts.limit and inventory.any_group_hosts(target.inventory, None, group):
            raise LlmError(f"--limit {opts.limit!r} matches no host of group {group!r}",
                           "name hosts of that group, or leave out --limit")  # fmt: skip
        raise LlmError(f"the inventory {target.inventory} has no host in group {group!r}",
                       "name a group of that inventory, or add the machines to it")  # fmt: skip
    if not group and not rotate:
        target.check_given()
    if rotate:
        code = _rotate(target, yes)
        if code != EXIT_OK:
            return code
    if opts.check:  # check mode changes nothing here either
        click.echo(f"check mode: would write the stack's CA certificate to {out}.")
    else:
        _write_certificate(source, out)
        der_hint = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
        click.echo(f"Wrote the stack's CA certificate to {out} (file sha256 {der_hint}...).")
    if not group:
        click.echo(HOW_TO_TRUST.format(out=out))
        return EXIT_OK
    return target.run(
        "tls-trust",
        extra_vars={"llm_tls_trust_hosts": group, "gateway_tls_dir": str(stack.tls)},
        change=f"the stack's CA trusted on {group}",
        targets=inventory.any_group_hosts(target.inventory, opts.limit, group),
    )


# The hosts that hold the CA's work: the gateways (their certificates) and the chat
# hosts (LibreChat trusts the gateway through the CA).
ROTATE_GROUPS = ("llm_gateway", "llm_chat")


def _rotate(target: Target, yes: bool) -> int:
    """Retire the CA (kept, not deleted), then install on the gateways and chat hosts,
    which makes the new CA and re-issues each gateway's certificate from it."""
    opts, stack = target.opts, target.stack
    refuse_check(opts, "tls ca --rotate", "a rotation retires the CA before it redeploys")
    limit = opts.limit or ":".join(ROTATE_GROUPS)
    # Within the user's --limit (an error quotes only what they typed).
    targets = sorted(
        {
            h
            for group in ROTATE_GROUPS
            for h in inventory.group_hosts(target.inventory, opts.limit, group)
        }
    )
    if not targets and opts.limit:
        raise LlmError(f"--limit {opts.limit!r} matches no gateway or chat host in "
                       f"{target.inventory}", "name one of them, or leave out --limit")  # fmt: skip
    if not targets:
        raise LlmError(f"the inventory {target.inventory} has no gateway or chat host",
                       f"the CA is the {MODULE} module's: enable it and install first")  # fmt: skip
    target.require_module_groups()
    runner.check_settings(stack)  # a refused run must not follow a retired CA
    prompts.confirm(
        "Make a new CA? Every gateway gets a certificate from it, and browsers that trust "
        "only the old CA will warn until they trust the new one (llm tls ca --install-on).",
        "rotating the stack's CA: a new CA, new gateway certificates, browsers to re-trust",
        yes,
    )
    from datetime import UTC, datetime

    secretstore.ensure(stack.secrets)  # as install does: a stack from before lacks newer ones
    retired = stack.tls / f"retired-ca-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    retired.mkdir(mode=0o700)
    for name in ("ca.crt", "ca.key"):
        if (stack.tls / name).exists():
            (stack.tls / name).rename(retired / name)
    click.echo(f"the old CA is kept in {retired}; making a new one on {limit}")
    change = "the stack's CA rotated"
    code, restored = None, False
    try:
        code = target.run("install", limit=limit, change=change, targets=targets)
    finally:
        # Refused before Ansible started, interrupted, every host unreachable, or no gateway
        # with the stack's CA in the run: no new CA was made, so the old one goes back.
        if not (stack.tls / "ca.crt").exists():
            for kept in retired.iterdir():
                kept.rename(stack.tls / kept.name)
            retired.rmdir()
            pending.forget(stack.runs, "install", change)
            click.echo("no new CA was made: the stack's CA is the one it was", err=True)
            restored = True
    if restored and code == EXIT_OK:  # the run went well but rotated nothing
        raise LlmError(
            f"no gateway in {limit} made a new CA (the {MODULE} module off, or no gateway "
            "with gateway_cert_source own_ca in the run)",
            "enable the module and check the gateways' settings, then rotate again",
        )
    if code != EXIT_OK and not restored:
        click.echo("the new CA is not on every host yet: 'llm install' finishes it", err=True)
    return code
