"""One config path: defaults, then a settings file, then QA_* variables, then flags; bad values refused by name."""
from __future__ import annotations

from dataclasses import replace

import pytest
from conftest import WordHashEncoder

from qa import QA, InvalidQuestion, Settings
from qa.config import ServerSettings
from qa.errors import SettingsError
from qa.index import store


def test_later_sources_win(tmp_path):
    config = tmp_path / "qa.toml"
    config.write_text('bm25_k1 = 0.9\ndense_weight = 0.5\n[answer]\nmax_k = 8\n[server]\nport = 8000\n')
    env = {"QA_DENSE_WEIGHT": "0.7", "QA_STEM": "false", "QA_PORT": "8100", "QA_UNRELATED": "x"}
    s = Settings.load(["max_k=9"], config, env)
    assert (s.bm25_k1, s.dense_weight, s.stem, s.max_k, s.fusion) == (0.9, 0.7, False, 9, "minmax")
    assert ServerSettings.load(config_file=config, env=env, port=8200).port == 8200
    assert ServerSettings.load(config_file=config, env=env).port == 8100
    assert ServerSettings.load(config_file=config, env={}).port == 8000


def test_the_settings_file_can_be_named_by_the_environment(tmp_path):
    (tmp_path / "qa.toml").write_text('corpus_dir = "/data/archive"\n')
    assert str(Settings.load(env={"QA_CONFIG": str(tmp_path / "qa.toml")}).corpus_dir) == "/data/archive"


def test_defaults_are_grouped_by_stage():
    groups = Settings.groups()
    assert list(groups) == ["index", "retrieval", "answer"]
    assert groups["index"][:5] == ["corpus_dir", "index_dir", "follow_external_links", "max_document_bytes",
                                   "min_passage_words"]
    assert "fusion" in groups["retrieval"] and "relative_cutoff" in groups["answer"]
    assert ServerSettings.groups() == {"server": ["host", "port", "concurrency", "queue_size", "sessions", "share",
                                                 "allowed_hosts", "max_body_bytes", "max_turns", "max_chat_bytes",
                                                 "users", "login_attempts", "header_timeout", "body_timeout",
                                                 "keep_alive_timeout", "max_connections",
                                                 "max_connections_per_client", "upload", "upload_max_files", "upload_max_mb"]}


@pytest.mark.parametrize("load, message", [
    (lambda: Settings.load(["bm25_k1"]), r"--param 'bm25_k1': write NAME=VALUE with NAME one of Settings's settings"),
    (lambda: Settings.load(["nonsense=1"]), "write NAME=VALUE"),
    (lambda: Settings.load(["bm25_k1=high"]), r"--param 'bm25_k1=high': bm25_k1 needs a float value, not 'high'"),
    (lambda: Settings.load(["stem=maybe"]), "stem needs true or false, not 'maybe'"),
    (lambda: Settings.load(env={"QA_MAX_K": "ten"}), "environment variable QA_MAX_K: max_k needs a int value"),
    (lambda: Settings.load(["fusion=sum"]), "unknown fusion 'sum'; choose one of minmax, rrf"),
    (lambda: Settings.load(["bm25_variant=bm42"]), "unknown bm25_variant 'bm42'; choose one of okapi, plus, l"),
    (lambda: Settings(default_k=11), r"default_k is 11; it must be from 1 to max_k \(10\)"),
    (lambda: Settings(relative_cutoff=-1.0), "relative_cutoff is -1.0; it must not be negative"),
    (lambda: ServerSettings.load(env={"QA_PORT": "70000"}), r"port is 70000; choose one from 1 to 65535 \(0: any free port\)"),
    (lambda: ServerSettings(queue_size=0), "queue_size is 0; it must be at least 1"),
    # every number has bounds, checked however it arrives (issue 27)
    (lambda: Settings.load(["encode_batch=0"], env={}), "encode_batch is 0; it must be at least 1"),
    (lambda: Settings.load(env={"QA_ENCODE_BATCH": "-3"}), "encode_batch is -3; it must be at least 1"),
    (lambda: Settings.load(["bm25_k1=nan"], env={}), "bm25_k1 is nan; it must be a finite number"),
    (lambda: Settings.load(["bm25_b=2"], env={}), "bm25_b is 2.0; it must be from 0 to 1"),
    (lambda: Settings.load(["corpus_wait_seconds=inf"], env={}), "corpus_wait_seconds is inf; it must be a finite"),
    (lambda: Settings.load(["max_document_bytes=0"], env={}), "max_document_bytes is 0; it must be at least 1"),
    (lambda: Settings.load(["max_passage_chars=10"], env={}), "max_passage_chars is 10; it must be at least 200"),
    (lambda: Settings.load(["candidates=0"], env={}), "candidates is 0; it must be at least 1"),
    (lambda: Settings.load(["dense_weight=1.5"], env={}), "dense_weight is 1.5; it must be from 0 to 1"),
    (lambda: Settings.load(["min_similarity=-inf"], env={}), "min_similarity is -inf; it must be a finite number"),
    (lambda: ServerSettings.load(["max_body_bytes=-1"], env={}), "max_body_bytes is -1; it must be at least 1"),
    (lambda: ServerSettings.load(env={"QA_MAX_BODY_BYTES": "0"}), "max_body_bytes is 0; it must be at least 1"),
    (lambda: ServerSettings(sessions=0), "sessions is 0; it must be at least 1"),
])
def test_bad_settings_are_refused_with_the_fix(load, message):
    with pytest.raises(SettingsError, match=message):
        load()


