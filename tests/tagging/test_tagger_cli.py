"""`monitor classify`, `evaluate` and `train` end to end through click, with no config file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import main

CASES = Path(__file__).resolve().parents[1] / "data" / "tagger_cases.jsonl"


@pytest.fixture()
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)  # no config.toml here: the commands must not need one
    monkeypatch.delenv("MONITOR_CONFIG", raising=False)
    return CliRunner()


def test_classify_tags_each_line_and_keeps_ids(runner: CliRunner) -> None:
    lines = [
        {"id": "a", "title": "", "text": "A man groomed a 13-year-old girl on Snapchat and was jailed.", "extra": 1},
        {"id": 7, "title": "Beard grooming", "text": "Trim your beard and use a little oil every day."},
        {"id": "c", "title": "", "text": "A man groomed a 13-year-old girl on Snapchat and was jailed. "
                                         "Snapchat was named in 37% of cases."},
    ]
    result = runner.invoke(main, ["classify"], input="".join(json.dumps(x) + "\n" for x in lines))
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", 7, "c"]
    assert out[0]["relevant"] is True and out[0]["platforms"] == ["snapchat"] and out[0]["topics"][0] == "grooming"
    assert out[1]["relevant"] is False
    (figure,) = out[2]["statistics"]
    assert figure == {"value": "37%", "number": 37.0, "unit": "%", "of": "cases",
                      "sentence": "Snapchat was named in 37% of cases."}
    for o in out:
        assert {
            "id",
            "relevant",
            "score",
            "topics",
            "platforms",
            "legislation",
            "organisations",
            "statistics",
            "why",
        } <= set(o)
        assert "extra" not in o


def test_classify_reports_bad_lines_and_goes_on(runner: CliRunner) -> None:
    good = json.dumps({"id": "ok", "title": "", "text": "The Online Safety Act protects children online."})
    data = "\n".join([good, "{not json", json.dumps([1, 2]), json.dumps({"id": "n", "text": 5}), good]) + "\n"
    result = runner.invoke(main, ["classify"], input=data)
    assert result.exit_code == 1
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["ok", "ok"]
    for number in (2, 3, 4):
        assert f"line {number}:" in result.stderr


def test_evaluate_text_and_json(runner: CliRunner) -> None:
    text = runner.invoke(main, ["evaluate", str(CASES)])
    assert text.exit_code == 0, text.output
    assert "relevant precision" in text.stdout and "baseline" in text.stdout
    assert "negative_pet_grooming" in text.stdout
    result = runner.invoke(main, ["evaluate", str(CASES), "--format", "json"])
    report = json.loads(result.stdout)
    tagger, baseline = report["tagger"], report["baseline"]
    # Our own cases are built so that the keyword filter fails on the hard negatives.
    assert tagger["relevance"]["f1"] > baseline["relevance"]["f1"]
    assert tagger["relevance"]["precision"] >= 0.95
    assert tagger["platforms"]["f1"] >= 0.95
    assert baseline["confusion"]["negative_pet_grooming"].get("relevant", 0) > 0
    assert tagger["confusion"]["negative_pet_grooming"].get("relevant", 0) == 0


def test_evaluate_cross_validation(runner: CliRunner) -> None:
    result = runner.invoke(main, ["evaluate", str(CASES), "--cv", "3", "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert "cross-validation" in report["method"]
    assert report["items"] == len(CASES.read_text().splitlines())


def test_train_is_reproducible_and_usable(runner: CliRunner, tmp_path: Path) -> None:
    first = runner.invoke(main, ["train", "--data", str(CASES), "--out", str(tmp_path / "a"), "--seed", "3"])
    second = runner.invoke(main, ["train", "--data", str(CASES), "--out", str(tmp_path / "b"), "--seed", "3"])
    assert first.exit_code == 0 and second.exit_code == 0, first.output
    model_a = (tmp_path / "a" / "relevance.json").read_bytes()
    assert model_a == (tmp_path / "b" / "relevance.json").read_bytes()
    model_text = model_a.decode()
    for line in CASES.read_text(encoding="utf-8").splitlines():  # weights only, never the texts
        assert json.loads(line)["text"][:24] not in model_text
    result = runner.invoke(
        main,
        ["classify", "--model", str(tmp_path / "a")],
        input=json.dumps({"id": 1, "text": "Dog grooming tips."}) + "\n",
    )
    assert result.exit_code == 0 and json.loads(result.stdout)["relevant"] is False


def test_bad_input_file_is_a_one_line_error(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\n')
    result = runner.invoke(main, ["evaluate", str(bad)])
    assert result.exit_code == 1
    assert result.stderr.startswith("error:") and "bad.jsonl:1" in result.stderr


@pytest.mark.parametrize("command", ["classify", "evaluate", "train"])
def test_every_command_has_help(runner: CliRunner, command: str) -> None:
    result = runner.invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert len(result.stdout.split()) > 40
