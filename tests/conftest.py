"""Shared test settings (CPU only, deterministic, few threads) and the session fixtures."""

import os
from pathlib import Path

import pytest
import torch

torch.set_num_threads(2)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def face_data(tmp_path_factory) -> Path:
    """A tiny real dataset (smoke profile, real clip, real MTCNN), built once per session;
    ``HOFVSR_TEST_DATA`` points at an already built one instead."""
    if os.environ.get("HOFVSR_TEST_DATA"):
        return Path(os.environ["HOFVSR_TEST_DATA"])
    from hofvsr_lib.cli import main

    root = tmp_path_factory.mktemp("faces")
    assert main(["dataset", "build", "--out", str(root), "--profile", "smoke"]) == 0
    return root


@pytest.fixture(scope="session")
def search_root(tmp_path_factory, face_data) -> Path:
    """An output root whose OFR draft-cube cache (tiny profile) is built once and shared by
    every search test."""
    from tiny_search import TINY

    from hofvsr_lib.search import launcher

    root = tmp_path_factory.mktemp("search")
    launcher.prepare_cube_cache(face_data, TINY, root)
    return root
