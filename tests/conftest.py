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
def small_data(tmp_path_factory) -> Path:
    """Three persons (car, pyfeat, webcam), 30 frames each, real MTCNN: built once."""
    from fixtures_data import build_small_dataset

    return build_small_dataset(tmp_path_factory.mktemp("small"))


@pytest.fixture(scope="session")
def trial_cache(face_data) -> Path:
    """The tiny profile's draft-cube cache, built once beside the test dataset and shared by
    every search test (as the search and the final training share it)."""
    from tiny_search import TINY

    from hofvsr_lib.search import launcher

    return launcher.trial_cubes(face_data, TINY)[0]


@pytest.fixture(scope="session")
def search_root(tmp_path_factory, trial_cache) -> Path:
    """An output root for the search tests, whose cube cache is ready."""
    return tmp_path_factory.mktemp("search")
