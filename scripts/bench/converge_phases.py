"""Split a converge's wall time into phases, from the JUnit files of Ansible's junit callback.

    converge_phases.py JUNIT_DIR ROLES_DIR

Debian packages are every task of the collection's roles that runs ansible.builtin.apt (found
in ROLES_DIR); the application's Python install, asset build and initialisation are named
tasks of the invenio_rdm role; everything else is "other". Prints one line per phase.
"""
import pathlib
import sys
import xml.etree.ElementTree as ElementTree

import yaml

PHASES = {
    'Python install (pip, lock with hashes)': ['The virtualenv is created', 'The locked packages are installed',
                                               'The installed set is consistent'],
    'Asset build (collect, npm ci, webpack)': ['Web assets are built for this release and these inputs'],
    'Initialisation and its queued tasks': ['Database, files location, roles, indices, fixtures, queues and the administrator exist',
                                            'The tasks queued by initialisation have run'],
}


def apt_tasks(roles_dir):
    """'role : task name' of every apt task of the collection's roles."""
    names = set()
    for path in pathlib.Path(roles_dir).glob('*/tasks/*.yml'):
        for task in yaml.safe_load(path.read_text(encoding='utf-8')) or []:
            for inner in task.get('block', [task]):
                if 'ansible.builtin.apt' in inner:
                    names.add(f"{path.parts[-3]} : {inner['name']}")
    return names


def task_times(junit_dir):
    """(role : task, seconds) of every task run, from the junit callback's files."""
    for path in pathlib.Path(junit_dir).glob('*.xml'):
        for case in ElementTree.parse(path).getroot().iter('testcase'):
            # "[host] Play name: rdmops.invenio.role : Task name" (arguments hidden by
            # JUNIT_HIDE_TASK_ARGUMENTS), or a play-level task without a role
            name = case.get('name')
            name = name[name.index('rdmops.invenio.') + len('rdmops.invenio.'):] if 'rdmops.invenio.' in name else name
            yield name, float(case.get('time') or 0)


def main():
    junit_dir, roles_dir = sys.argv[1:3]
    packages = apt_tasks(roles_dir)
    totals = {'Debian packages (apt)': 0.0, **{phase: 0.0 for phase in PHASES}, 'Everything else': 0.0}
    for name, seconds in task_times(junit_dir):
        task = name.split(' : ', 1)[-1]
        phase = next((phase for phase, tasks in PHASES.items() if name.startswith('invenio_rdm : ') and task in tasks), None)
        if phase is None:
            phase = 'Debian packages (apt)' if name in packages else 'Everything else'
        totals[phase] += seconds
    for phase, seconds in totals.items():
        print(f'{phase:<45} {seconds:8.1f} s')
    print(f"{'Sum of task times':<45} {sum(totals.values()):8.1f} s")


if __name__ == '__main__':
    main()
