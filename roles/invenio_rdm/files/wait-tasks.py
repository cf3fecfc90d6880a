#!/usr/bin/env python3
# Installed by the rdmops.invenio.invenio_rdm role; changes here are overwritten.
"""Wait until Celery's default queue is empty and no worker holds a task, or TIMEOUT seconds.

Initialisation queues thousands of vocabulary records (`invenio rdm-records fixtures` hands
them to Celery); the site is usable once the workers have run them all. Runs as the service
user through `invenio-rdm --exec`, whose PATH starts with the instance's virtualenv.
Usage: invenio-rdm-wait-tasks TIMEOUT
"""

import sys
import time

from invenio_app.celery import celery

# Two empty readings in a row: a worker may fetch the last message between the two questions.
SETTLED_READINGS = 2


def pending():
    """Messages waiting in the default queue plus tasks the workers hold."""
    with celery.connection_for_read() as connection:
        waiting = connection.default_channel.queue_declare(
            queue=celery.conf.task_default_queue, passive=True).message_count
    inspect = celery.control.inspect(timeout=3)
    held = sum(len(tasks) for reply in (inspect.active(), inspect.reserved()) for tasks in (reply or {}).values())
    return waiting, held


def main():
    deadline = time.monotonic() + int(sys.argv[1])
    settled = 0
    while True:
        waiting, held = pending()
        print(f"queued {waiting}, running {held}", flush=True)
        settled = settled + 1 if waiting == 0 and held == 0 else 0
        if settled >= SETTLED_READINGS:
            return 0
        if time.monotonic() > deadline:
            print(f"tasks still pending after {sys.argv[1]} s", file=sys.stderr)
            return 1
        time.sleep(5)


if __name__ == "__main__":
    sys.exit(main())
