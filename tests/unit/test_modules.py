"""Modules and services: the registry logic the playbooks' filters run, `llm modules`,
`--with MODULE`, and `--check` refused where it cannot be honoured."""

from __future__ import annotations

import pytest
import yaml
from click.testing import CliRunner

from cli import registry
from cli.main import llm

logic = registry.logic()

REGISTRY = {
    "core": {"roles": ["a", "b"], "groups": ["g1"], "optional": False},
    "extra": {"roles": ["c"], "groups": ["g2"], "optional": True, "default": True},
    "later": {"roles": ["d"], "groups": ["g3"], "optional": True, "default": False},
}


def test_enabled_modules_defaults_then_the_users_choice():
    assert logic.enabled_modules(REGISTRY, None) == ["core", "extra"]
    assert logic.enabled_modules(REGISTRY, []) == ["core"]
    assert logic.enabled_modules(REGISTRY, ["later"]) == ["core", "later"]
    with pytest.raises(logic.RegistryError, match="unknown module"):
        logic.enabled_modules(REGISTRY, ["nope"])
    with pytest.raises(logic.RegistryError, match="must be a list"):
        logic.enabled_modules(REGISTRY, "extra")
    needs = {**REGISTRY, "later": {**REGISTRY["later"], "requires": ["extra"]}}
    assert logic.enabled_modules(needs, ["extra", "later"]) == ["core", "extra", "later"]
    with pytest.raises(logic.RegistryError, match="module later requires extra"):
        logic.enabled_modules(needs, ["later"])
    for bad in ([1], [{"a": 1}]):  # a hand-edited config.yml: an error, not a traceback
        with pytest.raises(logic.RegistryError, match="must be a list of module names"):
            logic.enabled_modules(REGISTRY, bad)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"groups": "g1"}, "groups must be a list of names"),
        ({"groups": ["bad group!"]}, "groups must be a list of names"),
        ({"requires": ["nope"]}, "requires 'nope', which is not a module"),
        ({"requires": ["extra"], "roles": ["c"]}, None),  # fine
        ({"requires": ["later"]}, "requires 'later', which is itself"),
        ({"stages": {"d": "modles"}}, "unknown stage 'modles'"),
        ({"stages": {"zz": "apps"}}, "stages names zz, not one of its roles"),
        ({"not_under_mitogen": {"zz": "why"}}, "not_under_mitogen names zz, not one of its roles"),
        ({"not_under_mitogen": {"d": None}}, "not_under_mitogen.d must say why, in words"),
        ({"not_under_mitogen": {"d": " "}}, "not_under_mitogen.d must say why, in words"),
        ({"not_under_mitogen": {"d": ["a"]}}, "not_under_mitogen.d must say why, in words"),
        ({"runs_on": {"d": "g3"}}, "runs_on.d must be a list of groups"),
        ({"sets": ["x"]}, "sets must be a mapping"),
    ],
)
def test_a_registry_of_the_wrong_shape_is_refused_with_what_is_wrong(change, message):
    registry = {**REGISTRY, "later": {**REGISTRY["later"], **change}}
    if message is None:
        logic.validate_registry(registry)
        return
    with pytest.raises(logic.RegistryError, match=message):
        logic.validate_registry(registry)


def test_modules_that_require_each_other_are_refused():
    registry = {**REGISTRY, "extra": {**REGISTRY["extra"], "requires": ["later"]},
                "later": {**REGISTRY["later"], "requires": ["extra"]}}  # fmt: skip
    with pytest.raises(logic.RegistryError, match="require each other: extra -> later -> extra"):
        logic.enabled_modules(registry, None)


def test_service_roles_are_the_present_roles_with_services_in_order(tmp_path):
    for role, has_services in (("a", True), ("b", False), ("c", True)):
        (tmp_path / role / "tasks").mkdir(parents=True)
        if has_services:
            (tmp_path / role / "tasks" / "services.yml").write_text("---\n")
    roles = str(tmp_path)
    assert logic.service_roles(REGISTRY, ["core", "extra", "later"], roles) == ["a", "c"]
    assert logic.service_roles(REGISTRY, ["extra"], roles) == ["c"]
    assert logic.module_available(REGISTRY["core"], roles)
    assert not logic.module_available(REGISTRY["later"], roles)  # role d is not there


