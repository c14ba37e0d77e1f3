"""The corpus generator (train/corpus.py, docs/dataset.md): a tiny build is deterministic and
has the documented schema, splits share no source, the label rule, and bad input gives one
clear line (a missing synthesizer names its Debian package; a corrupt split file names the
file and field)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from train import corpus
from train.sounds import ToolMissing, music, speech


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tiny")
    corpus.build(root, seed=3, size="tiny", jobs=2)
    return root


def test_tiny_build_is_deterministic_and_cached(tiny: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    again = corpus.build(tmp_path / "again", seed=3, size="tiny", jobs=1)
    first = json.loads((tiny / "manifest.json").read_text())
    assert again["content_sha256"] == first["content_sha256"] == corpus.content_hash(tiny)
    for split in corpus.SPLITS:
        a, b = corpus.load(tiny, split), corpus.load(tmp_path / "again", split)
        assert np.array_equal(a.codes, b.codes) and np.array_equal(a.group, b.group)
    capsys.readouterr()
    corpus.build(tiny, seed=3, size="tiny")
    assert "cached" in capsys.readouterr().out


def test_schema_and_manifest(tiny: Path) -> None:
    m = json.loads((tiny / "manifest.json").read_text())
    assert (m["seed"], m["size"], m["window_samples"]) == (3, "tiny", 31920)
    assert "label_rule" in m and "timgm6mb-soundfont" in m["versions"]["debian"]
    assert len(m["versions"]["soundfonts"]["TimGM6mb.sf2"]) == 64
    families = set()
    for split in corpus.SPLITS:
        s = corpus.load(tiny, split)
        n = len(s)
        assert s.codes.shape == (n, 198, 32) and s.codes.dtype == np.uint8
        assert s.label.dtype == np.uint8 and set(np.unique(s.label)) == {0, 1}
        assert s.snr_db.dtype == s.level_dbfs.dtype == np.float32
        assert m["counts"][split]["clips"] == n
        assert m["counts"][split]["music"] == int(s.label.sum())
        families |= {c.split("/")[0] for c in s.category}
        if split == "test":
            assert s.audio.shape == (n, corpus.WINDOW_SAMPLES) and s.audio.dtype == np.int16
            # the stored codes are the front end's features of the stored audio
            from refmodel.mel.frontend import features
            assert np.array_equal(features(s.audio[0]), s.codes[0])
            assert (np.abs(s.audio).max(axis=1) > 0).all()
        else:
            assert s.audio is None
        # single sources carry no ratio, mixtures do
        single = ~np.char.startswith(s.category.astype(str), "mix/")
        assert np.isnan(s.snr_db[single]).all() and not np.isnan(s.snr_db[~single]).any()
        assert ((s.level_dbfs > -60) & (s.level_dbfs < 1)).all()
    assert families == {"music", "speech", "babble", "scene", "noise", "tonal", "mix"}


def test_splits_share_no_source(tiny: Path) -> None:
    tokens = {}
    for split in corpus.SPLITS:
        tokens[split] = {t for g in corpus.load(tiny, split).group for t in str(g).split("|")}
        assert all(tokens[split])
    assert not tokens["train"] & tokens["val"]
    assert not tokens["train"] & tokens["test"]
    assert not tokens["val"] & tokens["test"]


def test_train_shards_add_sources(tiny: Path, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # two train shards: the seed's own train split, then the one seed + 1 would generate
    monkeypatch.setitem(corpus.TRAIN_SHARDS, "tiny", 2)
    m = corpus.build(tmp_path / "two", seed=3, size="tiny", jobs=2)
    assert m["train_shard_seeds"] == [3, 4]
    one, two = corpus.load(tiny, "train"), corpus.load(tmp_path / "two", "train")
    second = corpus._build_part(4, ("train",), "tiny", 1)["train"][0]
    for f in corpus.FIELDS:
        joined = np.concatenate([getattr(one, f), second[f]])
        assert np.array_equal(getattr(two, f), joined, equal_nan=joined.dtype.kind == "f")
    assert m["counts"]["train"]["clips"] == 2 * len(one)
    assert m["counts"]["train"]["songs"] == 2 * json.loads(
        (tiny / "manifest.json").read_text())["counts"]["train"]["songs"]
    for split in ("val", "test"):  # the other splits are the seed's own
        a, b = corpus.load(tiny, split), corpus.load(tmp_path / "two", split)
        assert np.array_equal(a.codes, b.codes) and np.array_equal(a.group, b.group)
    # the second shard brings new sources, and none of the other splits'
    first = {t for g in one.group for t in str(g).split("|")}
    new = {t for g in second["group"] for t in str(g).split("|")} - first
    assert any(t.startswith("song4") for t in new) and any(t.startswith("gen4.") for t in new)
    held = {t for split in ("val", "test")
            for g in corpus.load(tiny, split).group for t in str(g).split("|")}
    assert not new & held


def test_voice_settings_belong_to_one_split() -> None:
    for synth in ("espeak", "flite", "festival"):
        owners = {}
        for v in speech.voices(synth):
            owners.setdefault(v.name, set()).add(v.split)
        assert all(len(o) == 1 for o in owners.values())
        assert {o.pop() for o in owners.values()} == set(corpus.SPLITS)


def test_held_out_instruments() -> None:
    """Some (soundfont, program) pairs are heard only in validation or only in test."""
    pairs = [(f, p) for f in music.SOUNDFONTS for p in range(128)]
    only_test = [fp for fp in pairs if not corpus._allowed_program("train", *fp)
                 and corpus._allowed_program("test", *fp)]
    assert only_test and all(not corpus._allowed_program("val", *fp) for fp in only_test)
    for song in corpus._song_specs(3, "train", 60, tiny=False):
        pools = [pool for role, pool in music.STYLES[song.style][1]
                 if role not in ("drums", "perc")]
        melodic = [p for ch, p in song.programs if ch != music.DRUM_CHANNEL]
        for program, pool in zip(melodic, pools, strict=True):
            heard = corpus._allowed_program("train", song.soundfont, program)
            fallback = not any(corpus._allowed_program("train", song.soundfont, p) for p in pool)
            assert heard or fallback, (song.seed, song.soundfont, program)


def test_label_rule_on_a_mixture(tiny: Path) -> None:
    assert corpus.label_for(True) == 1
    assert corpus.label_for(False) == 0
    assert corpus.label_for(True, corpus.MUSIC_AUDIBLE_DB) == 1
    assert corpus.label_for(True, corpus.MUSIC_INAUDIBLE_DB) == 0
    assert corpus.label_for(False, 10.0) == 0
    with pytest.raises(ValueError, match="ambiguous"):
        corpus.label_for(True, (corpus.MUSIC_AUDIBLE_DB + corpus.MUSIC_INAUDIBLE_DB) / 2)
    # in the built corpus: music mixtures above the audible ratio are 1, faint music is 0
    for split in corpus.SPLITS:
        s = corpus.load(tiny, split)
        cats = s.category.astype(str)
        loud = np.char.startswith(cats, "mix/music")
        faint = np.char.startswith(cats, "mix/faint_music")
        assert (s.label[loud] == 1).all() and (s.snr_db[loud] >= corpus.MUSIC_AUDIBLE_DB).all()
        assert (s.label[faint] == 0).all()
        assert (s.snr_db[faint] <= corpus.MUSIC_INAUDIBLE_DB).all()
        assert (s.label[np.char.startswith(cats, "music/")] == 1).all()
        assert (s.label[np.char.find(cats, "music") < 0] == 0).all()


@pytest.mark.parametrize("tool,package", [("fluidsynth", "fluidsynth"),
                                          ("espeak-ng", "espeak-ng")])
def test_missing_tool_names_the_package(tool: str, package: str, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for other in ("fluidsynth", "espeak-ng"):  # every tool but the one under test
        if other != tool:
            (bindir / other).symlink_to(shutil.which(other))
    monkeypatch.setenv("PATH", str(bindir))
    with pytest.raises(ToolMissing, match=f"Debian package '{package}'"):
        corpus.build(tmp_path / "c", seed=0, size="tiny")
    assert corpus.main(["build", "--out", str(tmp_path / "c"), "--size", "tiny"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"apt-get install -y {package}" in err


def test_missing_soundfont_names_the_package(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(music.SOUNDFONTS, "timgm6mb",
                        (str(tmp_path / "none.sf2"), "timgm6mb-soundfont"))
    with pytest.raises(ToolMissing, match="Debian package 'timgm6mb-soundfont'"):
        corpus.check_tools("tiny")


def test_corrupt_or_missing_file_is_named(tiny: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(tiny, bad)
    with pytest.raises(ValueError, match=r"val\.npz: missing"):
        (bad / "val.npz").unlink()
        corpus.load(bad, "val")
    (bad / "train.npz").write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match=r"train\.npz: not a readable npz"):
        corpus.load(bad, "train")
    s = corpus.load(tiny, "test")
    fields = {f: getattr(s, f) for f in corpus.FIELDS}
    np.savez(bad / "test.npz", **{**fields, "label": s.label.astype(np.int32), "audio": s.audio})
    with pytest.raises(ValueError, match=r"test\.npz: field 'label' is int32"):
        corpus.load(bad, "test")
    np.savez(bad / "test.npz", **fields)
    with pytest.raises(ValueError, match=r"test\.npz: field 'audio' missing"):
        corpus.load(bad, "test")
    with pytest.raises(ValueError, match="split 'dev'"):
        corpus.load(tiny, "dev")


def test_scene_events_come_and_go_over_the_bed() -> None:
    """corpus._scene: seeded, n finite samples, the bed drawn once, and its events gated: over
    a silent bed some 10 ms frames stay silent in some scenes (an event that does not last the
    window), and every scene has sound."""
    n = corpus.WINDOW_SAMPLES
    talkers = [np.sin(2 * np.pi * 150 * np.arange(8000) / 16000) for _ in range(4)]
    beds = []

    def bed() -> np.ndarray:
        beds.append(1)
        return np.zeros(n)

    silent_frames = []
    for seed in range(12):
        x = corpus._scene(np.random.default_rng(seed), n, talkers, bed)
        y = corpus._scene(np.random.default_rng(seed), n, talkers, bed)
        assert x.shape == (n,) and np.isfinite(x).all() and np.array_equal(x, y)
        frames = np.abs(x[: n // 160 * 160].reshape(-1, 160)).max(axis=1)
        assert frames.max() > 0
        silent_frames.append(int((frames == 0).sum()))
    assert len(beds) == 24
    assert max(silent_frames) > 20 and min(silent_frames) < max(silent_frames), silent_frames
