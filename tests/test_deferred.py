"""iiniit_auth.deferred: writes kept for the end of the request."""

import logging

from iiniit_auth.deferred import after_request, run_deferred


def test_kept_writes_run_in_order_once_the_request_has_finished():
    ran = []
    after_request(lambda: ran.append("first"))
    after_request(lambda: ran.append("second"))
    assert ran == []

    run_deferred()
    run_deferred()  # a second end of request finds nothing left

    assert ran == ["first", "second"]


def test_a_failing_write_is_logged_and_the_others_still_run(caplog):
    ran = []

    def failing():
        raise RuntimeError("the database went away")

    after_request(failing)
    after_request(lambda: ran.append("after"))
    with caplog.at_level(logging.ERROR, logger="iiniit_auth.deferred"):
        run_deferred()

    assert ran == ["after"]
    assert "A write kept for the end of the request failed." in caplog.text