def test_host_services_follow_the_hosts_groups_and_keep_start_order():
    declared = {
        "db": {"group": "chat", "ports": [], "project_dir": "/x/db"},
        "web": {"group": "chat", "ports": [3090], "project_dir": "/x/web"},
        "gpu": {"group": "ollama", "ports": [11500], "project_dir": "/srv/o"},
    }
    on_chat = logic.host_services(declared, "r", ["chat"])
    assert list(on_chat) == ["db", "web"]
    assert on_chat["web"]["role"] == "r" and on_chat["web"]["name"] == "web"
    both = logic.merge_services([logic.host_services(declared, "r", ["chat", "ollama"])])
    assert logic.service_ports(both) == {3090: ["web"], 11500: ["gpu"]}
    assert logic.port_clashes(logic.service_ports(both)) == []
    clash = {**both, "gpu": {**both["gpu"], "ports": [3090]}}
    assert logic.port_clashes(logic.service_ports(clash)) == ["3090 (web, gpu)"]
    # A service its role's settings switch off on a host is not expected there.
    off = {**declared, "web": {**declared["web"], "enabled": False}}
    assert list(logic.host_services(off, "r", ["chat"])) == ["db"]
    assert list(logic.host_services({**off, "web": {**off["web"], "enabled": "False"}}, "r",
                                    ["chat"])) == ["db"]  # fmt: skip
    stop_order = [s["name"] for s in logic.ordered_services(both, reverse=True)]
    assert stop_order == ["gpu", "web", "db"]
    assert [s["name"] for s in logic.ordered_services(both, ["web"])] == ["web"]
    with pytest.raises(logic.RegistryError, match="declared by both"):
        logic.merge_services([both, logic.host_services({"db": {"group": "chat"}}, "o", ["chat"])])


def test_which_ollama_hosts_a_chat_host_uses():
    """A classroom of all-in-one PCs: each chat its own Ollama (and so no Ollama listens
    on the network for the others); a team: the chat host uses every GPU server."""
    logic = registry.logic()
    room = {"llm_ollama": ["pc-01", "pc-02"], "llm_chat": ["pc-01", "pc-02"]}
    team = {"llm_ollama": ["gpu-01", "gpu-02"], "llm_chat": ["chat"]}
    assert logic.chat_ollama_hosts("pc-02", room) == ["pc-02"]
    assert logic.chat_ollama_hosts("pc-02", room, "all") == ["pc-01", "pc-02"]
    assert logic.chat_ollama_hosts("chat", team) == ["gpu-01", "gpu-02"]
    assert logic.chat_ollama_hosts("chat", team, "own") == ["chat"]
    mixed = {"llm_ollama": ["chat", "gpu-01"], "llm_chat": ["chat"]}
    # The chat host runs Ollama too, beside a GPU server: it offers both.
    assert logic.chat_ollama_hosts("chat", mixed) == ["chat", "gpu-01"]
    with pytest.raises(logic.RegistryError, match="auto, own or all"):
        logic.chat_ollama_hosts("chat", team, "mine")


def test_a_lab_setting_is_each_hosts_own_else_the_roles_default(tmp_path):
    (tmp_path / "ollama" / "defaults").mkdir(parents=True)
    (tmp_path / "ollama" / "defaults" / "main.yml").write_text("ollama_port: 11434\n")
    hostvars = {"gpu-01": {}, "gpu-02": {"ollama_port": 11500}}
    got = logic.lab_setting(["gpu-01", "gpu-02"], hostvars, "ollama_port", "ollama", str(tmp_path))
    assert got == [11434, 11500]
    with pytest.raises(logic.RegistryError, match="no default for ollama_nope"):
        logic.lab_setting(["gpu-01"], hostvars, "ollama_nope", "ollama", str(tmp_path))
    # The collection's own role: what install.yml hands the firewall.
    assert logic.lab_setting(["x"], {"x": {}}, "ollama_port", "ollama") == [11434]


