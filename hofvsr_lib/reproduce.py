"""``hofvsr reproduce``: the whole paper, end to end, as executed notebooks and an HTML book.

Runs the numbered notebooks of ``notebooks/`` in order with papermill (the search notebook once
per strategy), writes the executed copies into ``<book>/notebooks/`` and builds the Jupyter
Book (warnings fail the build). Every compute step resumes: the dataset skips videos already
done, a search skips finished trials, a training run skips finished checkpoints, so a second
run only re-renders.

The default profile writes ``results/`` and builds ``book/``; other profiles write under
``work/<profile>/`` so that a smoke run never overwrites the committed results. ``evidence``
extends the cpu run: while it runs (many hours, over several sessions) it lives in
``results/evidence/``, a copy of the committed cpu run to which each finished run is added (and
committed as it finishes, without touching what ``make`` renders); once its last step is done it
replaces the cpu run in ``results/`` (:func:`promote`), and ``make`` renders it from there.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from .atomic import write_json
from .profiles import PROFILES, get_profile
from .provenance import run_provenance
from .vocabulary import STRATEGIES, STRATEGY_LABELS

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
BOOK_SOURCES = ("_config.yml", "_toc.yml", "intro.md", "_static")
RUN_TIMES = ("start_time", "end_time", "duration")  # papermill's, removed from executed copies
# profiles whose results live in results/ and book/, each extending the one before it
COMMITTED = ("cpu", "evidence")
IN_PROGRESS = "evidence"  # results/evidence/: the evidence run until it is complete
SEARCHING = ("02_search", "09_whole_search")  # the notebooks that take an NNI web UI port

# (source notebook, executed name, extra parameters), in order
STEPS: list[tuple[str, str, dict]] = [
    ("01_dataset.ipynb", "01_dataset.ipynb", {}),
    *[("02_search.ipynb", f"02_search_{s}.ipynb", {"strategy": s}) for s in STRATEGIES],
    ("02_search_studies.ipynb", "02_search_studies.ipynb", {}),
    ("03_top5_curves.ipynb", "03_top5_curves.ipynb", {}),
    ("04_complexity_scatter.ipynb", "04_complexity_scatter.ipynb", {}),
    ("05_final_training.ipynb", "05_final_training.ipynb", {}),
    ("05_flow_quality.ipynb", "05_flow_quality.ipynb", {}),
    ("06_table3.ipynb", "06_table3.ipynb", {}),
    ("07_face_video_demo.ipynb", "07_face_video_demo.ipynb", {}),
    ("08_claims.ipynb", "08_claims.ipynb", {}),
    ("09_whole_search.ipynb", "09_whole_search.ipynb", {}),  # beyond the paper (issue 21)
    ("10_whole_network.ipynb", "10_whole_network.ipynb", {}),
    ("11_whole_picks.ipynb", "11_whole_picks.ipynb", {}),
]


# measurements a notebook shows, run before it only when their file is missing, so that a
# re-render never overwrites a committed measurement: (file under results, "module:function")
MEASUREMENTS: dict[str, list[tuple[str, str]]] = {
    "05_flow_quality.ipynb": [("flow/flow_quality.json", "hofvsr_lib.report.flow:measure_flow")],
    "07_face_video_demo.ipynb": [
        ("bench/bench.json", "hofvsr_lib.facevideo.bench:measure_speed"),
        ("figure2/figure2.json", "hofvsr_lib.facevideo.figure2:measure_figure2"),
    ],
}


def run_measurements(executed: str, results: Path, profile: str, data: Path) -> None:
    """The measurements of notebook ``executed`` whose files are missing under ``results``;
    a measurement with a ``data`` argument is given the dataset."""
    import importlib
    import inspect

    for output, target in MEASUREMENTS.get(executed, []):
        if (results / output).is_file():
            print(f"kept {_shown(results / output)} (delete it to measure again)", flush=True)
            continue
        module, function = target.split(":")
        print(f"\n=== measuring {output}", flush=True)
        measure = getattr(importlib.import_module(module), function)
        wants_data = "data" in inspect.signature(measure).parameters
        measure(results, profile, **({"data": data} if wants_data else {}))


def default_dirs(profile: str) -> dict[str, Path]:
    """Where a profile's data, results and book go (see the module docstring)."""
    if profile in COMMITTED:  # the evidence run extends the cpu run: the same data
        dirs = {"data": ROOT / "work" / "cpu" / "data", "results": ROOT / "results",
                "book": ROOT / "book"}
        if profile == "evidence" and _computed(dirs["results"]) != "evidence":
            dirs.update(results=dirs["results"] / IN_PROGRESS,
                        book=ROOT / "work" / "evidence" / "book")
        return dirs
    base = ROOT / "work" / profile
    return {"data": base / "data", "results": base / "results", "book": base / "book"}


