"""The local run store: one folder per engine run, with a manifest.

Layout (``~/.layerlens/runs`` by default, or ``$LAYERLENS_RUNS``)::

    <run_id>/manifest.json     schema version, name, source, TensorRT version, GPU, ...
    <run_id>/artifacts/...     the artifact files exactly as imported or built
    <run_id>/engine.arrow      the parsed engine (layer table and facts), derived from the artifacts
    <run_id>/analyses/*.arrow  its analyses (fallbacks, byte account, diagnosis, ...), derived from both

A run's display name and tags can change (:meth:`RunStore.rename`,
:meth:`RunStore.set_tags`); its id cannot, so links and bundles stay valid.
:mod:`~engine_core.store.bundle` moves runs between stores as one zip.

Imports, the dashboard, and builds all write here, and one importer serves every
source: a run is its artifacts, and :mod:`~engine_core.store.engine_cache` keeps
what they parse to, so opening a run is a columnar read, not a JSON parse.
Writes are atomic (a temporary folder renamed into place) and a run id is a
hash of its content, so importing the same files twice stores them once and a
failed import never damages a stored run. Must not import TensorRT or Streamlit.
"""

from engine_core.store.runs import BrokenRun, RunManifest, RunStore, default_store_root

__all__ = ["BrokenRun", "RunManifest", "RunStore", "default_store_root"]