def test_the_registry_places_each_roles_checks_and_what_a_module_sets(tmp_path):
    for role in ("a", "c", "d"):
        (tmp_path / role / "tasks").mkdir(parents=True)
        (tmp_path / role / "tasks" / "preflight.yml").write_text("---\n")
    registry = {
        "core": {"roles": ["a", "b"], "groups": ["g1", "g2"], "runs_on": {"a": ["g2"]},
                 "containers_on": ["g1", "g2"]},
        "extra": {"roles": ["c", "d"], "groups": ["g3"], "runs_on": {"d": ["llm_stack"]},
                  "sets": {"a_mode": "behind"}, "containers_on": ["g3", "g1"]},
    }  # fmt: skip
    checks = logic.role_checks
    assert checks(registry, ["core", "extra"], ["g2"], str(tmp_path)) == ["a", "d"]
    assert checks(registry, ["core", "extra"], ["g1"], str(tmp_path)) == ["d"]
    assert checks(registry, ["core", "extra"], ["g3"], str(tmp_path)) == ["c", "d"]
    assert checks(registry, ["core"], ["g3"], str(tmp_path)) == []  # extra is off
    assert logic.module_settings(registry, ["core"]) == {}
    assert logic.module_settings(registry, ["core", "extra"]) == {"a_mode": "behind"}
    assert logic.container_groups(registry, ["core", "extra"]) == ["g1", "g2", "g3"]
    assert logic.container_groups(registry, ["extra"]) == ["g3", "g1"]


def test_each_role_runs_in_its_stage_on_its_hosts_in_registry_order(tmp_path):
    for role in ("a", "b", "c", "d"):
        (tmp_path / role / "tasks").mkdir(parents=True)
    registry = {
        "core": {"roles": ["a", "b"], "groups": ["g1", "g2"], "runs_on": {"a": ["g2"]},
                 "stages": {"a": "models"}},
        "extra": {"roles": ["c", "d"], "groups": ["g3"], "runs_on": {"d": ["llm_stack"]},
                  "stages": {"d": "lockdown"}},
        "planned": {"roles": ["e"], "groups": ["g1"]},  # no role e in the collection
    }  # fmt: skip
    both = ["core", "extra"]
    assert logic.host_roles(registry, both, ["g2"]) == ["a", "b", "d"]
    assert logic.host_roles(registry, both, ["g3"]) == ["c", "d"]
    assert logic.host_roles(registry, ["core"], ["g3"]) == []
    groups = {"g1": ["h1", "h2"], "g2": ["h2", "h3"], "g3": ["h4"]}
    assert logic.role_hosts(registry, "a", groups) == ["h2", "h3"]  # runs_on
    assert logic.role_hosts(registry, "b", groups) == ["h1", "h2", "h3"]  # the module's
    assert logic.role_hosts(registry, "d", groups) == ["h1", "h2", "h3", "h4"]  # llm_stack
    stage = logic.stage_roles
    assert stage(registry, both, "models", str(tmp_path)) == ["a"]
    assert stage(registry, both, "apps", str(tmp_path)) == ["b", "c"]  # the default stage
    assert stage(registry, both, "lockdown", str(tmp_path)) == ["d"]
    assert stage(registry, ["core"], "lockdown", str(tmp_path)) == []
    assert stage(registry, [*both, "planned"], "apps", str(tmp_path)) == ["b", "c"]
    assert logic.role_modules(registry) == {"a": "core", "b": "core", "c": "extra",
                                            "d": "extra", "e": "planned"}  # fmt: skip
    with pytest.raises(logic.RegistryError, match="unknown stage 'late'"):
        stage({"m": {"roles": ["a"], "stages": {"a": "late"}}}, ["m"], "apps", str(tmp_path))


