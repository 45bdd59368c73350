"""Wall time of `llm install` on container labs, through the real CLI.

Prints, for an all-in-one lab (one host), the first install, the no-op re-run (the
faster of two) and their ratio, and the same no-op with Mitogen (llm_mitogen) in the same
run; then, for a multi-host lab (one chat host, two Ollama hosts), its first install
and the ratio of its wall time to the all-in-one's. Also checks each no-op run
changed nothing on any host.

The hosts are reached with the docker connection by its short name (`docker`, the
same plugin as community.docker.docker), which Mitogen knows how to take over; with
--ssh the all-in-one lab is reached over real SSH instead (the same systemd test host
with openssh-server from Debian's packages, the image benchmarks/controller_scale.py
builds), with the CLI's SSH settings (pipelining, ControlPersist).

With --team, the team lab with the security module on instead (one chat host, two
Ollama hosts, a gateway host): its first install and no-op re-run, checked the same way.

Each no-op run also prints the controller's CPU seconds (user + system of every process
the CLI waited for: llm, ansible-playbook, its forks, the docker or ssh clients), and per host.

With --baseline DIR (a checkout of another version, e.g. made with
`git worktree add /tmp/base <rev>`), that version's first install and no-op re-run
are timed too, on hosts of their own in the same run, before this checkout's: before
and after side by side on the same machine state.

Needs what scripts/test sets up: Docker, the llm-test-debian13 image and the lab
registry with the stand-ins (`scripts/build-test-images`). Run:
    .venv/bin/python benchmarks/install_lab.py [--baseline DIR]        # Docker connection
    .venv/bin/python benchmarks/install_lab.py --ssh [--baseline DIR]  # all-in-one over SSH
    .venv/bin/python benchmarks/install_lab.py --team [--baseline DIR] # team lab, security on
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REGISTRY = os.environ.get("LLM_TEST_REGISTRY", "172.17.0.1:5000")
IMAGE = "llm-test-debian13"
RECIPE = [
    "--cap-add",
    "SYS_ADMIN",
    "--cap-add",
    "NET_ADMIN",
    "--cap-add",
    "NET_RAW",
    "--cap-add",
    "MKNOD",
    "--security-opt",
    "seccomp=unconfined",
    "--security-opt",
    "apparmor=unconfined",
    "--cgroupns",
    "host",
    "-v",
    "/sys/fs/cgroup:/sys/fs/cgroup:rw",
    "-v",
    "/var/lib/docker",
    "--tmpfs",
    "/run",
    "--tmpfs",
    "/run/lock",
    "--tmpfs",
    "/tmp",
]
DROP_IN = "[Service]\nEnvironment=DOCKER_ALLOW_IPV6_ON_IPV4_INTERFACE=1\n"
LLM = [sys.executable, "-m", "cli.main"]
REPO = Path(__file__).resolve().parent.parent


def sh(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, cwd=cwd).stdout


def start_host(name: str, ssh_key: Path | None = None) -> None:
    """A systemd test host; with ssh_key, from the sshd image, letting that key in."""
    from controller_scale import run_host

    extra, image = [], IMAGE
    if ssh_key is not None:
        from controller_scale import IMAGE as SSHD_IMAGE
        from controller_scale import build_image

        build_image()
        extra, image = ["-v", f"{ssh_key}.pub:/root/.ssh/authorized_keys:ro"], SSHD_IMAGE
    run_host(name, *RECIPE, *extra, image, "/lib/systemd/systemd")
    sh("docker", "exec", name, "mkdir", "-p", "/etc/systemd/system/docker.service.d")
    sh(
        "docker",
        "exec",
        name,
        "sh",
        "-c",
        f"printf '{DROP_IN}' > /etc/systemd/system/docker.service.d/lab.conf",
    )


def inventory(
    groups: dict[str, list[str]], ssh: dict[str, str] | None = None, key: Path | None = None
) -> str:
    """ssh: host -> address, reached over SSH with key; else the Docker connection."""
    lines = []
    for group, hosts in groups.items():
        lines.append(f"[{group}]")
        if ssh:
            lines += [f"{h} ansible_host={ssh[h]} ansible_user=root" for h in hosts]
        else:
            lines += [f"{h} ansible_connection=docker" for h in hosts]
        lines.append("")
    if ssh:
        lines += [
            "[all:vars]",
            f"ansible_ssh_private_key_file={key}",
            "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'",
        ]
    else:
        lines.append("[all:vars]")
    lines += [
        "ansible_python_interpreter=/usr/bin/python3",
        f"llm_registry={REGISTRY}",
        f"container_runtime_insecure_registries=['{REGISTRY}']",
        "preflight_min_free_disk_gb=1",
        "preflight_min_memory_mb=512",
        "ollama_models=['llama3.2']",
    ]
    return "\n".join(lines) + "\n"


def changed_per_host(stack: Path) -> dict[str, int]:
    """From the newest run's recorded stats event."""
    runs = sorted((stack / "runs" / "artifacts").iterdir(), key=lambda p: p.stat().st_mtime)
    for event_file in (runs[-1] / "job_events").glob("*.json"):
        event = json.loads(event_file.read_text())
        if event.get("event") == "playbook_on_stats":
            data = event["event_data"]
            hosts = set(data.get("ok", {})) | set(data.get("changed", {}))
            return {h: data.get("changed", {}).get(h, 0) for h in hosts}
    raise RuntimeError("no stats event in the newest run")