def _computed(results: Path) -> str | None:
    """The profile of the run held in ``results`` (None: none yet)."""
    record = results / "provenance.json"
    return json.loads(record.read_text()).get("profile") if record.is_file() else None


def start_from(committed: Path, results: Path) -> None:
    """Begin a run that extends the one in ``committed`` in the empty folder ``results``: a copy
    of ``committed`` (without NNI's working folders, progress files or a run in progress)."""
    print(f"{_shown(results)}: starting from the {_computed(committed)} run in "
          f"{_shown(committed)}", flush=True)

    def skipped(folder: str, names: list[str]) -> set[str]:
        return {n for n in names if n == "nni" or n.endswith(".progress.pt")
                or Path(folder, n) == results}

    shutil.copytree(committed, results, ignore=skipped, dirs_exist_ok=True)


def promote(results: Path, committed: Path) -> None:
    """The complete run in ``results`` (a folder inside ``committed``) replaces the run that
    ``committed`` held."""
    for old in committed.iterdir():
        if old.is_dir() and old != results:
            shutil.rmtree(old)
        elif old.is_file():
            old.unlink()
    for new in results.iterdir():
        new.rename(committed / new.name)
    results.rmdir()
    print(f"{_shown(committed)} now holds the {_computed(committed)} run: `make` renders the "
          f"book from it", flush=True)


class NotebookError(RuntimeError):
    """A notebook's cell raised: which notebook, which cell, the error, where the copy is."""


