"""The gradcheck pytest plugin: a fixture, a marker, options and reports for checking backprop.

Registered through the ``pytest11`` entry point, so installing gradcheck is
enough; ``-p no:gradcheck`` turns it off. Loading it imports nothing heavy:
numpy, the checks and JAX load only when a test asks for them.

Settings (``gradcheck.settings``) come from ``@pytest.mark.gradcheck(...)``,
then ``--gradcheck-NAME``, then the ini key ``gradcheck_NAME``, then the default.
"""

from __future__ import annotations

from typing import Any, Callable

import pytest

from gradcheck import recorder
from gradcheck import settings as gc_settings

MARKER = "gradcheck"


class _State:
    """What one session has resolved and recorded."""

    def __init__(self, config: pytest.Config):
        self.config = config
        self.session = gc_settings.resolve(_layers(config))
        self.results: list[tuple[str, Any]] = []  # (test id, CheckResult)

    def for_item(self, item: pytest.Item) -> dict[str, Any]:
        marker = item.get_closest_marker(MARKER)
        layers = _layers(self.config)
        if marker is not None:
            if marker.args:
                raise pytest.UsageError(
                    f"gradcheck: {item.nodeid}: @pytest.mark.gradcheck takes keywords only "
                    f"({', '.join(gc_settings.MARKER_KEYS)}); got positional {marker.args!r}."
                )
            gc_settings.check_marker_keys(marker.kwargs, f"{item.nodeid}")
            layers = [(f"{item.nodeid}: @pytest.mark.gradcheck", marker.kwargs)] + layers
        return gc_settings.resolve(layers)


STATE = pytest.StashKey[_State]()


def _layers(config: pytest.Config) -> list[tuple[str, dict[str, Any]]]:
    cli = {s.name: config.getoption(f"gradcheck_{s.name}") for s in gc_settings.SETTINGS}
    ini = {s.name: config.getini(f"gradcheck_{s.name}") or None for s in gc_settings.SETTINGS}
    return [("command line", {k: v for k, v in cli.items()}), ("ini file", ini)]


def _usage(error: Exception) -> pytest.UsageError:
    return pytest.UsageError(f"gradcheck: {error}")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gradcheck", "checking manual backprop against the equations (gradcheck)")
    for setting in gc_settings.SETTINGS:
        if setting.flag:
            group.addoption(f"--gradcheck-{setting.option}", dest=f"gradcheck_{setting.name}", default=None,
                            action="store_true", help=setting.help)
        else:
            group.addoption(f"--gradcheck-{setting.option}", dest=f"gradcheck_{setting.name}", default=None,
                            metavar=setting.metavar, help=setting.help)
        parser.addini(f"gradcheck_{setting.name}", f"gradcheck: {setting.help}", default="")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}({', '.join(k + '=…' for k in gc_settings.MARKER_KEYS)}): settings for the gradcheck checks of this test",
    )
    try:
        config.stash[STATE] = _State(config)
    except ValueError as error:
        raise _usage(error) from None
    recorder.open_sink()


def pytest_report_header(config: pytest.Config) -> str:
    s = config.stash[STATE].session
    rtol = "by dtype" if s["rtol"] is None else f"{s['rtol']:g}"
    return (f"gradcheck: seed {s['seed']}, trials {s['trials']}, rtol {rtol}, witness {s['witness']} "
            f"(replay with --gradcheck-seed={s['seed']})")


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    state = config.stash[STATE]
    for item in items:
        if item.get_closest_marker(MARKER) is not None:
            try:
                state.for_item(item)
            except ValueError as error:
                raise _usage(error) from None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    recorder.drain()  # whatever ran outside a test is not this test's
    yield
    item.config.stash[STATE].results.extend((item.nodeid, result) for result in recorder.drain())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        mine = [r for test, r in item.config.stash[STATE].results if test == item.nodeid]
        if mine:
            report.sections.append(("gradcheck", "\n".join(r.headline() for r in mine)))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash[STATE]
    if not state.results:
        return
    results = [r for _, r in state.results]
    failed = sum(r.verdict.value == "fail" for r in results)
    undecided = sum(r.verdict.value == "inconclusive" for r in results)
    comparisons = sum(len(r.comparisons) for r in results)
    terminalreporter.write_sep("=", "gradcheck")
    terminalreporter.write_line(
        f"{len(results)} checks run ({comparisons} comparisons): {len(results) - failed - undecided} passed, "
        f"{failed} failed, {undecided} inconclusive; seed {state.session['seed']}"
    )
    for output in ("report", "html"):
        if state.session[output]:
            terminalreporter.write_line(f"{output} written to {state.session[output]}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = session.config.stash.get(STATE, None)
    if state is None:
        return
    if state.session["report"]:
        from gradcheck.report import write_report

        write_report(state.session["report"], state.results, state.session)
    if state.session["html"]:
        from gradcheck import html

        html.write(state.session["html"], state.results, title=f"pytest, seed {state.session['seed']}",
                   replay=lambda test, result: f"pytest '{test}' --gradcheck-seed={result.seed}")


class Gradcheck:
    """The ``gradcheck`` fixture: every check of ``gradcheck.testing``, with this test's settings applied.

    Each method runs its check and raises ``GradientMismatch`` (an
    ``AssertionError``) with the report when a gradient is wrong.
    """

    def __init__(self, settings: dict[str, Any]):
        self.settings = {k: v for k, v in settings.items() if k not in gc_settings.OUTPUTS}

    def _run(self, name: str) -> Callable[..., Any]:
        def call(*args: Any, **options: Any) -> Any:
            __tracebackhide__ = True
            from gradcheck import testing

            return getattr(testing, f"assert_{name}")(*args, **{**self.settings, **options})
        return call

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name in ("two_layer_grads", "mlp_grads", "nn_epoch", "softmax_regression_epoch", "softmax_loss",
                    "layers", "modules", "function", "module", "linear_classifiers", "two_layer_net", "fc_net",
                    "cnn", "needle"):
            return self._run(name)
        raise AttributeError(f"the gradcheck fixture has no check {name!r}")


@pytest.fixture
def gradcheck(request: pytest.FixtureRequest) -> Gradcheck:
    """Checks of your backprop with this session's and this test's gradcheck settings."""
    return Gradcheck(request.config.stash[STATE].for_item(request.node))