def test_a_host_takes_part_in_the_stages_of_its_roles_where_their_condition_holds(tmp_path):
    """install.yml groups each host by these (llm_stage_<stage>): a stage's play runs only
    on the hosts with a role in it, so a host without a GPU is in no drivers play."""
    for role in ("gpu", "ollama", "chat", "wall"):
        (tmp_path / role / "tasks").mkdir(parents=True)
    registry = {
        "core": {"roles": ["ollama", "chat"], "groups": ["g1", "g2"],
                 "runs_on": {"ollama": ["g1"], "chat": ["g2"]}, "stages": {"ollama": "models"}},
        "gpu": {"roles": ["gpu"], "groups": ["g1"], "stages": {"gpu": "drivers"},
                "runs_if": {"gpu": "{{ templated }}"}},
        "security": {"roles": ["wall"], "groups": ["g3"], "runs_on": {"wall": ["llm_stack"]},
                     "stages": {"wall": "lockdown"}},
        "planned": {"roles": ["later"], "groups": ["g1"], "stages": {"later": "front"}},
    }  # fmt: skip
    mods = ["core", "gpu", "security", "planned"]
    stages = logic.host_stages
    # runs_if as Ansible templates it for the host: a bool, or its text.
    # (The planned module's role is not in the collection: no front stage.)
    here = ["gpu", "ollama", "later"]
    assert stages(registry, mods, here, {"gpu": True}, str(tmp_path)) == ["drivers", "models"]
    assert stages(registry, mods, ["gpu", "ollama"], {"gpu": "False"}, str(tmp_path)) == ["models"]
    assert stages(registry, mods, ["chat", "wall"], {}, str(tmp_path)) == ["apps", "lockdown"]
    assert stages(registry, ["core"], ["chat", "wall"], {}, str(tmp_path)) == ["apps"]
    assert stages(registry, mods, [], {}, str(tmp_path)) == []


def test_a_host_lists_the_units_of_its_services_for_the_probe():
    services = {
        "gateway": {"unit": "haproxy.service", "container": ""},
        "ollama": {"container": "ollama"},
        "seed": {"unit": "llm-model-seed.service"},
        "again": {"unit": "haproxy.service"},
    }
    assert logic.service_units(services) == ["haproxy.service", "llm-model-seed.service"]
    assert logic.service_units({}) == []


def test_how_the_lab_reaches_a_host_is_decided_in_one_place():
    hostvars = {
        "set": {"ollama_advertise_address": "10.0.0.9", "ansible_facts": {
            "default_ipv4": {"address": "10.0.0.5"}}},
        "facts": {"ansible_facts": {"default_ipv4": {"address": "10.0.0.5"}},
                  "ansible_host": "gpu.lan"},
        "no-route": {"ansible_facts": {"default_ipv4": {}}, "ansible_host": "192.0.2.7"},
        "bare": {},
    }  # fmt: skip
    address = logic.host_address
    assert address(hostvars, "set", "ollama_advertise_address") == "10.0.0.9"
    assert address(hostvars, "set") == "10.0.0.5"  # the setting only where asked for
    assert address(hostvars, "facts", "ollama_advertise_address") == "10.0.0.5"
    assert address(hostvars, "no-route") == "192.0.2.7"
    assert address(hostvars, "bare") == "bare"


def test_install_runs_every_stage_once_in_order_and_every_role_has_a_stage():
    """install.yml imports the stage play once per stage, in STAGES' order; each role
    of the collection's registry is in one (a typo in `stages` fails here, not at run)."""
    playbooks = registry.collection.root() / "playbooks"
    install = yaml.safe_load((playbooks / "install.yml").read_text())
    stages = [
        p["vars"]["__llm_install_stage"] for p in install if "ansible.builtin.import_playbook" in p
    ]
    assert stages == list(logic.STAGES)
    mods = registry.raw_registry()
    everything = list(mods)
    placed = [r for s in logic.STAGES for r in logic.stage_roles(mods, everything, s)]
    assert sorted(placed) == sorted(
        {r for m in mods.values() for r in m["roles"] if logic.role_present(r)}
    )
    assert logic.stage_roles(mods, everything, "drivers") == ["gpu_nvidia", "gpu_rocm"]
    assert logic.stage_roles(mods, everything, "apps") == ["mongodb", "librechat"]