def run_notebook(source: Path, executed: Path, parameters: dict) -> float:
    """Execute one notebook with papermill; returns its wall time in seconds. A cell that
    raises ends it with :class:`NotebookError` (KeyboardInterrupt for an interrupt, so that
    the command line says "interrupted"; every step resumes where it stopped)."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    executed.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    print(f"\n=== {executed.name}  {json.dumps(parameters)}", flush=True)
    try:
        papermill.execute_notebook(str(source), str(executed), parameters=parameters,
                                   kernel_name="python3", cwd=str(ROOT), progress_bar=False,
                                   log_output=True, stdout_file=sys.stdout,
                                   stderr_file=sys.stderr)
    except PapermillExecutionError as err:
        if err.ename == "KeyboardInterrupt":
            raise KeyboardInterrupt from err
        evalue = (str(err.evalue or "").strip().splitlines() or [""])[0]
        raise NotebookError(f"{executed.name}, cell In [{err.exec_count}]: {err.ename}: "
                            f"{evalue} (the executed copy, traceback included: "
                            f"{_shown(executed)})") from err
    _tidy_executed(executed, parameters.get("strategy"))
    return time.perf_counter() - start


def _shown(path: Path) -> str:
    """``path`` as the book's reader should see it: relative to the repository when inside it
    (the notebooks run with the repository as their working directory)."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _tidy_executed(executed: Path, strategy: str | None = None) -> None:
    """What the book's reader sees of an executed notebook: no machine path (papermill records
    where it read and wrote it); no parameter cells (the default one and papermill's injected
    one) and no cell without output (imports, set-up) on the page; a cell that only logs
    (training and search progress) folded, code and log; the code of the others folded under
    its output; and a search chapter's title and figure labels naming its strategy (one
    notebook, three chapters)."""
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.setdefault("tags", [])
        shown = {"remove-cell", "remove-input", "hide-input", "show-input"} & set(tags)
        if shown:
            continue
        if "injected-parameters" in tags:
            cell.id = "injected-parameters"  # papermill draws a new id every run
        if {"parameters", "injected-parameters"} & set(tags) or not cell.outputs:
            tags.append("remove-cell")  # plumbing: nothing for the reader
        elif all(o.output_type == "stream" for o in cell.outputs):
            tags.append("hide-cell")  # a log (progress bars, epochs): code and log folded
        else:
            tags.append("hide-input")  # the output on the page, the code one click away
    if strategy:
        first = nb.cells[0]
        title, _, rest = first.source.partition("\n")
        first.source = f"{title} with {STRATEGY_LABELS[strategy]}\n{rest}"
        for cell in nb.cells:  # figure labels are the book's: one per chapter
            figure = cell.metadata.get("mystnb", {}).get("figure", {})
            if "name" in figure:
                figure["name"] = f"{figure['name']}-{strategy}"
    meta = nb.metadata.get("papermill", {})
    for key in ("input_path", "output_path"):
        if key in meta:
            meta[key] = _shown(Path(meta[key]))
    for key in RUN_TIMES:  # when it ran is the run record's business, not the page's
        meta.pop(key, None)
        for cell in nb.cells:
            cell.metadata.get("papermill", {}).pop(key, None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(nb, executed)


def build_book(book: Path) -> Path:
    """Copy the book's own pages next to the executed notebooks if needed, then build it."""
    if book.resolve() != (ROOT / "book").resolve():
        book.mkdir(parents=True, exist_ok=True)
        for name in BOOK_SOURCES:
            source = ROOT / "book" / name
            if source.is_dir():
                shutil.copytree(source, book / name, dirs_exist_ok=True)
            elif source.exists():
                shutil.copy2(source, book / name)
    cmd = [str(Path(sys.executable).with_name("jupyter-book")), "build", str(book), "-W", "-n",
           "--keep-going"]
    subprocess.run(cmd, check=True)
    return book / "_build" / "html" / "index.html"


def results_digest(results: Path) -> str:
    """A digest of every file under ``results`` except the run record, NNI's working folders and
    a run in progress inside it: what tells a step that computed something from one that only
    re-rendered."""
    digest = hashlib.sha256()
    for path in sorted(p for p in results.rglob("*") if p.is_file()):
        relative = path.relative_to(results)
        if relative.name == "provenance.json" and relative.parent == Path(".") or \
                "nni" in relative.parts or relative.parts[0] == IN_PROGRESS:
            continue
        digest.update(str(relative).encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def reproduce(profile: str, data: Path, results: Path, book: Path,
              only: list[str] | None = None, port: int | None = None) -> Path:
    """Run every step (or those whose executed name starts with one of ``only``); ``port``:
    the first NNI web UI port the searches try (their notebooks' default otherwise).

    ``results/provenance.json`` records the run that computed the results: a step's entry is
    rewritten only when the step changed a file under ``results``, so a re-render leaves it
    (and every committed file) as it was."""
    get_profile(profile)
    committed = default_dirs("cpu")["results"]
    in_progress = results == committed / IN_PROGRESS
    if in_progress and _computed(results) is None:
        start_from(committed, results)
    results.mkdir(parents=True, exist_ok=True)
    record_path = results / "provenance.json"
    previous = json.loads(record_path.read_text()) if record_path.is_file() else {}
    computed = previous.get("profile")
    if {profile, computed} <= set(COMMITTED) and \
            COMMITTED.index(computed) > COMMITTED.index(profile):
        print(f"{_shown(results)} holds the {computed} run, which extends {profile}: "
              f"rendering it as {computed}", flush=True)
        profile = computed
    record = previous if previous.get("profile") == profile else {
        **run_provenance(profile), "steps": {}}
    common = {"profile": profile, "data_dir": _shown(data), "results_dir": _shown(results)}
    digest = results_digest(results)  # after one step is before the next
    for source, executed, extra in STEPS:
        if only and not any(executed.startswith(o) for o in only):
            continue
        start, before = time.perf_counter(), digest
        run_measurements(executed, results, profile, data)
        searching = {"port": port} if port and source.startswith(SEARCHING) else {}
        run_notebook(NOTEBOOKS / source, book / "notebooks" / executed,
                     {**common, **extra, **searching})
        digest = results_digest(results)
        if executed in record["steps"] and digest == before:
            continue  # re-rendered only: the computing run's record stays
        now = run_provenance(profile)
        record.update({k: now[k] for k in ("commit", "versions", "machine")})
        record["steps"][executed] = {"wall_s": round(time.perf_counter() - start, 1),
                                     "commit": now["commit"],
                                     "finished": datetime.now(UTC).isoformat(timespec="seconds")}
        write_json(record_path, record)
    index = build_book(book)
    record["book"] = str(index.relative_to(ROOT)) if index.is_relative_to(ROOT) else str(index)
    if record != previous:
        write_json(record_path, record)
    print(f"\nbook: {index}")
    if in_progress and not only:
        promote(results, committed)
    return index


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", default="cpu", choices=sorted(PROFILES))
    parser.add_argument("--data", type=Path,
                        help="dataset directory (default: work/<profile>/data)")
    parser.add_argument("--results", type=Path, help="results directory (default: results/ "
                        "for cpu, results/evidence/ for evidence until it is complete, "
                        "work/<profile>/results otherwise)")
    parser.add_argument("--book", type=Path, help="book directory (default: book/ for cpu, "
                        "work/<profile>/book otherwise)")
    parser.add_argument("--only", nargs="+", metavar="PREFIX",
                        help="run only the notebooks whose name starts with these, e.g. 03 04")
    parser.add_argument("--port", type=int, help="NNI web UI port the searches try first "
                        "(default 8080; a busy port moves to the next free one)")
    from .search.launcher import add_ui_host_argument

    add_ui_host_argument(parser)


def run(args: argparse.Namespace) -> int:
    if args.ui_host:  # the searches' notebooks run in kernels that inherit the environment
        from .search.launcher import UI_HOST_ENV

        os.environ[UI_HOST_ENV] = args.ui_host
    dirs = default_dirs(args.profile)
    reproduce(args.profile, (args.data or dirs["data"]).resolve(),
              (args.results or dirs["results"]).resolve(), (args.book or dirs["book"]).resolve(),
              args.only, args.port)
    return 0
