"""Bad training settings stop `spacy train` before initialization, naming the setting."""
import logging
from typing import Any, Dict

import pytest
import spacy

from spacy_biobert.training import check_training


def training(**overrides: Any) -> Dict[str, Any]:
    section: Dict[str, Any] = {
        "max_steps": 100, "max_epochs": 0, "eval_frequency": 50,
        "optimizer": {"learn_rate": {"@schedules": "warmup_linear.v1", "total_steps": 100}},
    }
    section.update(overrides)
    return section


def test_a_sound_budget_passes(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        check_training(training())
        check_training(training(max_steps=0, max_epochs=3))  # epochs bound the run
    assert not caplog.records


@pytest.mark.parametrize("bad,match", [
    ({"max_steps": 0}, r"training.max_steps must be > 0 \(got 0"),
    ({"max_steps": -5}, r"training.max_steps must be > 0 \(got -5"),
    ({"max_steps": "10"}, r"training.max_steps must be a whole number"),
    ({"max_steps": 2.5}, r"training.max_steps must be a whole number"),
    ({"eval_frequency": 0}, r"training.eval_frequency must be >= 1"),
])
def test_bad_budgets_name_the_setting(bad: Dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        check_training(training(**bad))


def test_schedule_that_does_not_match_the_budget_warns(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        check_training(training(max_steps=200))
    assert "total_steps (100) differs from training.max_steps (200)" in caplog.text


def test_registered_callback_reads_the_nlp_config() -> None:
    make = spacy.registry.get("callbacks", "spacy-biobert.check_training.v1")
    nlp = spacy.blank("en")
    nlp.config["training"]["max_steps"] = 0
    nlp.config["training"]["max_epochs"] = 0
    with pytest.raises(ValueError, match="training.max_steps"):
        make()(nlp)


def test_progress_line_reads_as_progress() -> None:
    from spacy_biobert.training import progress_line

    assert progress_line(100, 3000, 150.0) == "step 100/3000 (3.3 %), 1.50 s/step, 1 h 12 min left"
    assert progress_line(0, 10, 0.0).startswith("step 0/10 (0.0 %)")


def test_progress_logger_writes_lines_when_not_on_a_terminal() -> None:
    import io

    make = spacy.registry.get("loggers", "spacy-biobert.ProgressLogger.v1")
    nlp = spacy.blank("en")
    nlp.config["training"]["max_steps"] = 4
    out, err = io.StringIO(), io.StringIO()
    log_step, finalize = make(every_seconds=1e-9)(nlp, out, err)
    info = {"epoch": 0, "step": 0, "losses": {}, "other_scores": {}, "score": 0.0}
    log_step(info)
    for _ in range(3):
        log_step(None)
    finalize()
    lines = [line for line in err.getvalue().splitlines() if line.startswith("step ")]
    assert [line.split(" (")[0] for line in lines] == ["step 0/4", "step 1/4", "step 2/4",
                                                      "step 3/4"]
    with pytest.raises(ValueError, match="every_seconds"):
        make(every_seconds=0)


def test_progress_logger_without_a_bar_resolves_from_a_config() -> None:
    from thinc.api import Config

    cfg = Config().from_str(
        '[logger]\n@loggers = "spacy-biobert.ProgressLogger.v1"\nprogress_bar = null\n')
    make = spacy.registry.resolve(cfg)["logger"]
    nlp = spacy.blank("en")
    nlp.config["training"]["max_steps"] = 1
    log_step, finalize = make(nlp)
    finalize()
    with pytest.raises(Exception, match="progress_bar"):
        spacy.registry.resolve(Config().from_str(
            '[logger]\n@loggers = "spacy-biobert.ProgressLogger.v1"\nprogress_bar = false\n'))
