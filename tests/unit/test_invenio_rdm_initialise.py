"""The invenio_rdm role calls its initialisation script with exactly the settings the script
asks for: the arguments of the role's task, rendered with the role's defaults, parse into the
values the role holds."""
import importlib.util
import pathlib

import jinja2
import pytest
import yaml

ROLE = pathlib.Path(__file__).resolve().parents[2] / "roles" / "invenio_rdm"


def initialise_module():
    spec = importlib.util.spec_from_file_location("initialise", ROLE / "files" / "initialise.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def script_arguments(role_vars):
    """The arguments the task passes after the script's path, rendered with role_vars."""
    tasks = yaml.safe_load((ROLE / "tasks" / "initialise.yml").read_text(encoding="utf-8"))
    (argv,) = [task["ansible.builtin.command"]["argv"] for task in tasks
               if "invenio-rdm-initialise" in str(task.get("ansible.builtin.command", {}).get("argv", ""))]
    script = next(i for i, arg in enumerate(argv) if arg.endswith("/invenio-rdm-initialise"))
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined)
    environment.filters["bool"] = bool
    return [environment.from_string(arg).render(role_vars) for arg in argv[script + 1:]]


@pytest.mark.parametrize("demo_data, expected", [(False, "no"), (True, "yes")])
def test_the_task_passes_every_setting_the_script_needs(demo_data, expected):
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text(encoding="utf-8"))
    role_vars = {**defaults, "invenio_rdm_admin_email": "rdm-admin@example.org", "invenio_rdm_demo_data": demo_data}
    settings = initialise_module().settings(script_arguments(role_vars))
    assert vars(settings) == {
        "admin_email": "rdm-admin@example.org",
        "admin_password_credential": defaults["invenio_rdm_admin_password_credential"],
        "files_path": defaults["invenio_rdm_files_path"],
        "index_prefix": defaults["invenio_rdm_index_prefix"],
        "demo_data": expected,
    }
