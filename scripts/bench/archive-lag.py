#!/usr/bin/env python3
"""Worst archive lag from samples written by scripts/bench/pgbackrest.sh.

Each input line: epoch|current_wal_file|last_archived_wal|last_archived_epoch|archived_count|failed_count
(all read from PostgreSQL in one query, so every time is the server's clock).

Two lags per sample, both in seconds:
- since_archive: now - pg_stat_archiver.last_archived_time (what monitoring usually shows);
- oldest_unarchived: age of the oldest WAL segment not yet archived, its birth taken as the first
  sample that saw it (or a later segment) as the current one. Both are lower bounds of the true age
  of the oldest unarchived commit, by at most the archive delay or one sampling interval.
"""
import sys


def seg_number(name):
    """(timeline, absolute segment) of a 24-hex WAL file name, 16 MB segments."""
    if len(name) != 24 or not all(c in '0123456789ABCDEF' for c in name):
        return None
    return int(name[0:8], 16), int(name[8:16], 16) * 0x100 + int(name[16:24], 16)


def main(path):
    samples = []
    with open(path, encoding='utf-8') as handle:
        for line in handle:
            parts = line.strip().split('|')
            if len(parts) != 6 or not parts[0]:
                continue
            now, current, archived, archived_at, count, failed = parts
            samples.append((float(now), seg_number(current), seg_number(archived),
                            float(archived_at) if archived_at else None, int(count), int(failed)))
    if not samples:
        print('no samples')
        return 1
    first_seen = {}
    for now, current, *_ in samples:
        if current is not None:
            first_seen.setdefault(current, now)
    worst_since, worst_oldest = 0.0, 0.0
    for now, current, archived, archived_at, _count, _failed in samples:
        if archived_at is not None:
            worst_since = max(worst_since, now - archived_at)
        if current is None:
            continue
        if archived is None or archived[0] != current[0]:
            oldest = current  # nothing of this timeline archived yet: at least the current segment
        else:
            oldest = (archived[0], archived[1] + 1)
        if oldest > current:
            continue  # everything but the (empty) current segment is archived
        births = [t for seg, t in first_seen.items() if oldest <= seg <= current]
        if births:
            worst_oldest = max(worst_oldest, now - min(births))
    archived_delta = samples[-1][4] - samples[0][4]
    failed_delta = samples[-1][5] - samples[0][5]
    print(f'{len(samples)} {worst_since:.1f} {worst_oldest:.1f} {archived_delta} {failed_delta}')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