# The controller's CPU seconds (user + system of llm, ansible-playbook, its forks and the
# docker or ssh clients they waited for) of the newest timed_install.
LAST_CPU = [0.0]


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_install(stack: Path, inv: Path, mitogen: bool = False, checkout: Path = REPO) -> float:
    """`llm install` of checkout (`python -m cli.main` imports the checkout it runs in)."""
    sh(*LLM, "config", "set", "llm_mitogen", str(mitogen).lower(), "--dir", str(stack),
       cwd=checkout)  # fmt: skip
    cpu = children_cpu()
    start = time.perf_counter()
    result = subprocess.run(
        [*LLM, "install", "--dir", str(stack), "-i", str(inv)],
        cwd=checkout,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    LAST_CPU[0] = children_cpu() - cpu
    if result.returncode != 0:
        sys.exit(
            f"llm install failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return elapsed


def lab(
    name: str,
    groups: dict[str, list[str]],
    work: Path,
    mitogen: bool = False,
    ssh: bool = False,
    checkout: Path = REPO,
    modules: tuple[str, ...] = (),
) -> tuple[float, float, float | None]:
    hosts = sorted({h for members in groups.values() for h in members})
    key = work / "id_ed25519" if ssh else None
    if key is not None and not key.exists():
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key))
    try:
        for host in hosts:
            start_host(host, key)
        addresses = None
        if key is not None:
            from controller_scale import wait_for_ssh

            addresses = {
                h: sh("docker", "inspect", "-f", "{{.NetworkSettings.IPAddress}}", h).strip()
                for h in hosts
            }
            for address in addresses.values():
                wait_for_ssh(address, key)
        stack = work / name
        sh(*LLM, "init", "--dir", str(stack), cwd=checkout)
        for module in modules:
            sh(*LLM, "modules", "enable", module, "--dir", str(stack), cwd=checkout)
        inv = stack / "lab.ini"
        inv.write_text(inventory(groups, addresses, key))
        first = timed_install(stack, inv, checkout=checkout)
        # Two no-op runs, the faster counted: one run alone swings by a second or two here.
        noops, cpus = [], []
        for _ in range(2):
            noops.append(timed_install(stack, inv, checkout=checkout))
            cpus.append(LAST_CPU[0])
            changed = changed_per_host(stack)
            if any(changed.values()):
                sys.exit(f"{name}: a no-op install changed something: {changed}")
        second = min(noops)
        print(
            f"{name}: no-op runs {', '.join(f'{t:.1f} s' for t in noops)}; the controller's "
            f"CPU {', '.join(f'{c:.1f} s' for c in cpus)}, per host "
            f"{min(cpus) / len(hosts):.1f} s ({len(hosts)} hosts)",
            flush=True,
        )
        with_mitogen = None
        if mitogen:
            with_mitogen = timed_install(stack, inv, mitogen=True)
            changed = changed_per_host(stack)
            if any(changed.values()):
                sys.exit(f"{name}: the no-op install with Mitogen changed something: {changed}")
        return first, second, with_mitogen
    finally:
        subprocess.run(["docker", "rm", "-f", "-v", *hosts], capture_output=True, check=False)


def report(lab_name: str, first: float, second: float, mitogen: float) -> None:
    """A lab's first install, its no-op re-run and the no-op with Mitogen, with the ratios."""
    print(f"{lab_name}  first install  {first:7.1f} s")
    print(f"{lab_name}  second (no-op) {second:7.1f} s   changed=0 on every host")
    print(f"{lab_name}  second/first   {second / first:7.2f}")
    print(f"{lab_name}  no-op, Mitogen {mitogen:7.1f} s   changed=0 on every host")
    print(f"{lab_name}  Mitogen/first  {mitogen / first:7.2f}")


