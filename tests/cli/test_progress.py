"""Progress in a log: a line when a stage starts, a count with percent and ETA at most every `every_s`
seconds, a line with the duration when it ends; and `prag build` writing those lines on stderr when
stderr is not a terminal."""

from __future__ import annotations

import io

from rich.console import Console
from typer.testing import CliRunner

from prag.cli.main import app
from prag.cli.progress import BarProgress, LogProgress, progress_on


class FakeClock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_a_stage_prints_start_counts_at_most_every_every_s_and_done():
    clock, stream = FakeClock(), io.StringIO()
    advance = LogProgress(stream, every_s=30, clock=clock).stage("encode", 40)
    assert lines(stream) == ["encode: 40 to do"]

    for _ in range(11):  # 11 items in 29 s: under every_s, nothing printed
        clock.now += 29 / 11
        advance()
    assert lines(stream) == ["encode: 40 to do"]

    clock.now = 1000 + 33  # 12 done after 33 s: 2.75 s each, 28 left
    advance()
    assert lines(stream)[1:] == ["encode: 12/40 (30%), 33s elapsed, ETA 1m17s"]

    clock.now += 10  # 10 s after the last count line: quiet again
    advance(4)
    assert len(lines(stream)) == 2
    clock.now = 1000 + 125  # 30 s or more since the last count line
    advance(4)
    assert lines(stream)[2] == "encode: 20/40 (50%), 2m05s elapsed, ETA 2m05s"

    clock.now = 1000 + 3725
    advance(20)
    assert lines(stream)[3:] == ["encode: 40/40 done in 1h02m05s"]


def test_every_item_of_a_fast_stage_is_not_a_line():
    clock, stream = FakeClock(), io.StringIO()
    advance = LogProgress(stream, every_s=30, clock=clock).stage("augment", 1000)
    for _ in range(999):
        clock.now += 0.01
        advance()
    assert lines(stream) == ["augment: 1000 to do"]
    advance()
    assert lines(stream) == ["augment: 1000 to do", "augment: 1000/1000 done in 9s"]


def test_a_count_line_after_every_s_even_with_one_item():
    clock, stream = FakeClock(), io.StringIO()
    advance = LogProgress(stream, every_s=5, clock=clock).stage("answer", 3)
    clock.now += 5
    advance()
    clock.now += 4.9
    advance()
    assert lines(stream) == ["answer: 3 to do", "answer: 1/3 (33%), 5s elapsed, ETA 10s"]


def test_two_stages_are_timed_separately():
    clock, stream = FakeClock(), io.StringIO()
    progress = LogProgress(stream, every_s=30, clock=clock)
    first = progress.stage("augment", 1)
    clock.now += 70
    first()
    second = progress.stage("encode", 1)
    clock.now += 3
    second()
    assert lines(stream) == ["augment: 1 to do", "augment: 1/1 done in 1m10s", "encode: 1 to do", "encode: 1/1 done in 3s"]


def test_a_stage_of_nothing_says_so():
    stream = io.StringIO()
    LogProgress(stream, clock=FakeClock()).stage("encode", 0)
    assert lines(stream) == ["encode: nothing to do"]


def test_progress_on_picks_log_lines_off_a_terminal_and_bars_on_one():
    stream = io.StringIO()
    with progress_on(Console(file=stream, force_terminal=False)) as progress:
        assert isinstance(progress, LogProgress) and progress.stream is stream
        progress.stage("encode", 2)
    assert lines(stream) == ["encode: 2 to do"]
    with progress_on(Console(file=io.StringIO(), force_terminal=True)) as progress:
        assert isinstance(progress, BarProgress)


def test_build_prints_stage_lines_on_stderr_in_a_log(tiny_model_dir, facts_file, tmp_path):
    runner = CliRunner()
    common = ["--home", str(tmp_path / "cli-home"), "--model", str(tiny_model_dir), "--recipe", "paper"]
    added = runner.invoke(app, [*common, "add", str(facts_file)], catch_exceptions=False)
    assert added.exit_code == 0, added.output

    result = runner.invoke(app, [*common, "build"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    err = result.stderr.splitlines()
    assert "augment: 3 to do" in err and "encode: 3 to do" in err
    assert err.index("augment: 3 to do") < err.index("encode: 3 to do")
    assert any(line.startswith("augment: 3/3 done in ") for line in err), err
    assert any(line.startswith("encode: 3/3 done in ") for line in err), err
    assert "\x1b[" not in result.stderr  # no terminal control codes in a log
    assert "3 newly encoded" in result.stdout and "to do" not in result.stdout

    again = runner.invoke(app, [*common, "build"], catch_exceptions=False)
    assert again.exit_code == 0, again.output
    assert {"augment: nothing to do", "encode: nothing to do"} <= set(again.stderr.splitlines()), again.stderr
