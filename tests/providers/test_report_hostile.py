"""A polled report of an unexpected shape (product.md "What bad input gets"): the rows that are
not report rows are skipped and the good ones still count; nothing crashes the poll."""

from types import SimpleNamespace

from providers.netgsm import NetgsmConnector


def test_netgsm_report_rows_of_unexpected_shapes_are_skipped(monkeypatch):
    rows = [
        5,
        None,
        ["1", "2"],
        {"jobid": ["j"], "number": {"n": 1}, "status": [1]},
        {"jobid": "j1", "number": "5320000005", "status": 1, "errorCode": 0},
        {"jobid": "j1", "number": "5320000001", "status": "3\u0000", "errorCode": ["104"]},
    ]
    answer = {"code": "00", "jobs": rows}
    monkeypatch.setattr("providers.netgsm.post", lambda *a, **k: SimpleNamespace(status_code=200, json=lambda: answer))
    connector = NetgsmConnector(settings={"usercode": "u"}, credentials={"password": "p"})
    reports = connector.poll_reports(messages=[("k5", "j1/5320000005"), ("k1", "j1/5320000001")])
    expected = [("j1/5320000005", "delivered"), ("j1/5320000001", "rejected")]
    assert [(r.provider_id, r.status) for r in reports] == expected
    assert "\x00" not in reports[1].raw_status


def test_netgsm_jobs_that_are_not_a_list_are_no_reports(monkeypatch):
    answer = {"code": "00", "jobs": {"jobid": "j1"}}
    monkeypatch.setattr("providers.netgsm.post", lambda *a, **k: SimpleNamespace(status_code=200, json=lambda: answer))
    connector = NetgsmConnector(settings={"usercode": "u"}, credentials={"password": "p"})
    assert connector.poll_reports(messages=[("k5", "j1/5320000005")]) == []
