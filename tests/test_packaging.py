"""The product package stands alone: it installs with pip, answers outside the checkout, and imports none of the
chat's or the tools' libraries."""
import json
import os
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT

from qa import verify
from qa.answer.model import Answer


def test_importing_qa_loads_no_web_or_tool_library():
    code = ("import sys, qa, qa.cli; qa.cli.parser(); "
            "print(sorted(m for m in ('gradio', 'httpx', 'gradio_client', 'qa_tools.loadtest', 'qa_tools.bench', "
            "'torch', 'sentence_transformers', 'rank_bm25') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.slow
def test_pip_install_answers_outside_the_checkout(tmp_path):
    """`pip install .` into an empty target (dependencies from this environment), run from another folder with
    QA_CORPUS_DIR pointing at the bundled corpus."""
    source, target, elsewhere = tmp_path / "source", tmp_path / "site", tmp_path / "elsewhere"
    elsewhere.mkdir()
    # The project's own files, copied so that the build leaves nothing in the checkout.
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for name in ("qa", "qa_tools"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(source)], check=True, capture_output=True, timeout=300)
    env = {**os.environ, "PYTHONPATH": str(target), "QA_CORPUS_DIR": str(ROOT / "corpus"),
           "QA_INDEX_DIR": str(tmp_path / "index")}
    where = subprocess.run([sys.executable, "-c", "import qa; print(qa.__file__)"], cwd=elsewhere, env=env,
                           capture_output=True, text=True, check=True)
    assert where.stdout.startswith(str(target))
    result = subprocess.run([sys.executable, "-m", "qa", "ask", "What did the posters in Astana say?", "--json", "-k", "1"],
                            cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    answer = Answer.from_dict(json.loads(result.stdout))
    assert [p.passage_id for p in answer.passages] == ["mt-third-day#p9"]
    assert verify(answer) == []
