"""``layerlens runs`` (list, rename, tag, delete) and ``layerlens bundle``: argument wiring and text output."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict

from engine_core.errors import LayerLensError
from engine_core.strict_json import dumps_strict


def add_commands(sub) -> None:
    p = sub.add_parser("runs", help="list, rename, tag and delete the runs in the store",
                       description="Without an action, list the runs in the store (and any broken run folders, with "
                                   "the reason). RUN is a run id or an exact run name.",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="Examples:\n"
                              "  layerlens runs                               # list\n"
                              "  layerlens runs rename fp16-resnet-0c5f9f56f2 'resnet50 fp16 (A100)'\n"
                              "  layerlens runs tag fp16-resnet-0c5f9f56f2 baseline   # the default baseline for its model\n"
                              "  layerlens runs tag fp16-resnet-0c5f9f56f2 --remove baseline\n"
                              "  layerlens runs delete resnet-qat-c74e56471d          # asks first; --yes to skip")
    p.add_argument("--store", help="run store folder (default ~/.layerlens/runs or $LAYERLENS_RUNS)")
    p.add_argument("--json", action="store_true", help="list: print manifests (and broken folders) as JSON")
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    a = actions.add_parser("rename", help="change a run's display name (its id stays)")
    a.add_argument("run", metavar="RUN")
    a.add_argument("name", metavar="NAME")
    a = actions.add_parser("tag", help="add (or --remove) tags such as 'baseline'")
    a.add_argument("run", metavar="RUN")
    a.add_argument("tags", nargs="+", metavar="TAG")
    a.add_argument("--remove", action="store_true", help="remove the tags instead")
    a = actions.add_parser("delete", help="delete runs (or broken run folders) after asking")
    a.add_argument("runs", nargs="+", metavar="RUN")
    a.add_argument("--yes", "-y", action="store_true", help="do not ask (needed when stdin is not a terminal)")
    for action in actions.choices.values():
        action.add_argument("--store", help=argparse.SUPPRESS, default=argparse.SUPPRESS)
    p.set_defaults(handler=_cmd_runs)

    p = sub.add_parser("bundle", help="pack runs into one .lens.zip a teammate imports",
                       description="Write the named runs (ids or exact names) with their artifacts, names and tags into "
                                   "one zip. `layerlens import FILE.lens.zip` (or the dashboard's Import page) adds "
                                   "them to another store unchanged.",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="Example:\n  layerlens bundle fp16-resnet-0c5f9f56f2 resnet-qat-c74e56471d -o resnet.lens.zip")
    p.add_argument("runs", nargs="*", metavar="RUN", help="run ids or names (see `layerlens runs`)")
    p.add_argument("--all", action="store_true", help="every run in the store")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="the bundle to write (e.g. runs.lens.zip)")
    p.add_argument("--store", help="run store folder")
    p.set_defaults(handler=_cmd_bundle)


def _cmd_runs(args) -> int:
    from engine_core.store import RunStore

    store = RunStore(args.store)
    if args.action == "rename":
        run, = store.resolve([args.run])
        store.rename(run.run_id, args.name)
        print(f"renamed {run.run_id}: '{run.name}' -> '{args.name.strip()}'")
        return 0
    if args.action == "tag":
        run, = store.resolve([args.run])
        changed = store.set_tags(run.run_id, remove=args.tags) if args.remove else store.set_tags(run.run_id, add=args.tags)
        print(f"{run.run_id}: tags {', '.join(changed.tags) or '(none)'}")
        return 0
    if args.action == "delete":
        return _delete(store, args.runs, args.yes)
    return _list(store, args.json)


def _list(store, as_json: bool) -> int:
    runs, broken = store.scan()
    if as_json:
        print(dumps_strict({"runs": [asdict(r) for r in runs], "broken": [asdict(b) for b in broken]}, indent=2))
        return 0
    if not runs and not broken:
        print(f"No runs in {store.root}. Add some with `layerlens import PATH` or `layerlens build MODEL`.")
        return 0
    for r in runs:
        estimate = "  [estimate]" if r.is_estimate else ""
        tags = f"  #{' #'.join(r.tags)}" if r.tags else ""
        print(f"{r.run_id:<48} {r.layer_count:>6} layers  {r.build_precision or '-':<16} {r.device or '-'}{estimate}{tags}")
        if r.name not in r.run_id:
            print(f"{'':<4}name: {r.name}")
    for b in broken:
        print(f"{b.folder:<48} BROKEN: {b.reason}  (`layerlens runs delete {b.folder}` removes it)")
    return 0


def _delete(store, refs: list[str], yes: bool) -> int:
    runs, broken = store.scan()
    broken = {b.folder for b in broken}
    targets = []  # (folder, what the user is asked about)
    for ref in dict.fromkeys(refs):
        if ref in broken:
            targets.append((ref, f"broken folder {ref}"))
        else:
            run, = store.resolve([ref], runs)
            targets.append((run.run_id, f"{run.run_id} ('{run.name}', {run.layer_count} layers)"))
    if not yes:
        if not sys.stdin.isatty():
            raise LayerLensError(f"Refusing to delete {len(targets)} run(s) without asking.", "Pass --yes to confirm.")
        print("Delete these runs and their artifact files from the store?")
        for _, label in targets:
            print(f"  {label}")
        if input("Delete? [y/N] ").strip().lower() not in ("y", "yes"):
            print("Nothing deleted.")
            return 1
    for run_id, label in targets:
        store.delete(run_id)
        print(f"deleted {label}")
    return 0


def _cmd_bundle(args) -> int:
    from engine_core.store import RunStore
    from engine_core.store.bundle import write_bundle

    store = RunStore(args.store)
    refs = [r.run_id for r in store.list_runs()] if args.all else args.runs
    if not refs:
        raise LayerLensError("Name the runs to bundle, or pass --all.", "See `layerlens runs` for ids and names.")
    out = write_bundle(store, refs, args.output)
    print(f"wrote {out} ({len(dict.fromkeys(refs))} runs, {out.stat().st_size / 2**20:.2f} MiB); "
          f"import it with `layerlens import {out.name}`")
    return 0


def import_bundle_command(path, store_root, on_conflict: str) -> int:
    """``layerlens import FILE.lens.zip``: print one line per run."""
    from engine_core.store import RunStore
    from engine_core.store.bundle import import_bundle

    store = RunStore(store_root)
    for run in import_bundle(store, path, on_conflict):
        extra = f" (was {run.source_id} in the bundle)" if run.source_id else ""
        print(f"{run.status}: {run.run_id}  '{run.name}'{extra}")
    print(f"store: {store.root}")
    return 0