def test_a_bad_settings_file_is_named(tmp_path):
    config = tmp_path / "qa.toml"
    config.write_text("bm25_k1 = [1\n")
    with pytest.raises(SettingsError, match=r"qa.toml is not valid TOML"):
        Settings.load(config_file=config, env={})
    config.write_text("[index]\nbm25_k1 = nan\n")
    with pytest.raises(SettingsError, match="bm25_k1 is nan; it must be a finite number"):
        Settings.load(config_file=config, env={})
    config.write_text('max_k = "ten"\n')
    with pytest.raises(SettingsError, match=r"qa.toml: max_k needs a int value, not 'ten'"):
        Settings.load(config_file=config, env={})
    with pytest.raises(SettingsError, match="cannot be read"):
        Settings.load(config_file=tmp_path / "missing.toml", env={})


def test_unknown_mode_is_refused_with_the_valid_ones(fixture_qa):
    with pytest.raises(InvalidQuestion, match="unknown mode 'semantic'; choose one of bm25, dense, hybrid"):
        fixture_qa.ask("Who fired?", mode="semantic")


def test_every_command_takes_param(cli, fixture_settings, monkeypatch):
    monkeypatch.setenv("QA_CORPUS_DIR", str(fixture_settings.corpus_dir))
    for command in ("ask", "index", "eval", "bench"):
        code, _, err = cli(command, *(["Who fired?"] if command == "ask" else []), "--param", "fusion=sum")
        assert (code, err) == (2, "error: unknown fusion 'sum'; choose one of minmax, rrf\n")


def test_a_change_to_the_splitting_code_makes_the_index_stale(fixture_settings, monkeypatch):
    encoder = WordHashEncoder()
    QA(fixture_settings, encoder)  # builds and saves the index
    assert store.problem(fixture_settings, encoder) is None
    store.code_version.cache_clear()
    monkeypatch.setattr(store.qa.corpus.passages, "__file__", store.qa.corpus.text.__file__)
    try:
        assert store.problem(fixture_settings, encoder) == ("the index was built by a different version of the "
                                                            "splitting or tokenising code")
    finally:
        store.code_version.cache_clear()


def test_a_change_to_an_index_setting_makes_the_index_stale(fixture_settings):
    encoder = WordHashEncoder()
    QA(fixture_settings, encoder)
    assert store.problem(replace(fixture_settings, bm25_k1=0.9), encoder) == "the index was built with a different params"
    assert store.problem(replace(fixture_settings, relative_cutoff=0.5), encoder) is None  # not an index setting