def baseline_arg() -> Path | None:
    args = [a for a in sys.argv[1:] if a not in ("--ssh", "--team")]
    if not args:
        return None
    if args[0] == "--baseline" and len(args) == 2 and Path(args[1]).is_dir():
        return Path(args[1]).resolve()
    sys.exit("usage: install_lab.py [--ssh | --team] [--baseline CHECKOUT]")


def baseline_lab(
    label: str,
    host: str,
    work: Path,
    ssh: bool,
    groups: dict[str, list[str]] | None = None,
    modules: tuple[str, ...] = (),
) -> None:
    """The baseline's first install and no-op (all-in-one on host unless groups are
    given), printed like this checkout's."""
    checkout = baseline_arg()
    if checkout is None:
        return
    groups = groups or {"llm_ollama": [host], "llm_chat": [host]}
    first, second, _ = lab(f"baseline-{host}", groups, work, ssh=ssh, checkout=checkout,
                           modules=modules)  # fmt: skip
    print(f"{label}, baseline {checkout.name}")
    print(f"{label}  first install  {first:7.1f} s")
    print(f"{label}  second (no-op) {second:7.1f} s   changed=0 on every host")
    print(f"{label}  second/first   {second / first:7.2f}")
    print(f"{label}, this checkout")


def main() -> None:
    baseline_arg()  # a wrong argument stops before any host starts
    if "--ssh" in sys.argv[1:]:
        return main_ssh()
    if "--team" in sys.argv[1:]:
        return main_team()
    with tempfile.TemporaryDirectory(prefix="llm-bench-") as tmp:
        work = Path(tmp)
        baseline_lab("all-in-one", "bench-aio", work, ssh=False)
        aio_first, aio_second, aio_mitogen = lab(
            "all-in-one",
            {"llm_ollama": ["bench-aio"], "llm_chat": ["bench-aio"]},
            work,
            mitogen=True,
        )
        assert aio_mitogen is not None
        report("all-in-one", aio_first, aio_second, aio_mitogen)
        mh_first, mh_second, _ = lab(
            "multi-host",
            {"llm_chat": ["bench-chat"], "llm_ollama": ["bench-gpu1", "bench-gpu2"]},
            work,
        )
        print(f"multi-host  first install  {mh_first:7.1f} s   (1 chat + 2 Ollama hosts)")
        print(f"multi-host  second (no-op) {mh_second:7.1f} s   changed=0 on every host")
        print(f"multi-host / all-in-one    {mh_first / aio_first:7.2f}   (first install)")


def main_ssh() -> None:
    """The all-in-one lab over SSH: first install, no-op plain, no-op with Mitogen."""
    with tempfile.TemporaryDirectory(prefix="llm-bench-") as tmp:
        baseline_lab("all-in-one over SSH", "bench-ssh", Path(tmp), ssh=True)
        first, second, mitogen = lab(
            "all-in-one-ssh",
            {"llm_ollama": ["bench-ssh"], "llm_chat": ["bench-ssh"]},
            Path(tmp),
            mitogen=True,
            ssh=True,
        )
        assert mitogen is not None
        report("all-in-one over SSH", first, second, mitogen)


def team_groups(prefix: str) -> dict[str, list[str]]:
    return {"llm_chat": [f"{prefix}-chat"], "llm_ollama": [f"{prefix}-gpu1", f"{prefix}-gpu2"],
            "llm_gateway": [f"{prefix}-gw"]}  # fmt: skip


def main_team() -> None:
    """The team lab with the security module on: first install and no-op re-run."""
    label = "team lab, security on"
    with tempfile.TemporaryDirectory(prefix="llm-bench-") as tmp:
        work = Path(tmp)
        baseline_lab(label, "base", work, ssh=False, groups=team_groups("base"),
                     modules=("security",))  # fmt: skip
        first, second, _ = lab("team", team_groups("team"), work, modules=("security",))
        print(f"{label}  first install  {first:7.1f} s   (chat, 2 Ollama hosts, gateway)")
        print(f"{label}  second (no-op) {second:7.1f} s   changed=0 on every host")
        print(f"{label}  second/first   {second / first:7.2f}")


if __name__ == "__main__":
    main()