def test_the_collection_declares_each_service_once_with_its_group():
    services = registry.services()
    core = ["ollama", "model_seed", "mongodb", "meilisearch", "librechat"]
    assert list(services) == [*core, "gateway"]
    assert {s.group for s in services.values()} == {"llm_ollama", "llm_chat", "llm_gateway"}
    assert {s.name: s.module for s in services.values()} == {
        **dict.fromkeys(core, "core"),
        "gateway": "security",
    }
    modules = registry.modules()
    assert list(modules) == ["core", "gpu", "monitoring", "security", "scaling"]
    assert modules["core"].available and modules["gpu"].available
    assert modules["security"].available
    assert not modules["scaling"].available  # its role arrives with the scaling issue


@pytest.fixture
def stack(tmp_path):
    target = tmp_path / "stack"
    assert CliRunner().invoke(llm, ["init", "--dir", str(target)]).exit_code == 0
    return target


def run(*args: str):
    return CliRunner().invoke(llm, list(args))


def test_modules_list_on_a_fresh_stack(stack):
    result = run("modules", "list", "--no-probe", "--json", "--dir", str(stack))
    assert result.exit_code == 0, result.output
    rows = {row["module"]: row for row in yaml.safe_load(result.output)}
    assert rows["core"]["state"] == "always on"
    assert rows["core"]["deploys"] == [
        "ollama",
        "model_seed",
        "mongodb",
        "meilisearch",
        "librechat",
    ]
    assert rows["gpu"]["state"] == "enabled"
    assert rows["security"]["state"] == "disabled"
    assert rows["scaling"]["state"] == "planned"
    assert rows["monitoring"]["groups"] == {"llm_monitoring": 1}  # localhost
    table = run("modules", "list", "--no-probe", "--dir", str(stack))
    assert "planned" in table.output and "llm_gateway (1)" in table.output


def test_disable_then_enable_round_trip_keeps_config_valid(stack):
    config = stack / "config.yml"
    off = run("modules", "disable", "gpu", "--dir", str(stack))
    assert off.exit_code == 0, off.output
    assert yaml.safe_load(config.read_text())["llm_modules"] == []
    assert "# Where models, databases" in config.read_text()  # comments kept
    assert run("config", "validate", "--dir", str(stack)).exit_code == 0
    again = run("modules", "disable", "gpu", "--dir", str(stack))
    assert again.exit_code == 0 and "already disabled" in again.output
    on = run("modules", "enable", "gpu", "--dir", str(stack))
    assert on.exit_code == 0, on.output
    assert yaml.safe_load(config.read_text())["llm_modules"] == ["gpu"]
    assert registry.enabled(["gpu"]) == ["core", "gpu"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("enable", "monitorng"), "unknown module 'monitorng': did you mean monitoring?"),
        (("disable", "core"), "module core is always on"),
        (("enable", "scaling"), "module scaling is planned but not in this version"),
    ],
)
def test_bad_module_requests_are_one_line_and_change_nothing(stack, args, message):
    before = (stack / "config.yml").read_bytes()
    result = run("modules", *args, "--dir", str(stack))
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert (stack / "config.yml").read_bytes() == before


def test_enable_refuses_a_module_whose_group_has_no_host(stack, tmp_path):
    assert run("modules", "disable", "gpu", "--dir", str(stack)).exit_code == 0
    before = (stack / "config.yml").read_bytes()
    lab = tmp_path / "monitoring-only.ini"
    lab.write_text("[llm_monitoring]\nmon-01\n")
    result = run("modules", "enable", "gpu", "-i", str(lab), "--dir", str(stack))
    assert result.exit_code == 2
    assert "deploys on the group llm_ollama, which has no host" in result.output
    assert "[llm_ollama]" in result.output  # how to add one
    assert (stack / "config.yml").read_bytes() == before


