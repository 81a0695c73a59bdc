"""The guard every page and the Layers table's fragment run under: a message, never a traceback."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _app(error: str) -> AppTest:
    def script(error: str) -> None:
        import streamlit as st

        from dashboard.components.guard import errors_shown
        from engine_core.errors import LayerLensError

        with errors_shown("the test body"):
            st.write("before")
            if error == "layerlens":
                raise LayerLensError("The run is gone.", "Import it again.")
            if error == "bug":
                raise KeyError("avg_ms")
        st.write("after")

    return AppTest.from_function(script, args=(error,), default_timeout=60).run()


def test_an_error_a_user_can_act_on_is_its_message():
    app = _app("layerlens")
    assert not app.exception
    from engine_core.errors import LayerLensError

    assert [e.value for e in app.error] == [str(LayerLensError("The run is gone.", "Import it again."))]
    assert [m.value for m in app.markdown] == ["before", "after"]


def test_a_bug_is_one_line_and_the_page_goes_on():
    app = _app("bug")
    assert not app.exception
    assert app.error[0].value.startswith("Something went wrong on this page (KeyError)")
    assert [m.value for m in app.markdown] == ["before", "after"]


def test_no_error_shows_nothing():
    app = _app("none")
    assert not app.exception and not app.error
