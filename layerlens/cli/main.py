"""The ``layerlens`` command line (also ``python -m layerlens``).

Each subcommand is a thin wrapper over a library function; errors the user can
act on (:class:`~engine_core.errors.LayerLensError`) print one line on stderr
and exit 1. Must not import TensorRT or Streamlit at module level: every
``--help`` works on a machine with neither.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from engine_core.errors import LayerLensError
from engine_core.strict_json import dumps_strict

EXPORT_HINT = """\
Make artifacts with trtexec (TensorRT <= 10; for INT8 add --int8 and --calib=<cache> unless the ONNX has Q/DQ):
  trtexec --onnx=model.onnx --saveEngine=model.engine --fp16 --profilingVerbosity=detailed \\
          --exportLayerInfo=model.graph.json --exportProfile=model.profile.json \\
          --exportTimes=model.timing.json --separateProfileRun 2>&1 | tee model.log
"""


def _add_paths(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="artifact files, folders (searched recursively) or .zip archives")
    parser.add_argument("--calib-cache", metavar="CACHE",
                        help="INT8 calibration cache the engine was built with (joins it; found by itself when it "
                             "sits beside the engine's files)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="layerlens",
        description="LayerLens: per-layer answers for TensorRT engines: which layers run in which "
                    "precision and why, where the bytes and the milliseconds go.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Examples:\n"
               "  layerlens summary runs/resnet-int8/            # every engine found in a folder\n"
               "  layerlens summary build.log --json             # a trtexec log, as JSON\n"
               "  layerlens layers model.graph.json model.profile.json --sort avg_ms\n"
               "  layerlens import runs/ && layerlens dashboard  # store runs, then explore them\n"
               "  layerlens build resnet18 --precision fp32,fp16,int8   # real engines here (TensorRT-RTX, no GPU)\n"
               "  layerlens accuracy resnet18-int8-ort-uncalibrated      # its output and per-layer error vs FP32\n"
               "  layerlens advise resnet18 --min-sqnr 35                # fewest layers to keep in FP16 for 35 dB\n"
               "  layerlens diagnose runs/int8 --baseline runs/fp16      # verdict, where the time went, and why\n"
               "  layerlens estimate runs/int8 --gpu 'RTX 4090'           # per-layer latency estimate (calibrated model)\n"
               "  layerlens calib model.calib.cache                     # what an INT8 calibration cache holds\n"
               "  layerlens report runs/int8 --baseline runs/fp16 -o report.html   # one offline HTML to share\n"
               "  layerlens bundle RUN... -o runs.lens.zip && layerlens import runs.lens.zip   # runs to a teammate\n\n"
               + EXPORT_HINT)
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("summary", help="summarize every engine found in the given artifacts",
                       description="Read trtexec/TREx/Polygraphy artifacts and print one summary per engine: "
                                   "TensorRT version, GPU, layer counts by type and precision, weights by "
                                   "dtype, GPU compute time, per-layer sum, engine size and import status.",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EXPORT_HINT)
    _add_paths(p)
    p.add_argument("--json", action="store_true", help="print the machine-readable summary (shape in README)")

    p = sub.add_parser("layers", help="print the canonical per-layer table of one engine",
                       description="Print one engine's layer table: type, compute and output precision, "
                                   "weights, tactic and time per layer.")
    _add_paths(p)
    p.add_argument("--engine", help="engine name when the paths hold several (see `layerlens summary`)")
    p.add_argument("--sort", default="order", help="column to sort by, descending for times/bytes (default: order)")
    p.add_argument("--csv", metavar="FILE", help="write the full table as CSV to FILE ('-' for stdout)")

    p = sub.add_parser("import", help="copy artifacts (or a run bundle) into the run store used by the dashboard",
                       description="Group artifacts into engines and store each as a run "
                                   "(default store: ~/.layerlens/runs, or $LAYERLENS_RUNS). A .lens.zip from "
                                   "`layerlens bundle` adds its runs unchanged (names and tags included); a run "
                                   "already stored with other content is refused unless --rename or --replace.")
    _add_paths(p)
    p.add_argument("--store", help="run store folder")
    conflict = p.add_mutually_exclusive_group()
    conflict.add_argument("--rename", action="store_true", help="bundles: import a conflicting run as a copy (id-2)")
    conflict.add_argument("--replace", action="store_true", help="bundles: overwrite a conflicting stored run")

    from layerlens.cli.runs import add_commands as add_store_commands  # runs, bundle

    add_store_commands(sub)

    p = sub.add_parser("dashboard", help="open the LayerLens dashboard in a browser",
                       description="Start the Streamlit dashboard on the run store, on this machine only\n"
                                   "(127.0.0.1) unless --host says otherwise.",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="Sharing with a team:\n"
                              "  layerlens dashboard --host 0.0.0.0 --read-only   # prints a link with a token; view only\n"
                              "  layerlens dashboard --allow-dir ~/models         # let the Build page read ~/models")
    p.add_argument("--store", help="run store folder")
    p.add_argument("--port", type=int, default=8501, help="port to serve on (default 8501)")
    p.add_argument("--headless", action="store_true", help="do not open a browser")
    p.add_argument("--no-demo", action="store_true",
                   help="on an empty store, do not build the ResNet-18 demo engines first (TensorRT-RTX)")
    from layerlens.cli.serve import add_arguments as add_serve_arguments  # --host, --token, --read-only, --allow-dir

    add_serve_arguments(p)

    from layerlens.cli.build import add_commands as add_build_commands  # build, quantize

    add_build_commands(sub)

    from layerlens.cli.analysis import add_commands  # compare, diagnose

    add_commands(sub, _add_paths)

    from layerlens.cli.accuracy import add_commands as add_accuracy_commands  # accuracy, advise

    add_accuracy_commands(sub)
    return parser


class _VersionAction(argparse.Action):
    """``--version``: the installed version, looked up only when asked for (see ``engine_core.__getattr__``)."""

    def __init__(self, option_strings, dest, **kwargs) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show the version and exit")

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        import engine_core

        print(f"layerlens {engine_core.__version__}")  # to stdout, as argparse's own version action does
        parser.exit()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 0
    try:
        return _dispatch(args)
    except LayerLensError as exc:
        print(f"layerlens: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `layerlens ... | head`: the reader left, which is not an error
        sys.stderr.close()
        return 0
    except Exception as exc:  # a bug, not bad input: still no traceback unless asked
        if os.environ.get("LAYERLENS_DEBUG"):
            raise
        print(f"layerlens: internal error: {type(exc).__name__}: {exc} "
              "(rerun with LAYERLENS_DEBUG=1 for a traceback and report it)", file=sys.stderr)
        return 2


def _dispatch(args) -> int:
    if args.command == "summary":
        return _cmd_summary(args)
    if args.command == "layers":
        return _cmd_layers(args)
    if args.command == "import":
        return _cmd_import(args)
    if args.command == "dashboard":
        return _cmd_dashboard(args)
    return args.handler(args)


def _load(paths, calib_cache=None):
    from engine_core.discover import SUPPORTED_HELP, load_engines

    engines, skipped = load_engines(paths, calibration_cache=calib_cache)
    for s in skipped:
        print(f"layerlens: skipped {s}", file=sys.stderr)
    if not engines:
        raise LayerLensError(f"No readable TensorRT artifacts in {', '.join(map(str, paths))}.", SUPPORTED_HELP)
    settle()
    return engines


def settle() -> None:
    """Take what was just parsed out of the cyclic garbage collector's way for the rest of the command.

    A parsed engine is millions of small objects (a 100k-layer engine: ~4M dicts, lists and strings,
    made while collection was paused), all alive, none in a cycle. Left young, each of the collector's
    next generation sweeps walks all of them and frees nothing: seconds at 100k layers. Frozen, they are
    still freed by reference counting. The analyses that follow build hundreds of thousands of tuples and
    rows, which would trigger more sweeps that find nothing: the collector stays off for the rest of the
    command (the CLI runs one command and exits; memory in cycles is returned at exit).
    """
    import gc

    gc.freeze()
    gc.disable()


def _cmd_summary(args) -> int:
    from engine_core.summary import format_summary, summarize_engine

    summaries = [summarize_engine(e) for e in _load(args.paths, args.calib_cache)]
    if args.json:
        print(dumps_strict({"engines": summaries}, indent=2))
    else:
        print("\n\n".join(format_summary(s) for s in summaries))
    return 0


def _cmd_layers(args) -> int:
    engines = _load(args.paths, args.calib_cache)
    if args.engine:
        engines = [e for e in engines if e.name == args.engine]
        if not engines:
            raise LayerLensError(f"No engine named '{args.engine}'.", "Run `layerlens summary` to see the names.")
    if len(engines) > 1:
        names = ", ".join(e.name for e in engines)
        raise LayerLensError(f"The paths hold {len(engines)} engines ({names}).", "Pick one with --engine NAME.")
    from engine_core.accuracy.join import with_layer_accuracy
    from engine_core.analysis.estimate import layers_for_export

    engine = engines[0]  # an unmeasured engine carries a labelled estimate column; a measured build its SQNR
    table = with_layer_accuracy(layers_for_export(engine), engine.layers, engine.accuracy)
    if args.sort not in table.columns:
        raise LayerLensError(f"Unknown column '{args.sort}'.", "Columns: " + ", ".join(table.columns))
    table = table.sort_values(args.sort, ascending=args.sort in ("order", "name"))
    if args.csv:
        from engine_core.export import layer_table_csv

        text = layer_table_csv(table)
        if args.csv == "-":
            sys.stdout.write(text)
        else:
            Path(args.csv).write_text(text)
        return 0
    estimated = [c for c in table.columns if c.startswith("estimated_ms_")]
    shown = table[["order", "name", "layer_type", "compute_precision", "output_precision",
                   "weights_bytes", "avg_ms", *estimated]].copy()
    shown["name"] = shown["name"].str.slice(0, 70)
    print(shown.to_string(index=False))
    if estimated:
        print(f"\n{estimated[0]}: {table['estimate_basis'].iat[0]}; not a measurement (nothing timed this engine).")
    return 0


def _cmd_import(args) -> int:
    from engine_core.store import RunStore
    from engine_core.store.bundle import is_bundle

    bundles = [p for p in args.paths if str(p).endswith(".zip") and is_bundle(p)]
    if bundles:
        if len(bundles) != len(args.paths):
            raise LayerLensError("Import run bundles and artifacts in separate commands.",
                                 f"First `layerlens import {bundles[0]}`, then the rest.")
        from layerlens.cli.runs import import_bundle_command

        policy = "rename" if args.rename else "replace" if args.replace else "refuse"
        return max(import_bundle_command(b, args.store, policy) for b in bundles)
    store = RunStore(args.store)
    for engine in _load(args.paths, args.calib_cache):
        manifest, created = store.add(engine)
        state = "stored" if created else "already stored"
        print(f"{state}: {manifest.run_id}  ({manifest.layer_count} layers, {manifest.device or 'GPU unknown'})")
    print(f"store: {store.root}")
    return 0


def _demo_if_empty(args) -> str:
    """Build the demo engines into an empty store; returns the URL path that opens on their comparison."""
    from engine_core.build.rtx import rtx_available
    from engine_core.store import RunStore

    store = RunStore(args.store)
    if args.no_demo or store.list_runs() or not rtx_available():
        return ""
    from urllib.parse import urlencode

    from engine_core.build.demo import build_demo, demo_selection

    print("The run store is empty: building real ResNet-18 engines with TensorRT-RTX (FP32, FP16, INT8 x2) …",
          file=sys.stderr, flush=True)
    start = time.perf_counter()
    result = build_demo(store, lambda stem, stage, detail: print(f"  [{stem}] {stage}", file=sys.stderr, flush=True))
    for failure in result.failures:
        print(f"layerlens: warning: demo build {failure.stem} failed: {failure.error}", file=sys.stderr)
    run, baseline, more = demo_selection(result)
    built = sum(1 for r in result.results if r.run_id)
    print(f"Built {built} demo engines in {time.perf_counter() - start:.1f} s.", file=sys.stderr)
    if not run or not baseline:
        return ""
    return "/compare?" + urlencode({"run": run, "baseline": baseline, "compare": ",".join(more)})


def _cmd_dashboard(args) -> int:
    from layerlens.cli.serve import plan_dashboard, serve_dashboard

    plan = plan_dashboard(args)  # bad options fail here, before a demo build
    return serve_dashboard(plan, "" if args.read_only else _demo_if_empty(args))


if __name__ == "__main__":
    sys.exit(main())