def test_a_module_is_enabled_only_with_the_modules_it_requires(stack, monkeypatch):
    """As scaling requires security: here gpu is made to require security."""
    import dataclasses

    real = registry.modules()
    gpu = dataclasses.replace(real["gpu"], requires=("security",))
    monkeypatch.setattr(registry, "modules", lambda: {**real, "gpu": gpu})
    assert run("modules", "disable", "gpu", "--dir", str(stack)).exit_code == 0
    before = (stack / "config.yml").read_bytes()
    refused = run("modules", "enable", "gpu", "--dir", str(stack))
    assert refused.exit_code == 2
    assert "module gpu requires security, which is not enabled" in refused.output
    assert "llm modules enable security" in refused.output
    assert (stack / "config.yml").read_bytes() == before
    assert run("modules", "enable", "security", "--dir", str(stack)).exit_code == 0
    assert run("modules", "enable", "gpu", "--dir", str(stack)).exit_code == 0
    kept = run("modules", "disable", "security", "--dir", str(stack))
    assert kept.exit_code == 2 and "module gpu requires security" in kept.output
    assert yaml.safe_load((stack / "config.yml").read_text())["llm_modules"] == ["gpu", "security"]


def test_a_malformed_llm_modules_is_one_line(stack):
    config = stack / "config.yml"
    config.write_text(config.read_text() + "\nllm_modules: [1]\n")
    result = run("modules", "list", "--no-probe", "--dir", str(stack))
    assert result.exit_code == 2 and "must be a list of module names" in result.output
    assert "Traceback" not in result.output


def test_config_set_checks_module_names(stack):
    result = run("config", "set", "llm_modules", '["securty"]', "--dir", str(stack))
    assert result.exit_code == 2
    assert '"securty" is not among gpu, monitoring, security, scaling' in result.output
    before = (stack / "config.yml").read_bytes()
    for value, message in (
        ("[security, security]", "security given twice"),
        ("[scaling]", "scaling is planned, not in this version"),
    ):
        refused = run("config", "set", "llm_modules", value, "--dir", str(stack))
        assert refused.exit_code == 2 and message in refused.output, refused.output
    assert (stack / "config.yml").read_bytes() == before


def test_with_module_selects_its_services(stack, monkeypatch):
    from cli import runner as runner_module

    jobs = []
    monkeypatch.setattr(runner_module, "run", lambda stack, job, display: jobs.append(job) or 0)
    result = run("stop", "--with", "core", "--dir", str(stack))
    assert result.exit_code == 0, result.output
    assert jobs[0].extra_vars["llm_services"] == [
        "ollama", "model_seed", "mongodb", "meilisearch", "librechat"
    ]  # fmt: skip
    assert run("stop", "--with", "gpu", "--dir", str(stack)).exit_code == 2  # no services
    unknown = run("restart", "--with", "securty", "--dir", str(stack))
    assert unknown.exit_code == 2 and "did you mean security?" in unknown.output
    assert len(jobs) == 1


def test_rotate_refuses_check_and_changes_nothing(stack, monkeypatch):
    from cli import runner as runner_module

    jobs = []
    monkeypatch.setattr(runner_module, "run", lambda stack, job, display: jobs.append(job) or 0)
    before = (stack / "secrets.yml").read_bytes()
    for flag in ("--check", "--diff"):
        result = run(
            "secrets", "rotate", "librechat_jwt_secret", "--yes", flag, "--dir", str(stack)
        )
        assert result.exit_code == 2
        assert f"llm secrets rotate does not take {flag}" in result.output
    assert (stack / "secrets.yml").read_bytes() == before
    assert jobs == []


