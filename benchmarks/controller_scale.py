"""What the controller costs per host: the install's first play on 1, 10 and 30 test hosts.

Each test host is a light container from llm-test-debian13 with openssh-server added
from Debian's packages (an image llm-test-debian13-sshd, built on first use), reached
over real SSH, so pipelining and ControlPersist are measured. The hosts run no systemd
and no Docker: the workload is the install's first play (preflight and every role's
checks: facts, disk, ports, GPU detection, the settings), run through the real CLI as
`llm install --check --tags preflight`. A full install on 30 hosts would need 30
Docker daemons in containers, more than a 2-core machine can hold; the first play is
the part whose cost grows with the number of hosts on the controller.

For each N it runs, each from a fresh stack directory (cold SSH connections):
  ansible  forks 5, Ansible's SSH defaults (no pipelining, ControlPersist=60s)
  forks5   forks 5, the CLI's SSH settings (pipelining, ControlPersist, short ControlPath)
  cli      the CLI's forks (one per host, 5..50) and SSH settings
twice each: the first run (new SSH connections) and a re-run straight after (a no-op:
preflight changes nothing; the connections are reused where ControlPersist keeps them).
It prints wall time and the controller's CPU seconds (user+system of every process the
CLI waited for: llm, ansible-playbook, its forks, their ssh) per host.

    .venv/bin/python benchmarks/controller_scale.py [--hosts 1,10,30]

The no-op ratio before and after a change is benchmarks/install_lab.py --baseline DIR.
Containers are removed afterwards.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
BASE_IMAGE = "llm-test-debian13"
IMAGE = "llm-test-debian13-sshd"
PREFIX = "llm-scale-"
DOCKERFILE = f"""\
FROM {BASE_IMAGE}
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openssh-server \\
 && rm -rf /var/lib/apt/lists/* \\
 && mkdir -p /run/sshd /root/.ssh && chmod 700 /root/.ssh
CMD ["/usr/sbin/sshd", "-D", "-e"]
"""
# What Ansible does without the CLI's settings (ansible-core's own defaults).
ANSIBLE_DEFAULT_SSH = {
    "ANSIBLE_SSH_PIPELINING": "False",
    "ANSIBLE_SSH_ARGS": "-C -o ControlMaster=auto -o ControlPersist=60s",
}


def sh(*args: str, stdin: str | None = None) -> str:
    return subprocess.run(
        args, check=True, capture_output=True, text=True, input=stdin
    ).stdout.strip()


def build_image() -> None:
    if subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True).returncode == 0:
        return
    print(f"building {IMAGE} (openssh-server from Debian's packages)...", flush=True)
    sh("docker", "build", "-t", IMAGE, "-", stdin=DOCKERFILE)


def run_host(name: str, *args: str) -> None:
    """`docker run -d` of a test host: the container and its host name both name."""
    sh("docker", "run", "-d", "--name", name, "--hostname", name, *args)


def start_hosts(count: int, key: Path) -> dict[str, str]:
    """name -> IP address of count running sshd containers that accept key."""
    names = [f"{PREFIX}{n:02d}" for n in range(1, count + 1)]
    for name in names:
        run_host(name, "-v", f"{key}.pub:/root/.ssh/authorized_keys:ro", IMAGE)
    addresses = {}
    for name in names:
        addresses[name] = sh("docker", "inspect", "-f", "{{.NetworkSettings.IPAddress}}", name)
    for address in addresses.values():
        wait_for_ssh(address, key)
    return addresses


def wait_for_ssh(address: str, key: Path) -> None:
    for _ in range(50):
        probe = subprocess.run(
            [
                "ssh",
                "-i",
                str(key),
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
                "-o",
                "BatchMode=yes",
                "-o",
                "ConnectTimeout=2",
                f"root@{address}",
                "true",
            ],
            capture_output=True,
            check=False,
        )
        if probe.returncode == 0:
            return
        time.sleep(0.2)
    raise SystemExit(f"sshd on {address} did not answer")


def remove_hosts() -> None:
    names = sh("docker", "ps", "-aq", "--filter", f"name=^{PREFIX}").split()
    if names:
        subprocess.run(["docker", "rm", "-f", *names], capture_output=True, check=False)


def inventory(addresses: dict[str, str], key: Path) -> str:
    names = list(addresses)
    lines = ["[llm_ollama]"]
    lines += [f"{name} ansible_host={address}" for name, address in addresses.items()]
    lines += ["", "[llm_chat]", names[0], "", "[all:vars]"]
    lines += [
        "ansible_user=root",
        f"ansible_ssh_private_key_file={key}",
        "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'",
        "ansible_python_interpreter=/usr/bin/python3",
        "preflight_min_free_disk_gb=1",
        "preflight_min_memory_mb=512",
    ]
    return "\n".join(lines) + "\n"


def timed_cli(args: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of everything the CLI waited for, exit status)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        sys.exit(f"llm {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return wall, cpu, proc.returncode


def measure(
    count: int, addresses: dict[str, str], key: Path, work: Path, config: str
) -> tuple[tuple[float, float], tuple[float, float], int]:
    """((wall, cpu) first run, (wall, cpu) re-run, forks) for one configuration."""
    from cli import controller

    stack = work / f"{config}-{count}"
    sh(sys.executable, "-m", "cli.main", "init", "--dir", str(stack))
    inv = stack / "lab.ini"
    inv.write_text(inventory(addresses, key))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_SSH")}
    env.pop("ANSIBLE_PIPELINING", None)
    forks: list[str] = []
    if config in ("ansible", "forks5"):
        forks = ["--forks", "5"]
    if config == "ansible":
        env.update(ANSIBLE_DEFAULT_SSH)
        env["ANSIBLE_SSH_CONTROL_PATH_DIR"] = str(stack / "cp-default")
    args = ["install", "--dir", str(stack), "-i", str(inv), "--check", "--tags", "preflight"]
    first = timed_cli([*args, *forks], env)
    again = timed_cli([*args, *forks], env)
    used = 5 if forks else controller.size_forks(count)
    return first[:2], again[:2], used


def scale(counts: list[int]) -> None:
    build_image()
    remove_hosts()
    load = os.getloadavg()
    print(
        f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} CPUs)",
        flush=True,
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="llm-scale-", dir="/tmp") as tmp:
        work = Path(tmp)
        key = work / "id_ed25519"
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key))
        try:
            for count in counts:
                addresses = start_hosts(count, key)
                for config in ("ansible", "forks5", "cli"):
                    first, again, forks = measure(count, addresses, key, work, config)
                    rows.append((count, config, forks, first, again))
                    print(
                        f"  N={count:<3} {config:8s} forks={forks:<3} "
                        f"first {first[0]:6.1f} s {first[1] / count:5.2f} cpu-s/host   "
                        f"re-run {again[0]:6.1f} s {again[1] / count:5.2f} cpu-s/host",
                        flush=True,
                    )
                remove_hosts()
        finally:
            remove_hosts()
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print()
    print("The install's first play (llm install --check --tags preflight) over SSH")
    print(
        f"{'hosts':>5} {'setup':8} {'forks':>5} | {'first s':>8} {'cpu-s/host':>10}"
        f" | {'re-run s':>8} {'cpu-s/host':>10}"
    )
    for count, config, forks, first, again in rows:
        print(
            f"{count:>5} {config:8} {forks:>5} | {first[0]:8.1f} {first[1] / count:10.2f}"
            f" | {again[0]:8.1f} {again[1] / count:10.2f}"
        )
    print("setup: ansible = forks 5 and Ansible's SSH defaults; forks5 = forks 5 with the")
    print("CLI's SSH settings; cli = the CLI's forks and SSH settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hosts", default="1,10,30", help="host counts (default 1,10,30)")
    args = parser.parse_args()
    scale([int(n) for n in args.hosts.split(",")])


if __name__ == "__main__":
    main()