def test_check_reaches_ansible_for_commands_that_honour_it(stack, monkeypatch):
    from cli import runner as runner_module

    jobs = []
    monkeypatch.setattr(runner_module, "run", lambda stack, job, display: jobs.append(job) or 0)
    commands = (
        ("stop", "ollama"),
        ("uninstall", "--purge"),  # nothing is deleted in check mode: no question either
        ("logs", "ollama"),
        ("install",),
        ("models", "remove", "llama3.2"),
        ("models", "sync", "--prune"),
    )
    for args in commands:
        result = run(*args, "--check", "--dir", str(stack))
        assert "does not take" not in result.output, (args, result.output)
        assert "--yes" not in result.output, (args, result.output)
    assert [job.check for job in jobs] == [True] * len(commands)


def test_install_refuses_an_enabled_module_whose_group_lost_its_hosts(stack, tmp_path):
    """Enabled on the default inventory, then installed with one that has no gateway: even
    --check stops before Ansible, naming the group and the two ways out."""
    assert run("modules", "enable", "security", "--dir", str(stack)).exit_code == 0
    lab = tmp_path / "no-gateway.ini"
    lab.write_text("[llm_ollama]\ngpu-01\n[llm_chat]\nchat\n")
    for check in ([], ["--check"]):
        result = run("install", *check, "-i", str(lab), "--dir", str(stack))
        assert result.exit_code == 2, result.output
        assert "module security is enabled but its group llm_gateway has no host" in result.output
        assert "add a host to the group llm_gateway" in result.output
        assert "llm modules disable security" in result.output
    # -e wins over config.yml, as it does for the run: it decides what is checked.
    assert run("modules", "disable", "security", "--dir", str(stack)).exit_code == 0
    chosen = run("install", "--check", "-e", '{"llm_modules": ["security"]}', "-i", str(lab),
                 "--dir", str(stack))  # fmt: skip
    assert chosen.exit_code == 2 and "module security is enabled" in chosen.output
    # The CA rotation installs too: refused before the CA is touched.
    assert run("modules", "enable", "security", "--dir", str(stack)).exit_code == 0
    tls = stack / "tls"
    tls.mkdir()
    (tls / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n")
    rotated = run("tls", "ca", "--rotate", "--yes", "-i", str(lab), "--dir", str(stack))
    assert rotated.exit_code == 2 and "module security is enabled" in rotated.output
    assert (tls / "ca.crt").exists() and not list(tls.glob("retired-ca-*"))


def test_a_group_left_empty_takes_its_defaults_hosts_and_llm_stack_has_every_host(tmp_path):
    """Issue 19: the group a module deploys on by default (monitoring: the chat host) and
    the parent group of every stack host are defined in the inventory `llm` generates beside
    the user's, so no user edits an inventory for them; a group the user fills is theirs."""
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.vars.manager import VariableManager

    from cli import runner
    from cli.stack import StackDir

    real = registry.raw_registry()
    assert logic.group_defaults(real) == {"llm_monitoring": "llm_chat"}
    wrong = (({"llm_nope": "llm_chat"}, "not one of its groups"),
             ({"llm_monitoring": "bad group!"}, "must map groups to groups"))  # fmt: skip
    for bad, message in wrong:
        broken = {**real, "monitoring": {**real["monitoring"], "group_defaults": bad}}
        with pytest.raises(logic.RegistryError, match=message):
            logic.validate_registry(broken)

    stack = StackDir(tmp_path / "stack")
    stack.runs.mkdir(parents=True)

    def seen(inventory_text: str, chosen: list[str] | None) -> tuple[dict, dict]:
        user = tmp_path / "lab.ini"
        user.write_text(inventory_text)
        source = runner._stack_vars_inventory(stack, {"ollama_models": ["x"]}, user, chosen)
        manager = InventoryManager(DataLoader(), sources=[str(source), str(user)])
        groups = {
            name: [h.name for h in group.get_hosts()] for name, group in manager.groups.items()
        }
        values = {
            h.name: VariableManager(DataLoader(), manager).get_vars(host=h).get("where")
            for h in manager.get_hosts()
        }
        return groups, values

    monitoring = ["monitoring"]
    # Group variables that overlap: the user's precedence (depth, then name) is unchanged.
    lab = (
        "[llm_ollama]\ngpu-02\ngpu-01\n[llm_chat]\nchat\ngpu-01\n[llm_gateway]\ngw\n[pcs]\npc-01\n"
        "[llm_ollama:vars]\nwhere=ollama\n[llm_chat:vars]\nwhere=chat\n"
    )
    with pytest.MonkeyPatch.context() as patch:  # monitoring is planned: enable it by hand
        patch.setattr(registry, "enabled", lambda chosen, requires=True: chosen or ["core"])
        found, where = seen(lab, monitoring)
        assert found["llm_monitoring"] == ["chat", "gpu-01"]
        # Not the PCs; the user's order kept (gpu-02 first: the hub).
        assert found["llm_stack"] == ["gpu-02", "gpu-01", "chat", "gw"]
        assert found["llm_ollama"] == ["gpu-02", "gpu-01"]
        assert where["gpu-01"] == "ollama" and where["chat"] == "chat"  # as without llm
        named, _ = seen(lab + "[llm_monitoring]\nmon\n", monitoring)
        assert named["llm_monitoring"] == ["mon"]  # the user's choice, not the chat host too
        assert "mon" in named["llm_stack"]
        off, _ = seen(lab, ["core"])  # monitoring off: its group is not made
        assert not off.get("llm_monitoring")
        # An inventory of classroom PCs only (llm tls ca --install-on) is read, not refused.
        pcs, _ = seen("[pcs]\npc-01\n", monitoring)
        assert pcs["llm_stack"] == [] and pcs["pcs"] == ["pc-01"]
    # A YAML inventory (Molecule's, or a user's): its names are Ansible's tagged strings.
    user = tmp_path / "lab.yml"
    user.write_text("all:\n  children:\n    llm_ollama:\n      hosts:\n        pc-01:\n"
                    "    llm_chat:\n      hosts:\n        pc-01:\n")  # fmt: skip
    source = runner._stack_vars_inventory(stack, {}, user, ["core"])
    assert yaml.safe_load(source.read_text())["all"]["children"]["llm_stack"] == {
        "hosts": {"pc-01": None}
    }


# Words that are also a module's name but mean something else where they stand.
NOT_THE_MODULE = {("roles/ollama/vars/main.yml", "gpu")}  # the hardware kind: cpu or gpu


def test_no_module_is_named_outside_its_roles_its_commands_and_the_registry():
    """Issue 19: a module is added (or renamed) in one place. Its name, as a string in code,
    stands only in the registry, its own roles and the CLI commands that declare it theirs
    (MODULE = "name")."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    known = registry.raw_registry()
    found = []
    for path in [*root.glob("cli/**/*.py"), *root.glob("plugins/**/*.py"),
                 *root.glob("playbooks/**/*.yml"), *root.glob("roles/**/*.yml"),
                 *root.glob("roles/**/*.j2")]:  # fmt: skip
        rel = path.relative_to(root).as_posix()
        if rel == "playbooks/vars/modules.yml":
            continue
        text = path.read_text()
        for name, entry in known.items():
            if rel.split("/")[:2] in [["roles", role] for role in entry.get("roles", [])]:
                continue
            if re.search(rf"^MODULE = \"{name}\"$", text, re.M) or (rel, name) in NOT_THE_MODULE:
                continue
            if re.search(rf"[\"']{name}[\"']", text):
                found.append(f"{rel}: {name}")
    assert found == [], found


def test_the_worked_example_in_the_docs_is_the_one_the_tests_add():
    """docs/modules.md shows the example module's registry entry; the integration test adds
    tests/fixtures/example_module/registry.yml. The two stay the same."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    doc = (root / "docs" / "modules.md").read_text()
    example = doc.split("## The worked example", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    fixture = root / "tests" / "fixtures" / "example_module" / "registry.yml"
    assert yaml.safe_load(example) == yaml.safe_load(fixture.read_text())
